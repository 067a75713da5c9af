package imap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/model"
)

func TestBacklogIngest(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	date := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	for i := range 250 {
		srv.add(t, "INBOX", message(i), date.Add(time.Duration(i)*time.Minute))
	}
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	cfg.BatchSize = 100
	reg := prometheus.NewRegistry()
	s := newSource(t, st, cfg, &Options{Registerer: reg})

	res, err := s.SyncOnce(context.Background())
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if res.Fetched != 250 || res.Inserted != 250 || res.Linked != 0 || res.Repeated != 0 {
		t.Fatalf("result %+v, want 250 fetched and inserted", res)
	}
	if want := (Cursor{UIDValidity: 1, LastUID: 250}); res.Cursor != want || storedCursor(t, st, "feedback") != want {
		t.Fatalf("cursor %+v, stored %+v, want %+v", res.Cursor, storedCursor(t, st, "feedback"), want)
	}
	if n := countItems(t, st); n != 250 {
		t.Fatalf("%d items, want 250", n)
	}
	if n := countReceipts(t, st, "feedback"); n != 250 {
		t.Fatalf("%d receipts, want 250", n)
	}
	if got := testutil.ToFloat64(s.metrics.ingested); got != 250 {
		t.Fatalf("ingested metric %v, want 250", got)
	}
	if got := testutil.ToFloat64(s.metrics.lastSuccess); got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Fatalf("last success metric %v is not recent", got)
	}

	var it struct {
		Raw        []byte    `db:"raw"`
		Meta       string    `db:"meta"`
		ReceivedAt time.Time `db:"received_at"`
		Truncated  bool      `db:"raw_truncated"`
		Mailbox    string    `db:"mailbox"`
		Key        string    `db:"source_key"`
	}
	err = st.DB().Get(&it, `select i.raw, i.meta, i.received_at, i.raw_truncated, r.mailbox, r.source_key
		from items i join receipts r on r.item_id = i.id where r.source_key = '1:7'`)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(it.Raw, message(6)) || it.Truncated {
		t.Fatalf("uid 7 stored as %q (truncated %v), want message 6 whole", it.Raw, it.Truncated)
	}
	if !it.ReceivedAt.Equal(date.Add(6 * time.Minute)) {
		t.Fatalf("received at %v, want the INTERNALDATE %v", it.ReceivedAt, date.Add(6*time.Minute))
	}
	if it.Mailbox != memUser {
		t.Fatalf("receipt mailbox %q, want %q", it.Mailbox, memUser)
	}
	var m itemMeta
	if err := json.Unmarshal([]byte(it.Meta), &m); err != nil || m.UID != 7 || m.UIDValidity != 1 || m.Folder != "INBOX" {
		t.Fatalf("meta %s (%v)", it.Meta, err)
	}
	// keep mode changes nothing upstream, and BODY.PEEK sets no \Seen.
	if fs := inspect(t, srv.addr, memUser, memPass, "INBOX"); len(fs.uids) != 250 || len(fs.seen) != 0 {
		t.Fatalf("server has %d messages, %d seen; want 250 and none seen", len(fs.uids), len(fs.seen))
	}
}

