package imap

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/internal/testenv"
)

const (
	feedbackUser = "feedback@example.test"
	intelUser    = "intel@example.test"
)

// dovecotMessages returns n distinct messages for a Dovecot folder.
func dovecotMessages(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = message(from + i)
	}
	return out
}

func TestDovecotBacklogAndRestart(t *testing.T) {
	t.Parallel()
	d := testenv.Dovecot(t)
	st := openPostgres(t)
	uids := appendMany(t, d.Addr, feedbackUser, d.Password(feedbackUser), "INBOX", dovecotMessages(0, 120))
	validity, _ := d.SelectInfo(t, feedbackUser, "INBOX")
	cfg := loopbackConfig(t, d.Addr, feedbackUser, d.Password(feedbackUser))
	cfg.BatchSize = 50
	ctx := context.Background()

	first := newSource(t, st, cfg, nil)
	res, err := first.SyncOnce(ctx)
	if err != nil || res.Inserted != 120 {
		t.Fatalf("backlog sync: %+v, %v", res, err)
	}
	if want := (Cursor{UIDValidity: validity, LastUID: uids[119]}); storedCursor(t, st, "feedback") != want {
		t.Fatalf("cursor %+v, want %+v", storedCursor(t, st, "feedback"), want)
	}
	if fs := inspect(t, d.Addr, feedbackUser, d.Password(feedbackUser), "INBOX"); len(fs.uids) != 120 || len(fs.seen) != 0 {
		t.Fatalf("keep mode: server has %d messages, %d seen; want 120, none seen", len(fs.uids), len(fs.seen))
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := newSource(t, st, cfg, nil)
	if res, err := second.SyncOnce(ctx); err != nil || res.Fetched != 0 {
		t.Fatalf("restart sync: %+v, %v; want nothing fetched", res, err)
	}
	appendMany(t, d.Addr, feedbackUser, d.Password(feedbackUser), "INBOX", dovecotMessages(120, 1))
	if res, err := second.SyncOnce(ctx); err != nil || res.Inserted != 1 {
		t.Fatalf("sync after one more: %+v, %v", res, err)
	}

	// The same message in a second mailbox is linked, not stored twice.
	appendMany(t, d.Addr, intelUser, d.Password(intelUser), "INBOX", dovecotMessages(5, 1))
	intel, err := New("intel", intelUser, loopbackConfig(t, d.Addr, intelUser, d.Password(intelUser)), st, &Options{Options: source.Options{Logger: testLogger(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = intel.Close() })
	if res, err := intel.SyncOnce(ctx); err != nil || res.Linked != 1 || res.Inserted != 0 {
		t.Fatalf("intel sync: %+v, %v; want the message linked", res, err)
	}
	if n := countItems(t, st); n != 121 {
		t.Fatalf("%d items, want 121", n)
	}
}

func TestDovecotIdleAndReconnect(t *testing.T) {
	t.Parallel()
	d := testenv.Dovecot(t)
	st := openPostgres(t)
	pw := d.Password(feedbackUser)
	reg := prometheus.NewRegistry()
	s := newSource(t, st, loopbackConfig(t, d.Addr, feedbackUser, pw), &Options{Registerer: reg})
	runSource(t, s)
	eventually(t, 5*time.Second, "idle", func() bool { return s.Status().State == source.StateIdle })
	if testutil.ToFloat64(s.metrics.connected) != 1 {
		t.Fatal("connected metric is not 1")
	}

	start := time.Now()
	appendMany(t, d.Addr, feedbackUser, pw, "INBOX", dovecotMessages(0, 1))
	eventually(t, 10*time.Second, "idle delivery", func() bool { return countItems(t, st) == 1 })
	t.Logf("idle delivery took %s", time.Since(start).Round(time.Millisecond))

	d.Stop(t)
	eventually(t, 10*time.Second, "disconnect noticed", func() bool { return !s.Status().Connected })
	d.Start(t)
	start = time.Now()
	appendMany(t, d.Addr, feedbackUser, pw, "INBOX", dovecotMessages(1, 2))
	eventually(t, 15*time.Second, "ingest after restart", func() bool { return countItems(t, st) == 3 })
	t.Logf("ingest after the server restart took %s", time.Since(start).Round(time.Millisecond))
	eventually(t, 5*time.Second, "idle again", func() bool { return s.Status().State == source.StateIdle })
	if n := countReceipts(t, st, "feedback"); n != 3 {
		t.Fatalf("%d receipts, want 3", n)
	}
	if testutil.ToFloat64(s.metrics.errors) < 1 {
		t.Fatal("the lost connection was not counted as an error")
	}
}

func TestDovecotWrongPassword(t *testing.T) {
	t.Parallel()
	d := testenv.Dovecot(t)
	st := openPostgres(t)
	reg := prometheus.NewRegistry()
	s := newSource(t, st, loopbackConfig(t, d.Addr, feedbackUser, "not-the-password"),
		&Options{Options: source.Options{DisabledRetry: time.Hour}, Registerer: reg})
	runSource(t, s)
	eventually(t, 10*time.Second, "disabled", func() bool { return s.Status().State == source.StateDisabled })
	src, err := st.Source(context.Background(), "feedback")
	if err != nil || src.DisabledReason != "authentication failed" || !strings.Contains(src.LastError, "AUTHENTICATIONFAILED") {
		t.Fatalf("stored source %+v, %v; want disabled by authentication failure", src, err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := testutil.ToFloat64(s.metrics.errors); n != 1 {
		t.Fatalf("%v login attempts, want 1 while disabled", n)
	}
}

func TestDovecotAfterIngest(t *testing.T) {
	t.Parallel()
	d := testenv.Dovecot(t)
	st := openPostgres(t)
	ctx := context.Background()

	movePw := d.Password(feedbackUser)
	appendMany(t, d.Addr, feedbackUser, movePw, "INBOX", dovecotMessages(0, 25))
	moveCfg := loopbackConfig(t, d.Addr, feedbackUser, movePw)
	moveCfg.AfterIngest, moveCfg.MoveTo, moveCfg.BatchSize = AfterMove, "Earshot", 10
	mover := newSource(t, st, moveCfg, nil)
	if res, err := mover.SyncOnce(ctx); err != nil || res.Inserted != 25 || res.AfterIngest != 25 {
		t.Fatalf("move sync: %+v, %v", res, err)
	}
	if fs := inspect(t, d.Addr, feedbackUser, movePw, "INBOX"); len(fs.uids) != 0 {
		t.Fatalf("INBOX keeps %d messages after move", len(fs.uids))
	}
	if fs := inspect(t, d.Addr, feedbackUser, movePw, "Earshot"); len(fs.uids) != 25 || len(fs.seen) != 0 {
		t.Fatalf("Earshot has %d messages (%d seen), want 25 unseen", len(fs.uids), len(fs.seen))
	}
	// New mail after the move still arrives: the cursor is past the moved UIDs.
	appendMany(t, d.Addr, feedbackUser, movePw, "INBOX", dovecotMessages(100, 1))
	if res, err := mover.SyncOnce(ctx); err != nil || res.Inserted != 1 || res.AfterIngest != 1 {
		t.Fatalf("second move sync: %+v, %v", res, err)
	}

	seenPw := d.Password(intelUser)
	appendMany(t, d.Addr, intelUser, seenPw, "INBOX", dovecotMessages(200, 8))
	seenCfg := loopbackConfig(t, d.Addr, intelUser, seenPw)
	seenCfg.AfterIngest = AfterSeen
	flagger, err := New("intel", intelUser, seenCfg, st, &Options{Options: source.Options{Logger: testLogger(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flagger.Close() })
	if res, err := flagger.SyncOnce(ctx); err != nil || res.Inserted != 8 || res.AfterIngest != 8 {
		t.Fatalf("seen sync: %+v, %v", res, err)
	}
	if fs := inspect(t, d.Addr, intelUser, seenPw, "INBOX"); len(fs.uids) != 8 || len(fs.seen) != 8 {
		t.Fatalf("intel INBOX has %d messages, %d seen; want 8 seen", len(fs.uids), len(fs.seen))
	}
	if n := countItems(t, st); n != 34 {
		t.Fatalf("%d items, want 34", n)
	}
}

func TestDovecotUIDValidityReset(t *testing.T) {
	t.Parallel()
	d := testenv.Dovecot(t)
	st := openPostgres(t)
	pw := d.Password(feedbackUser)
	appendMany(t, d.Addr, feedbackUser, pw, "INBOX", dovecotMessages(0, 6))
	s := newSource(t, st, loopbackConfig(t, d.Addr, feedbackUser, pw), nil)
	ctx := context.Background()
	if res, err := s.SyncOnce(ctx); err != nil || res.Inserted != 6 {
		t.Fatalf("first sync: %+v, %v", res, err)
	}
	old := storedCursor(t, st, "feedback")

	d.ResetUIDValidity(t, feedbackUser, "INBOX")
	// The server drops sessions that had the folder selected; the source
	// reconnects on the next sync.
	var res SyncResult
	var err error
	for range 2 {
		if res, err = s.SyncOnce(ctx); err == nil {
			break
		}
		t.Logf("sync after reset: %v", err)
	}
	if err != nil || !res.UIDValidityChanged || res.Linked != 6 || res.Inserted != 0 {
		t.Fatalf("sync after reset: %+v, %v; want 6 linked, none inserted", res, err)
	}
	now := storedCursor(t, st, "feedback")
	if now.UIDValidity == old.UIDValidity || now.LastUID != 6 {
		t.Fatalf("cursor %+v after reset (was %+v)", now, old)
	}
	if n := countItems(t, st); n != 6 {
		t.Fatalf("%d items after the re-scan, want 6 (no duplicates)", n)
	}
	if n := countReceipts(t, st, "feedback"); n != 12 {
		t.Fatalf("%d receipts, want 12 (old and new keys)", n)
	}
	appendMany(t, d.Addr, feedbackUser, pw, "INBOX", dovecotMessages(6, 1))
	if res, err := s.SyncOnce(ctx); err != nil || res.Inserted != 1 {
		t.Fatalf("sync after a new message: %+v, %v", res, err)
	}
	if n := countItems(t, st); n != 7 {
		t.Fatalf("%d items, want 7", n)
	}
}
