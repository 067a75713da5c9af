package source

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/model"
)

// memStore keeps what a Runner writes. recordGate, when set, holds every
// RecordSourceError until it is closed.
type memStore struct {
	mu         sync.Mutex
	ensured    bool
	lastError  string
	disabled   string
	successes  int
	holder     string
	until      time.Time
	recordGate chan struct{}
	entered    chan struct{} // closed as RecordSourceError waits at the gate
	recordCtx  error         // ctx.Err() as RecordSourceError finished
}

func (m *memStore) EnsureSource(ctx context.Context, name, kind string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ensured = true
	return nil
}

func (m *memStore) RecordSourceError(ctx context.Context, name, msg, reason string) error {
	if m.recordGate != nil {
		close(m.entered)
		<-m.recordGate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recordCtx = ctx.Err()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	m.lastError, m.disabled = msg, reason
	return nil
}

func (m *memStore) RecordSourceSuccess(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.successes++
	m.lastError, m.disabled = "", ""
	return nil
}

func (m *memStore) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holder != "" && m.holder != holder && time.Now().Before(m.until) {
		return false, nil
	}
	m.holder, m.until = holder, time.Now().Add(ttl)
	return true, nil
}

func (m *memStore) ReleaseLease(ctx context.Context, name, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holder == holder {
		m.holder = ""
	}
	return nil
}

func (m *memStore) stored() (lastError, disabled string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastError, m.disabled
}

// fakeDriver returns syncErr from every sync and waits for wake.
type fakeDriver struct {
	mu      sync.Mutex
	syncs   int
	drops   int
	syncErr error
	wake    chan struct{}
}

func (d *fakeDriver) Sync(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.syncs++
	return d.syncErr
}

func (d *fakeDriver) Wait(ctx context.Context) error {
	select {
	case <-d.wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *fakeDriver) Drop() {
	d.mu.Lock()
	d.drops++
	d.mu.Unlock()
}

func (d *fakeDriver) counts() (syncs, drops int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.syncs, d.drops
}

func newRunner(st Store, opts Options) (*Runner, Metrics) {
	m := Metrics{
		Errors:      prometheus.NewCounter(prometheus.CounterOpts{Name: "errors"}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "last"}),
		Disabled:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "disabled"}),
	}
	return New("feedback", "imap", "feedback@example.test", st, m, opts), m
}

func run(t *testing.T, r *Runner, d Driver) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, d) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not return 10 s after cancel")
		}
	})
	return cancel
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The status says disabled only once the store has the reason, and the
// reason is stored even when the run ends while it is being written.
func TestErrorStoredBeforePublished(t *testing.T) {
	st := &memStore{recordGate: make(chan struct{}), entered: make(chan struct{})}
	r, m := newRunner(st, Options{DisabledRetry: time.Hour})
	d := &fakeDriver{syncErr: Permanent("authentication failed", errors.New("NO [AUTHENTICATIONFAILED]")), wake: make(chan struct{})}
	cancel := run(t, r, d)
	select {
	case <-st.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the error was not written within 10 s")
	}
	if s := r.Status(); s.State == StateDisabled || s.DisabledReason != "" || testutil.ToFloat64(m.Errors) != 0 {
		t.Fatalf("status %+v, %v errors before the store has the error", s, testutil.ToFloat64(m.Errors))
	}
	cancel() // a shutdown while the error is written
	close(st.recordGate)
	eventually(t, "the reason stored", func() bool { _, reason := st.stored(); return reason != "" })
	if last, reason := st.stored(); reason != "authentication failed" || last == "" {
		t.Fatalf("stored error %q, reason %q", last, reason)
	}
	if st.recordCtx != nil {
		t.Fatalf("the error was written on the cancelled context: %v", st.recordCtx)
	}
}