func TestRestartFromCursor(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	for i := range 5 {
		srv.add(t, "INBOX", message(i), time.Now())
	}
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	ctx := context.Background()

	first := newSource(t, st, cfg, nil)
	if res, err := first.SyncOnce(ctx); err != nil || res.Inserted != 5 {
		t.Fatalf("first sync: %+v, %v", res, err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	// A new source on the same store starts from the stored cursor.
	second := newSource(t, st, cfg, nil)
	res, err := second.SyncOnce(ctx)
	if err != nil || res.Fetched != 0 || res.Repeated != 0 {
		t.Fatalf("restart sync: %+v, %v; want nothing fetched", res, err)
	}
	srv.add(t, "INBOX", message(5), time.Now())
	srv.add(t, "INBOX", message(6), time.Now())
	res, err = second.SyncOnce(ctx)
	if err != nil || res.Fetched != 2 || res.Inserted != 2 || res.Cursor.LastUID != 7 {
		t.Fatalf("sync after two new: %+v, %v", res, err)
	}
	if n := countItems(t, st); n != 7 {
		t.Fatalf("%d items, want 7", n)
	}
}

// After the last message is stored, "UID 6:*" still names message 5 (RFC
// 3501: * is the highest UID); the source must not fetch it again.
func TestUIDRangeNamesLastMessage(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	for i := range 5 {
		srv.add(t, "INBOX", message(i), time.Now())
	}
	st := openSQLite(t)
	s := newSource(t, st, loopbackConfig(t, srv.addr, memUser, memPass), nil)
	ctx := context.Background()
	if _, err := s.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, err := newMessages(s.sess.c, 5)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("new messages above uid 5: %+v, %v; want none", msgs, err)
	}
	res, err := s.SyncOnce(ctx)
	if err != nil || res.Fetched != 0 || res.Repeated != 0 {
		t.Fatalf("second sync %+v, %v; want nothing fetched", res, err)
	}
}

func TestEmptyFolder(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	st := openSQLite(t)
	s := newSource(t, st, loopbackConfig(t, srv.addr, memUser, memPass), nil)
	ctx := context.Background()
	res, err := s.SyncOnce(ctx)
	if err != nil || res.Fetched != 0 {
		t.Fatalf("sync of empty folder: %+v, %v", res, err)
	}
	if c := storedCursor(t, st, "feedback"); c != (Cursor{UIDValidity: 1}) {
		t.Fatalf("cursor %+v, want uidvalidity 1 remembered", c)
	}
	srv.add(t, "INBOX", message(1), time.Now())
	if res, err := s.SyncOnce(ctx); err != nil || res.Inserted != 1 {
		t.Fatalf("sync after one message: %+v, %v", res, err)
	}
}

func TestAfterIngestSeen(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	for i := range 12 {
		srv.add(t, "INBOX", message(i), time.Now())
	}
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	cfg.AfterIngest, cfg.BatchSize = AfterSeen, 5
	s := newSource(t, st, cfg, nil)
	res, err := s.SyncOnce(context.Background())
	if err != nil || res.Inserted != 12 || res.AfterIngest != 12 {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	fs := inspect(t, srv.addr, memUser, memPass, "INBOX")
	if len(fs.uids) != 12 || len(fs.seen) != 12 {
		t.Fatalf("%d messages, %d seen; want 12 seen", len(fs.uids), len(fs.seen))
	}
}

func TestAfterIngestMove(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps []goimap.Cap
	}{
		{"move", []goimap.Cap{goimap.CapMove, goimap.CapUIDPlus}},
		{"copy and uid expunge", []goimap.Cap{goimap.CapUIDPlus}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startMemIMAP(t, tc.caps, nil)
			for i := range 7 {
				srv.add(t, "INBOX", message(i), time.Now())
			}
			st := openSQLite(t)
			cfg := loopbackConfig(t, srv.addr, memUser, memPass)
			cfg.AfterIngest, cfg.MoveTo, cfg.BatchSize = AfterMove, "Earshot/Done", 3
			s := newSource(t, st, cfg, nil)
			res, err := s.SyncOnce(context.Background())
			if err != nil || res.Inserted != 7 || res.AfterIngest != 7 {
				t.Fatalf("sync: %+v, %v", res, err)
			}
			if fs := inspect(t, srv.addr, memUser, memPass, "INBOX"); len(fs.uids) != 0 {
				t.Fatalf("INBOX still has %d messages", len(fs.uids))
			}
			if fs := inspect(t, srv.addr, memUser, memPass, "Earshot/Done"); len(fs.uids) != 7 {
				t.Fatalf("Earshot/Done has %d messages, want 7", len(fs.uids))
			}
			if c := storedCursor(t, st, "feedback"); c.LastUID != 7 {
				t.Fatalf("cursor %+v, want last uid 7", c)
			}
		})
	}
}

