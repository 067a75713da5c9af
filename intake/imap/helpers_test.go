package imap

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/store"
)

const (
	memUser = "feedback@example.test"
	memPass = "feedback-pw"
)

// openSQLite opens a migrated store in a temporary SQLite file.
func openSQLite(t testing.TB) *store.Store {
	t.Helper()
	return openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "earshot.db"))
}

// openPostgres opens a migrated store in a fresh PostgreSQL schema.
func openPostgres(t testing.TB) *store.Store {
	t.Helper()
	return openStore(t, testenv.Postgres(t))
}

func openStore(t testing.TB, url string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// count runs a count(*) query on the store.
func count(t testing.TB, st *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().GetContext(context.Background(), &n, st.DB().Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func countItems(t testing.TB, st *store.Store) int {
	return count(t, st, `select count(*) from items`)
}

func countReceipts(t testing.TB, st *store.Store, source string) int {
	return count(t, st, `select count(*) from receipts r join sources s on s.id = r.source_id where s.name = ?`, source)
}

// storedCursor reads a source's cursor from the store.
func storedCursor(t testing.TB, st *store.Store, source string) Cursor {
	t.Helper()
	raw, err := st.SourceCursor(context.Background(), source)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCursor(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// message returns a small CRLF test message, distinct for each i.
func message(i int) []byte {
	return []byte(fmt.Sprintf("From: Rep %d <rep%d@example.test>\r\nTo: feedback@example.test\r\n"+
		"Subject: Field note %d\r\nMessage-ID: <note-%d@example.test>\r\n"+
		"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Customer %d asked about the Acme discount.\r\n", i, i, i, i, i))
}

// testLogger writes the source's log lines to the test output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// loopbackConfig is a plaintext configuration for a test server at addr.
func loopbackConfig(t testing.TB, addr, user, pass string) Config {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return Config{Host: host, Port: p, TLS: TLSNone, Username: user, Password: pass}
}

// newSource builds a source named "feedback" with fast retries.
func newSource(t testing.TB, st Sink, cfg Config, opts *Options) *Source {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = 50*time.Millisecond, 500*time.Millisecond
	}
	s, err := New("feedback", cfg.Username, cfg, st, &o)
	if err != nil {
		t.Fatalf("new source: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// runSource runs s.Run until the test ends.
func runSource(t testing.TB, s *Source) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("run did not return 10 s after cancel")
		}
	})
}

// eventually polls cond every 10 ms until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// memIMAP is go-imap's in-memory server with one user and an INBOX.
type memIMAP struct {
	addr string
	user *imapmemserver.User
}

// startMemIMAP serves an in-memory IMAP4rev1 server with extra caps;
// wrap, when set, replaces each session (e.g. to add SASL mechanisms).
func startMemIMAP(t testing.TB, caps []goimap.Cap, wrap func(imapserver.Session) imapserver.Session) *memIMAP {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(memUser, memPass)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	set := goimap.CapSet{goimap.CapIMAP4rev1: {}}
	for _, c := range caps {
		set[c] = struct{}{}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			sess := mem.NewSession()
			if wrap != nil {
				sess = wrap(sess)
			}
			return sess, nil, nil
		},
		Caps:         set,
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &memIMAP{addr: ln.Addr().String(), user: u}
}

// add appends raw to folder with an INTERNALDATE.
func (m *memIMAP) add(t testing.TB, folder string, raw []byte, date time.Time) {
	t.Helper()
	if _, err := m.user.Append(folder, bytes.NewReader(raw), &goimap.AppendOptions{Time: date}); err != nil {
		t.Fatalf("append: %v", err)
	}
}

// folderState is what a test checks on the server: UIDs and \Seen flags.
type folderState struct {
	uids []goimap.UID
	seen map[goimap.UID]bool
}

// inspect logs in to addr and reads folder's messages and flags without
// changing them.
func inspect(t testing.TB, addr, user, pass, folder string) folderState {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatalf("inspect: dial: %v", err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("inspect: login: %v", err)
	}
	sel, err := c.Select(folder, &goimap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("inspect: select %s: %v", folder, err)
	}
	st := folderState{seen: map[goimap.UID]bool{}}
	if sel.NumMessages == 0 {
		return st
	}
	var all goimap.SeqSet
	all.AddRange(1, 0)
	msgs, err := c.Fetch(all, &goimap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatalf("inspect: fetch: %v", err)
	}
	for _, m := range msgs {
		st.uids = append(st.uids, m.UID)
		for _, f := range m.Flags {
			if f == goimap.FlagSeen {
				st.seen[m.UID] = true
			}
		}
	}
	_ = c.Logout().Wait()
	return st
}

// appendMany appends messages over one connection and returns their UIDs.
func appendMany(t testing.TB, addr, user, pass, folder string, msgs [][]byte) []uint32 {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatalf("append: dial: %v", err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("append: login: %v", err)
	}
	uids := make([]uint32, 0, len(msgs))
	for i, raw := range msgs {
		cmd := c.Append(folder, int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		data, err := cmd.Wait()
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		uids = append(uids, uint32(data.UID))
	}
	_ = c.Logout().Wait()
	return uids
}
