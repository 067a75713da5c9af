package outbound_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// openStore opens a fresh SQLite store on clk.
func openStore(t *testing.T, clk *testenv.Clock) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "earshot.db"), &store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureSource(ctx, "feedback", "imap"); err != nil {
		t.Fatal(err)
	}
	return s
}

// enqueue stores a processed item with msgs in its outbox and returns the
// item's id.
func enqueue(t *testing.T, s *store.Store, msgs ...model.OutboxMessage) int64 {
	t.Helper()
	return enqueueFor(t, s, []byte("Subject: x\r\n\r\nx\r\n"), msgs...)
}

// enqueueFor is enqueue for an item of the given raw message.
func enqueueFor(t *testing.T, s *store.Store, raw []byte, msgs ...model.OutboxMessage) int64 {
	t.Helper()
	ctx := context.Background()
	key := unique()
	if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: []model.RawItem{{
		SourceKey: key, Kind: "email", ContentHash: key, Raw: raw, Mailbox: "feedback@example.test",
	}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	if err := s.Complete(ctx, got[0].ID, "w", model.Processed{Outbox: msgs}); err != nil {
		t.Fatal(err)
	}
	return got[0].ID
}

// unique returns a random token for recipients and subjects in the shared
// Mailpit.
func unique() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sink is an in-process go-smtp server whose answer to RCPT is scripted.
type sink struct {
	mu     sync.Mutex
	rcpt   []error // answers to successive RCPT commands; nil accepts
	calls  int
	got    [][]byte
	logins []string
	// mechs, when set, are the only AUTH mechanisms offered.
	mechs []string
	// conns are the connections in the order they came; closed counts
	// sessions that ended (QUIT or a dropped connection).
	conns  []*smtp.Conn
	closed int
}

func (b *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.mu.Lock()
	b.conns = append(b.conns, c)
	b.mu.Unlock()
	if b.mechs != nil {
		return &authSession{sinkSession{b: b}}, nil
	}
	return &sinkSession{b: b}, nil
}

type sinkSession struct{ b *sink }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.calls++
	if len(s.b.rcpt) == 0 {
		return nil
	}
	err := s.b.rcpt[0]
	s.b.rcpt = s.b.rcpt[1:]
	return err
}
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.b.mu.Lock()
	s.b.got = append(s.b.got, b)
	s.b.mu.Unlock()
	return err
}
func (s *sinkSession) Reset() {}
func (s *sinkSession) Logout() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.closed++
	return nil
}

// counts returns how many connections, messages and ended sessions the sink saw.
func (b *sink) counts() (conns, msgs, closed int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns), len(b.got), b.closed
}

// authSession offers b.mechs and records who logged in with which
// mechanism ("PLAIN:user:pass").
type authSession struct{ sinkSession }

func (s *authSession) AuthMechanisms() []string { return s.b.mechs }
func (s *authSession) Auth(mech string) (sasl.Server, error) {
	record := func(user, pass string) error {
		s.b.mu.Lock()
		defer s.b.mu.Unlock()
		s.b.logins = append(s.b.logins, mech+":"+user+":"+pass)
		if pass != "secret" {
			return errors.New("bad password")
		}
		return nil
	}
	if mech == sasl.Plain {
		return sasl.NewPlainServer(func(_, user, pass string) error { return record(user, pass) }), nil
	}
	return &loginServer{done: record}, nil
}

// loginServer is the server side of the LOGIN mechanism, which go-sasl
// only implements as a client: it asks for the user name, then the
// password.
type loginServer struct {
	user string
	step int
	done func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil {
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	}
	return nil, true, l.done(l.user, string(resp))
}

// startSink serves b on a loopback port and returns its port.
func startSink(t *testing.T, b *sink) int {
	t.Helper()
	return serveSink(t, b, nil)
}

// serveSink is startSink with the server and its listener set up by
// setup, when it is not nil.
func serveSink(t *testing.T, b *sink, setup func(*smtp.Server, net.Listener) net.Listener) int {
	t.Helper()
	srv := smtp.NewServer(b)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if setup != nil {
		ln = setup(srv, ln)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return port
}

// mailpitRaw waits for the one message to rcpt in Mailpit and returns its
// raw source and its JSON summary.
func mailpitRaw(t *testing.T, base, rcpt string) ([]byte, map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) []byte {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("mailpit %s: %d %s %v", path, resp.StatusCode, b, err)
		}
		return b
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var res struct {
			Messages []struct{ ID string }
		}
		if err := json.Unmarshal(get("/api/v1/search?query="+url.QueryEscape("to:"+rcpt)), &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) > 1 {
			t.Fatalf("mailpit holds %d messages to %s, want 1", len(res.Messages), rcpt)
		}
		if len(res.Messages) == 1 {
			var summary map[string]any
			if err := json.Unmarshal(get("/api/v1/message/"+res.Messages[0].ID), &summary); err != nil {
				t.Fatal(err)
			}
			return get(fmt.Sprintf("/api/v1/message/%s/raw", res.Messages[0].ID)), summary
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message to %s reached mailpit", rcpt)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