// A failed move leaves the stored messages in the folder; later syncs must
// move them without storing them again. The failure is counted whether it
// is answered while the next batch is stored (one message per batch) or
// at the end of the sync (one batch). A server without MOVE gets COPY
// first, and the messages are flagged and expunged only once it succeeded.
func TestAfterIngestRetried(t *testing.T) {
	for _, tc := range []struct {
		name  string
		caps  []goimap.Cap
		batch int
	}{
		{"move, batch 100", []goimap.Cap{goimap.CapMove}, 100},
		{"move, batch 1", []goimap.Cap{goimap.CapMove}, 1},
		{"copy and uid expunge, batch 1", []goimap.Cap{goimap.CapUIDPlus}, 1},
		{"copy and expunge, batch 100", nil, 100},
	} {
		batch := tc.batch
		t.Run(tc.name, func(t *testing.T) {
			srv := startMemIMAP(t, tc.caps, nil)
			st := openSQLite(t)
			cfg := loopbackConfig(t, srv.addr, memUser, memPass)
			cfg.AfterIngest, cfg.MoveTo, cfg.BatchSize = AfterMove, "Done", batch
			reg := prometheus.NewRegistry()
			s := newSource(t, st, cfg, &Options{Registerer: reg})
			ctx := context.Background()
			if _, err := s.SyncOnce(ctx); err != nil { // connects and creates Done
				t.Fatal(err)
			}
			if err := srv.user.Delete("Done"); err != nil {
				t.Fatal(err)
			}
			srv.add(t, "INBOX", message(1), time.Now())
			srv.add(t, "INBOX", message(2), time.Now())
			res, err := s.SyncOnce(ctx)
			if err != nil || res.Inserted != 2 || res.AfterFailed != 2 {
				t.Fatalf("sync with missing Done: %+v, %v; want 2 stored and 2 failed moves", res, err)
			}
			if got := testutil.ToFloat64(s.metrics.afterFailed); got != 2 {
				t.Fatalf("after_ingest failure metric %v, want 2", got)
			}
			if err := srv.user.Create("Done", nil); err != nil {
				t.Fatal(err)
			}
			res, err = s.SyncOnce(ctx)
			if err != nil || res.Fetched != 0 || res.AfterIngest != 2 {
				t.Fatalf("retry sync: %+v, %v; want nothing fetched and 2 moved", res, err)
			}
			if fs := inspect(t, srv.addr, memUser, memPass, "Done"); len(fs.uids) != 2 {
				t.Fatalf("Done has %d messages, want 2", len(fs.uids))
			}
			if n := countItems(t, st); n != 2 {
				t.Fatalf("%d items, want 2", n)
			}
		})
	}
}

func TestOversizedMessageStoredAsHeader(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	header := "From: rep@example.test\r\nTo: feedback@example.test\r\nSubject: Big deck\r\n" +
		"Message-ID: <big@example.test>\r\nContent-Type: application/octet-stream\r\n\r\n"
	big := []byte(header + strings.Repeat("0123456789abcdef", 1024) + "\r\n")
	srv.add(t, "INBOX", message(1), time.Now())
	srv.add(t, "INBOX", big, time.Now())
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	cfg.MaxMessageBytes = 4096
	s := newSource(t, st, cfg, nil)
	res, err := s.SyncOnce(context.Background())
	if err != nil || res.Inserted != 2 || res.Truncated != 1 {
		t.Fatalf("sync: %+v, %v; want 2 stored, 1 truncated", res, err)
	}
	var it struct {
		Raw       []byte `db:"raw"`
		Truncated bool   `db:"raw_truncated"`
		Meta      string `db:"meta"`
		MessageID string `db:"message_id"`
	}
	if err := st.DB().Get(&it, `select raw, raw_truncated, meta, message_id from items i
		join receipts r on r.item_id = i.id where r.source_key = '1:2'`); err != nil {
		t.Fatal(err)
	}
	if string(it.Raw) != header || !it.Truncated {
		t.Fatalf("stored %d bytes (truncated %v), want the %d-byte header only", len(it.Raw), it.Truncated, len(header))
	}
	if !strings.Contains(it.Meta, "exceeds max_message_bytes 4096") {
		t.Fatalf("meta %s has no size warning", it.Meta)
	}
	if it.MessageID != "big@example.test" {
		t.Fatalf("message id %q, want big@example.test", it.MessageID)
	}
}

