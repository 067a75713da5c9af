package imap

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// shortServer wraps go-imap's in-memory server so that BODY[] of chosen
// messages comes back shorter than the RFC822.SIZE the server announces,
// as a broken server does: "BODY[] {0}" for a 3,153-byte message. Other
// commands reach the in-memory server unchanged.
type shortServer struct {
	mu     sync.Mutex
	raw    map[goimap.UID][]byte // UID -> message; the sequence number is the UID
	cut    map[goimap.UID]int    // UID -> bytes of BODY[] sent, -1 for no BODY[] at all
	served map[goimap.UID]int    // UID -> BODY[] requests answered
}

// session wraps one in-memory session.
func (s *shortServer) session(inner imapserver.Session) imapserver.Session {
	return &shortSession{Session: inner, srv: s}
}

// heal makes the server answer every message whole from now on.
func (s *shortServer) heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = map[goimap.UID]int{}
}

func (s *shortServer) requests(uid goimap.UID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served[uid]
}

type shortSession struct {
	imapserver.Session
	srv *shortServer
}

// Fetch answers body-section fetches itself, cutting the chosen messages,
// and passes every other fetch to the in-memory server.
func (ss *shortSession) Fetch(w *imapserver.FetchWriter, numSet goimap.NumSet, options *goimap.FetchOptions) error {
	if len(options.BodySection) == 0 {
		return ss.Session.Fetch(w, numSet, options)
	}
	set, ok := numSet.(goimap.UIDSet)
	if !ok {
		return fmt.Errorf("short server: only UID FETCH of body sections")
	}
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	for uid := goimap.UID(1); int(uid) <= len(s.raw); uid++ {
		if !set.Contains(uid) {
			continue
		}
		s.served[uid]++
		rw := w.CreateMessage(uint32(uid))
		rw.WriteUID(uid)
		data := s.raw[uid]
		n, cut := s.cut[uid]
		if !cut || n >= 0 {
			if cut {
				data = data[:n]
			}
			for _, bs := range options.BodySection {
				wc := rw.WriteBodySection(bs, int64(len(data)))
				if _, err := wc.Write(data); err != nil {
					return err
				}
				if err := wc.Close(); err != nil {
					return err
				}
			}
		}
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// A server that sends a message shorter than the size it announced
// (RFC822.SIZE), or without its body, never has it stored as the message:
// it is fetched again, then the sync stops before it with a source error
// naming its UID. The messages before it are stored and flagged; it and
// the ones after it stay unseen on the server, and the cursor stays before
// it, so a later sync reads them once the server sends them whole.
func TestShortReadNeverStored(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  int
	}{
		{"BODY[] {0}", 0},
		{"half the message", 60},
		{"no BODY[] in the answer", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &shortServer{raw: map[goimap.UID][]byte{}, cut: map[goimap.UID]int{3: tc.cut}, served: map[goimap.UID]int{}}
			mem := startMemIMAP(t, nil, srv.session)
			for i := 1; i <= 5; i++ {
				mem.add(t, "INBOX", message(i), time.Now())
				srv.raw[goimap.UID(i)] = message(i)
			}
			st := openPostgres(t)
			cfg := loopbackConfig(t, mem.addr, memUser, memPass)
			cfg.AfterIngest = AfterSeen
			s := newSource(t, st, cfg, nil)
			ctx := context.Background()

			res, err := s.SyncOnce(ctx)
			if err == nil || !strings.Contains(err.Error(), "uid 3:") {
				t.Fatalf("sync: %+v, %v; want an error naming uid 3", res, err)
			}
			t.Logf("sync: %v", err)
			if n := srv.requests(3); n != readAttempts {
				t.Errorf("uid 3 fetched %d times, want %d", n, readAttempts)
			}
			var stored []string
			if err := st.DB().SelectContext(ctx, &stored, `select source_key from receipts order by source_key`); err != nil {
				t.Fatal(err)
			}
			if strings.Join(stored, " ") != "1:1 1:2" {
				t.Errorf("stored %q, want only uids 1 and 2", stored)
			}
			if n := count(t, st, `select count(*) from items where raw_size < ?`, len(message(1))); n != 0 {
				t.Errorf("%d items shorter than a whole message", n)
			}
			if c := storedCursor(t, st, "feedback"); c.LastUID != 2 {
				t.Errorf("cursor %+v, want last uid 2, before the message sent short", c)
			}
			fs := inspect(t, mem.addr, memUser, memPass, "INBOX")
			if len(fs.uids) != 5 || !fs.seen[1] || !fs.seen[2] || fs.seen[3] || fs.seen[4] || fs.seen[5] {
				t.Errorf("server has uids %v seen %v; want all 5, only 1 and 2 seen", fs.uids, fs.seen)
			}
			var lastError string
			if err := st.DB().GetContext(ctx, &lastError, `select last_error from sources where name = 'feedback'`); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(lastError, "uid 3:") || !strings.Contains(s.Status().LastError, "uid 3:") {
				t.Errorf("source error %q, status %q; want both to name uid 3", lastError, s.Status().LastError)
			}

			srv.heal()
			res, err = s.SyncOnce(ctx)
			if err != nil || res.Inserted != 3 {
				t.Fatalf("sync once the server sends it whole: %+v, %v; want 3 stored", res, err)
			}
			var raw []byte
			if err := st.DB().GetContext(ctx, &raw, st.DB().Rebind(`select i.raw from items i join receipts r on r.item_id = i.id
				where r.source_key = '1:3'`)); err != nil || string(raw) != string(message(3)) {
				t.Errorf("uid 3 stored as %q (%v), want the whole message", raw, err)
			}
			if fs := inspect(t, mem.addr, memUser, memPass, "INBOX"); len(fs.seen) != 5 {
				t.Errorf("%d of 5 seen after the second sync", len(fs.seen))
			}
			if err := st.DB().GetContext(ctx, &lastError, `select last_error from sources where name = 'feedback'`); err != nil || lastError != "" {
				t.Errorf("source error %q (%v) after a clean sync", lastError, err)
			}
		})
	}
}

// Servers may send more than they announce (go-imap's in-memory server
// counts a bare-LF message before converting it to CRLF; some servers
// leave fields they add out of RFC822.SIZE). Nothing is missing then: the
// message is stored whole.
func TestLongerThanAnnouncedIsStored(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	lf := []byte("From: rep@example.test\nSubject: LF only\nMessage-ID: <lf@example.test>\n\nAcme again.\n")
	srv.add(t, "INBOX", lf, time.Now())
	st := openSQLite(t)
	s := newSource(t, st, loopbackConfig(t, srv.addr, memUser, memPass), nil)
	res, err := s.SyncOnce(context.Background())
	if err != nil || res.Inserted != 1 || res.Truncated != 0 {
		t.Fatalf("sync: %+v, %v; want the message stored whole", res, err)
	}
	var it struct {
		Raw     []byte `db:"raw"`
		RawSize int64  `db:"raw_size"`
	}
	if err := st.DB().Get(&it, `select raw, raw_size from items`); err != nil {
		t.Fatal(err)
	}
	if it.RawSize <= int64(len(lf)) || !strings.Contains(string(it.Raw), "Acme again.") {
		t.Fatalf("stored %d bytes %q; want the CRLF form, longer than the %d announced", it.RawSize, it.Raw, len(lf))
	}
}