// Each failure chooses its wait: slowly after a permanent error, standby
// while another replica holds the lease, a jittered backoff otherwise.
func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		holder  string
		state   State
		minWait time.Duration
		maxWait time.Duration
	}{
		{"permanent", Permanent("authentication failed", errors.New("no")), "", StateDisabled, time.Hour, time.Hour},
		{"transient", errors.New("connection reset"), "", StateBackoff, 50 * time.Second, 100 * time.Second},
		{"lease held elsewhere", nil, "replica-b", StateStandby, 20 * time.Second, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &memStore{holder: "replica-a", until: time.Now().Add(time.Hour)}
			if tc.holder == "" {
				st.holder = ""
			}
			r, m := newRunner(st, Options{Holder: tc.holder, LeaseTTL: time.Minute,
				MinBackoff: 100 * time.Second, MaxBackoff: time.Hour, DisabledRetry: time.Hour})
			d := &fakeDriver{syncErr: tc.err, wake: make(chan struct{})}
			start := time.Now()
			run(t, r, d)
			eventually(t, "state "+string(tc.state), func() bool { return r.Status().State == tc.state })
			wait := r.Status().RetryAt.Sub(start)
			if wait < tc.minWait-time.Second || wait > tc.maxWait+time.Second {
				t.Errorf("next attempt in %s, want %s to %s", wait, tc.minWait, tc.maxWait)
			}
			syncs, _ := d.counts()
			wantSyncs, wantErrors := 1, 1.0
			if tc.state == StateStandby {
				wantSyncs, wantErrors = 0, 0 // no sync without the lease, and no error recorded
			}
			if syncs != wantSyncs || testutil.ToFloat64(m.Errors) != wantErrors {
				t.Errorf("%d syncs, %v errors; want %d and %v", syncs, testutil.ToFloat64(m.Errors), wantSyncs, wantErrors)
			}
		})
	}
}

// A success after a disabling error enables the source again, in the store
// first; a failed wait drops the connection and syncs again after backoff.
func TestRecoveryAndWaitErrors(t *testing.T) {
	st := &memStore{}
	r, m := newRunner(st, Options{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	d := &fakeDriver{syncErr: Permanent("folder cannot be selected", errors.New("no")), wake: make(chan struct{})}
	if err := r.SyncOnce(context.Background(), d); !IsPermanent(err) {
		t.Fatalf("sync = %v, want the permanent error", err)
	}
	if _, reason := st.stored(); reason == "" || r.Status().DisabledReason == "" || testutil.ToFloat64(m.Disabled) != 1 {
		t.Fatalf("stored reason %q, status %+v; want disabled", reason, r.Status())
	}
	d.syncErr = nil
	if err := r.SyncOnce(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if last, reason := st.stored(); last != "" || reason != "" || r.Status().DisabledReason != "" || testutil.ToFloat64(m.Disabled) != 0 {
		t.Fatalf("after a success: stored %q %q, status %+v", last, reason, r.Status())
	}
	_, drops := d.counts()
	// A wait that fails is an error like a sync's: counted, then a new sync.
	failing := &waitFails{fakeDriver: d}
	run(t, r, failing)
	eventually(t, "a sync after the failed wait", func() bool { s, _ := d.counts(); return s >= 4 })
	if _, dropped := d.counts(); dropped <= drops {
		t.Error("a failed wait did not drop the connection")
	}
	if testutil.ToFloat64(m.Errors) < 2 {
		t.Errorf("%v errors, want the failed waits counted", testutil.ToFloat64(m.Errors))
	}
}

type waitFails struct{ *fakeDriver }

func (w *waitFails) Wait(ctx context.Context) error {
	return fmt.Errorf("idle: %w", errors.New("connection closed"))
}

// Pause keeps the lease while it waits: a replica that polls rarely is not
// taken over between polls.
func TestPauseRenewsTheLease(t *testing.T) {
	st := &memStore{}
	const ttl = 300 * time.Millisecond
	r, _ := newRunner(st, Options{Holder: "replica-a", LeaseTTL: ttl})
	if err := r.Renew(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := r.Pause(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	holder, until := st.holder, st.until
	st.mu.Unlock()
	if holder != "replica-a" || !until.After(start.Add(ttl)) {
		t.Fatalf("lease %s until %s: not renewed during the pause that began %s", holder, until, start)
	}
	if err := r.Pause(cancelled(), time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("pause on a cancelled context = %v", err)
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrNotHeld), model.ErrLeaseLost) {
		t.Fatal("ErrNotHeld does not wrap model.ErrLeaseLost")
	}
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