func TestWrongPasswordDisables(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, "wrong")
	reg := prometheus.NewRegistry()
	s := newSource(t, st, cfg, &Options{Registerer: reg})
	_, err := s.SyncOnce(context.Background())
	if !IsPermanent(err) {
		t.Fatalf("sync error %v, want a permanent error", err)
	}
	status := s.Status()
	if status.State != source.StateDisabled || status.DisabledReason != "authentication failed" {
		t.Fatalf("status %+v, want disabled by authentication failure", status)
	}
	src, err := st.Source(context.Background(), "feedback")
	if err != nil || src.DisabledReason != "authentication failed" || !strings.Contains(src.LastError, "AUTHENTICATIONFAILED") {
		t.Fatalf("stored source %+v, %v", src, err)
	}
	if testutil.ToFloat64(s.metrics.disabled) != 1 {
		t.Fatal("disabled metric is not 1")
	}
}

func TestMissingFolderDisables(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	cfg.Folder = "Field Notes"
	s := newSource(t, st, cfg, nil)
	_, err := s.SyncOnce(context.Background())
	if !IsPermanent(err) || s.Status().DisabledReason != "folder cannot be selected" {
		t.Fatalf("sync: %v, status %+v; want disabled by the missing folder", err, s.Status())
	}
	// Once the folder exists the next attempt succeeds and enables the source.
	if err := srv.user.Create("Field Notes", nil); err != nil {
		t.Fatal(err)
	}
	srv.add(t, "Field Notes", message(1), time.Now())
	if res, err := s.SyncOnce(context.Background()); err != nil || res.Inserted != 1 || s.Status().DisabledReason != "" {
		t.Fatalf("sync after create: %+v, %v, status %+v", res, err, s.Status())
	}
	if src, err := st.Source(context.Background(), "feedback"); err != nil || src.DisabledReason != "" {
		t.Fatalf("stored source %+v, %v; want enabled", src, err)
	}
}

// Run must not retry a permanent error at the transient backoff pace.
func TestRunWaitsAfterPermanentError(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	st := openSQLite(t)
	reg := prometheus.NewRegistry()
	s := newSource(t, st, loopbackConfig(t, srv.addr, memUser, "wrong"), &Options{Options: source.Options{DisabledRetry: time.Hour}, Registerer: reg})
	runSource(t, s)
	eventually(t, 5*time.Second, "disabled", func() bool { return s.Status().State == source.StateDisabled && !s.Status().RetryAt.IsZero() })
	time.Sleep(300 * time.Millisecond) // several transient backoffs long
	if got := testutil.ToFloat64(s.metrics.errors); got != 1 {
		t.Fatalf("%v login attempts, want 1 while disabled", got)
	}
	if wait := time.Until(s.Status().RetryAt); wait < 50*time.Minute {
		t.Fatalf("next attempt in %s, want about an hour", wait)
	}
}

func TestIdleDelivery(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	srv.add(t, "INBOX", message(0), time.Now())
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	// go-imap's in-memory server starts listening for news a moment after
	// it accepts IDLE, and keeps what arrives in between until the next
	// refresh (Dovecot reports it at once; see the Dovecot test, which
	// checks the push itself). A short refresh bounds that wait.
	cfg.IdleRefresh = 2 * time.Second
	s := newSource(t, st, cfg, nil)
	runSource(t, s)
	eventually(t, 5*time.Second, "first sync and idle", func() bool { return s.Status().State == source.StateIdle })
	if n := countItems(t, st); n != 1 {
		t.Fatalf("%d items after the first sync, want 1", n)
	}
	for i := 1; i <= 3; i++ {
		eventually(t, 5*time.Second, "idle", func() bool { return s.Status().State == source.StateIdle })
		srv.add(t, "INBOX", message(i), time.Now())
		eventually(t, 10*time.Second, "delivery in idle", func() bool { return countItems(t, st) == i+1 })
	}
	// The status follows the commit, so it may trail the item count.
	eventually(t, 5*time.Second, "status cursor at uid 4", func() bool { return s.Cursor().LastUID == 4 })
}

