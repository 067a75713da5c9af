package voicemail

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// storedVoicemail returns the item a recording became.
func storedVoicemail(t *testing.T, st *store.Store, recordingSID string) model.Item {
	t.Helper()
	var id int64
	err := st.DB().Get(&id, `select item_id from receipts where source_key = ?`, recordingSID)
	if err != nil {
		t.Fatalf("recording %s not stored: %v", recordingSID, err)
	}
	it, err := st.Item(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func cursorOf(t *testing.T, st *store.Store) Cursor {
	t.Helper()
	raw, err := st.SourceCursor(context.Background(), "twilio")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCursor(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSyncStoresCompletedRecordings follows recordings over three polls:
// listing across pages, only completed ones stored, a recording still in
// progress holding the cursor back until it completes, and the day-wide
// overlap deduplicated by recording SID.
func TestSyncStoresCompletedRecordings(t *testing.T) {
	f := newFakeTwilio(t)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day1, day2 := now.Add(-30*time.Hour), now.Add(-2*time.Hour)
	cards := speech(t, "pocketsphinx/test/data/cards/001.wav")
	fwd := speech(t, "pocketsphinx/test/data/goforward.derived.wav")
	jfk := speech(t, "whisper.cpp/samples/jfk.wav")
	r1 := f.add(1, "completed", day1, "+14155550101", cards)
	r2 := f.add(2, "completed", day2, "+14155550102", fwd)
	r3 := f.add(3, "processing", day2.Add(time.Minute), "+14155550103", jfk)
	r4 := f.add(4, "completed", day2.Add(2*time.Minute), "+14155550104", jfk)
	f.add(5, "absent", day2.Add(3*time.Minute), "+14155550105", nil)
	src, st := newTestSource(t, f, testConfig(f.srv.URL), &Options{Options: source.Options{Now: func() time.Time { return now }}, PageSize: 2})
	ctx := context.Background()

	res, err := src.SyncOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Listed != 5 || res.Stored != 3 || res.Waiting != 1 || res.Known != 0 {
		t.Fatalf("first poll = %+v; want 5 listed over 3 pages, 3 stored, 1 waiting", res)
	}
	if f.hit("GET list") != 3 {
		t.Errorf("%d list requests, want 3 pages of 2", f.hit("GET list"))
	}
	for _, c := range []struct {
		sid, caller string
		audio       []byte
	}{{r1, "+14155550101", cards}, {r2, "+14155550102", fwd}, {r4, "+14155550104", jfk}} {
		it := storedVoicemail(t, st, c.sid)
		meta, err := it.VoicemailMeta()
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind != "voicemail" || !bytes.Equal(it.Raw, c.audio) || meta.From != c.caller || meta.To != "+15005550006" ||
			meta.RecordingSID != c.sid || meta.Duration != 4 || meta.MediaFormat != "wav" || meta.CallerName != "DANA" {
			t.Errorf("%s stored as kind %q, %d bytes, meta %+v", c.sid, it.Kind, len(it.Raw), meta)
		}
	}
	// The recording Twilio is still processing holds the cursor back.
	if c := cursorOf(t, st); !c.LastCreated.Equal(day2.Add(time.Minute).Truncate(time.Second)) {
		t.Errorf("cursor %v, want held at the processing recording %v", c.LastCreated, day2.Add(time.Minute))
	}

	// It completes; the next poll lists from the day before the cursor,
	// skips the three stored ones without downloading them, stores it.
	f.setStatus(r3, "completed")
	media := f.hit("GET media")
	res, err = src.SyncOnce(ctx)
	if err != nil || res.Stored != 1 || res.Known != 3 {
		t.Fatalf("second poll = %+v, %v; want 1 stored, 3 known", res, err)
	}
	if got := f.hit("GET media") - media; got != 1 {
		t.Errorf("%d downloads in the second poll, want 1", got)
	}
	first := f.queries[len(f.queries)-1].Get("DateCreated>")
	if want := day2.Add(time.Minute - overlap).Truncate(24 * time.Hour).Format(time.RFC3339); first != want {
		t.Errorf("listing started at %s, want the day before the cursor, %s", first, want)
	}
	if c := cursorOf(t, st); !c.LastCreated.Equal(day2.Add(2 * time.Minute).Truncate(time.Second)) {
		t.Errorf("cursor %v, want the newest recording", c.LastCreated)
	}

	// The window (from 9 March, the day before the cursor) still holds
	// all four: each is known, none is downloaded again.
	media = f.hit("GET media")
	res, err = src.SyncOnce(ctx)
	if err != nil || res.Stored != 0 || res.Known != 4 || f.hit("GET media") != media {
		t.Fatalf("third poll = %+v, %v; want nothing new and no download", res, err)
	}
	if n, _ := st.StateCounts(ctx); n[model.StateReceived] != 4 {
		t.Errorf("items %v, want 4 received", n)
	}
}

// TestSyncMediaRetries covers downloads: a 503 and a 404 before the audio
// are retried within the poll; a recording that keeps failing is left for
// the next poll, the others are stored, and the cursor stays before it.
func TestSyncMediaRetries(t *testing.T) {
	f := newFakeTwilio(t)
	now := time.Now().UTC()
	audio := speech(t, "pocketsphinx/test/data/cards/002.wav")
	r1 := f.add(1, "completed", now.Add(-3*time.Hour), "+14155550101", audio)
	r2 := f.add(2, "completed", now.Add(-2*time.Hour), "+14155550102", audio)
	r3 := f.add(3, "completed", now.Add(-time.Hour), "+14155550103", audio)
	f.mediaFailures[r1] = []int{503, 404}
	f.mediaFailures[r2] = []int{500, 500, 502}
	reg := prometheus.NewRegistry()
	src, st := newTestSource(t, f, testConfig(f.srv.URL), &Options{Registerer: reg})
	ctx := context.Background()

	res, err := src.SyncOnce(ctx)
	if err == nil || res.Stored != 2 || res.Failed != 1 {
		t.Fatalf("poll = %+v, %v; want r1 and r3 stored, r2 failed with an error", res, err)
	}
	if IsPermanent(err) {
		t.Errorf("a failing download disabled the source: %v", err)
	}
	storedVoicemail(t, st, r1)
	storedVoicemail(t, st, r3)
	if got := testutil.ToFloat64(src.metrics.mediaRetries); got != 2 {
		t.Errorf("media retries metric = %v, want 2", got)
	}
	if c := cursorOf(t, st); !c.LastCreated.Equal(now.Add(-2 * time.Hour).Truncate(time.Second)) {
		t.Errorf("cursor %v, want held at the failed recording", c.LastCreated)
	}
	if st := src.Status(); st.LastError == "" || st.DisabledReason != "" {
		t.Errorf("status %+v, want the error recorded and the source enabled", st)
	}

	res, err = src.SyncOnce(ctx)
	if err != nil || res.Stored != 1 {
		t.Fatalf("retry poll = %+v, %v; want r2 stored", res, err)
	}
	if it := storedVoicemail(t, st, r2); !bytes.Equal(it.Raw, audio) {
		t.Error("r2 stored with other bytes")
	}
	if c := cursorOf(t, st); !c.LastCreated.Equal(now.Add(-time.Hour).Truncate(time.Second)) {
		t.Errorf("cursor %v, want the newest recording", c.LastCreated)
	}
}

// TestDeleteAfterIngest deletes each recording at Twilio only after it is
// stored, and retries a failed deletion on the next poll.
func TestDeleteAfterIngest(t *testing.T) {
	f := newFakeTwilio(t)
	now := time.Now().UTC()
	audio := speech(t, "pocketsphinx/test/data/cards/003.wav")
	r1 := f.add(1, "completed", now.Add(-2*time.Hour), "+14155550101", audio)
	r2 := f.add(2, "completed", now.Add(-time.Hour), "+14155550102", audio)
	f.deleteFailures[r2] = 1
	cfg := testConfig(f.srv.URL)
	cfg.DeleteAfterIngest = true
	src, st := newTestSource(t, f, cfg, nil)

	if _, err := src.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	storedVoicemail(t, st, r1)
	storedVoicemail(t, st, r2)
	if !f.isDeleted(r1) || f.isDeleted(r2) {
		t.Fatalf("deleted r1=%v r2=%v; want r1 deleted, r2's deletion failed", f.isDeleted(r1), f.isDeleted(r2))
	}
	res, err := src.SyncOnce(context.Background())
	if err != nil || res.Known != 1 || !f.isDeleted(r2) {
		t.Fatalf("second poll = %+v, %v, r2 deleted %v; want r2 deleted now", res, err, f.isDeleted(r2))
	}
}

// TestSyncErrors covers failures that are not about one recording.
func TestSyncErrors(t *testing.T) {
	f := newFakeTwilio(t)
	f.add(1, "completed", time.Now().Add(-time.Hour), "+14155550101", speech(t, "pocketsphinx/test/data/cards/001.wav"))

	t.Run("a rejected token disables the source", func(t *testing.T) {
		cfg := testConfig(f.srv.URL)
		cfg.AuthToken = "wrongtoken"
		src, st := newTestSource(t, f, cfg, nil)
		_, err := src.SyncOnce(context.Background())
		if !IsPermanent(err) || src.Status().DisabledReason != "twilio authentication failed" {
			t.Fatalf("err %v, status %+v; want disabled for authentication", err, src.Status())
		}
		row, _ := st.Source(context.Background(), "twilio")
		if row.DisabledReason != "twilio authentication failed" {
			t.Errorf("stored source %+v, want the disabled reason", row)
		}
	})

	t.Run("another replica holds the lease", func(t *testing.T) {
		src, st := newTestSource(t, f, testConfig(f.srv.URL), &Options{Options: source.Options{Holder: "replica-b"}})
		ctx := context.Background()
		st.EnsureSource(ctx, "twilio", Kind)
		if ok, err := st.AcquireLease(ctx, "twilio", "replica-a", time.Minute); !ok || err != nil {
			t.Fatal("replica-a cannot take the lease", err)
		}
		_, err := src.SyncOnce(ctx)
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("poll without the lease = %v, want ErrLeaseLost", err)
		}
	})
}

// TestRunPolls runs the source as the daemon does: a recording that
// appears between polls is stored by the next one, and the lease is
// released when Run ends.
func TestRunPolls(t *testing.T) {
	f := newFakeTwilio(t)
	audio := speech(t, "pocketsphinx/test/data/cards/004.wav")
	src, st := newTestSource(t, f, testConfig(f.srv.URL), &Options{Options: source.Options{Holder: "replica-a"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()

	deadline := time.Now().Add(10 * time.Second)
	for src.Status().LastSuccess.IsZero() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	rs := f.add(1, "completed", time.Now().Add(-time.Minute), "+14155550101", audio)
	for time.Now().Before(deadline) {
		if ok, _ := st.ReceivedKeys(context.Background(), "twilio", []string{rs}); ok[rs] {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	storedVoicemail(t, st, rs)
	if s := src.Status(); s.State != source.StatePolling && s.State != source.StateSyncing {
		t.Errorf("state %s, want polling", s.State)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if row, _ := st.Source(context.Background(), "twilio"); row.LeaseHolder != "" {
		t.Errorf("lease still held by %q after Run ended", row.LeaseHolder)
	}
	if src.Status().State != source.StateStopped {
		t.Errorf("state %s after Run, want stopped", src.Status().State)
	}
}