// With a short idle refresh the source leaves and re-enters IDLE several
// times and still gets new mail.
func TestIdleRefresh(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	cfg.IdleRefresh = time.Second
	s := newSource(t, st, cfg, nil)
	runSource(t, s)
	eventually(t, 5*time.Second, "idle", func() bool { return s.Status().State == source.StateIdle })
	before := s.Status().LastSuccess
	eventually(t, 5*time.Second, "two idle refreshes", func() bool {
		return s.Status().LastSuccess.Sub(before) >= 1500*time.Millisecond
	})
	srv.add(t, "INBOX", message(1), time.Now())
	eventually(t, 10*time.Second, "delivery after idle refreshes", func() bool { return countItems(t, st) == 1 })
}

// Where the server lacks IDLE the source waits for the poll interval, and
// notices a closed connection at once.
func TestPollWait(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	cfg.PollInterval = time.Second
	s := newSource(t, st, cfg, nil)
	ctx := context.Background()
	if _, err := s.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	s.sess.idle = false
	start := time.Now()
	if err := s.waitForNews(ctx, s.sess); err != nil {
		t.Fatalf("poll wait: %v", err)
	}
	if d := time.Since(start); d < time.Second || d > 5*time.Second {
		t.Fatalf("poll wait took %s, want the 1 s interval", d)
	}
	if s.Status().State != source.StatePolling {
		t.Fatalf("state %s, want polling", s.Status().State)
	}
	// With a long interval, only the closed connection can end the wait.
	s.cfg.PollInterval = time.Hour
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = s.sess.c.Close()
	}()
	if err := s.waitForNews(ctx, s.sess); !errors.Is(err, errConnClosed) {
		t.Fatalf("poll wait on a closed connection: %v", err)
	}
	srv.add(t, "INBOX", message(1), time.Now())
	if res, err := s.SyncOnce(ctx); err != nil || res.Inserted != 1 {
		t.Fatalf("sync after reconnect: %+v, %v", res, err)
	}
}

// failingSink refuses the batch that would store the given UID; the
// batches before it commit.
type failingSink struct {
	Sink
	failAt uint32
	failed bool
}

func (f *failingSink) Receive(ctx context.Context, b model.Batch) (model.ReceiveResult, error) {
	for _, it := range b.Items {
		if it.SourceKey == fmt.Sprintf("1:%d", f.failAt) && !f.failed {
			f.failed = true
			return model.ReceiveResult{}, errors.New("database went away")
		}
	}
	return f.Sink.Receive(ctx, b)
}

// The next batch is fetched while this one is stored. A store failure
// stops the fetching, keeps the batches committed before it, and the next
// sync resumes after them without fetching anything twice.
func TestStoreFailureMidBacklog(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	for i := range 50 {
		srv.add(t, "INBOX", message(i), time.Now())
	}
	st := openSQLite(t)
	sink := &failingSink{Sink: st, failAt: 23}
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	cfg.AfterIngest, cfg.BatchSize = AfterSeen, 10
	s := newSource(t, sink, cfg, nil)
	ctx := context.Background()

	res, err := s.SyncOnce(ctx)
	if err == nil || !strings.Contains(err.Error(), "database went away") {
		t.Fatalf("sync: %+v, %v; want the store's error", res, err)
	}
	if res.Inserted != 20 || storedCursor(t, st, "feedback").LastUID != 20 {
		t.Fatalf("after the failure: %+v, cursor %+v; want 20 stored and the cursor at 20",
			res, storedCursor(t, st, "feedback"))
	}
	if fs := inspect(t, srv.addr, memUser, memPass, "INBOX"); len(fs.seen) != 20 {
		t.Fatalf("%d messages seen, want the 20 stored", len(fs.seen))
	}

	res, err = s.SyncOnce(ctx)
	if err != nil || res.Fetched != 30 || res.Inserted != 30 || res.Repeated != 0 || res.Cursor.LastUID != 50 {
		t.Fatalf("second sync: %+v, %v; want the other 30", res, err)
	}
	if n := countItems(t, st); n != 50 {
		t.Fatalf("%d items, want 50", n)
	}
	if fs := inspect(t, srv.addr, memUser, memPass, "INBOX"); len(fs.seen) != 50 {
		t.Fatalf("%d messages seen, want 50", len(fs.seen))
	}
}
