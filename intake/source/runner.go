package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/internal/backoff"
	"github.com/earshot-dev/earshot/model"
)

// Store is what a Runner needs of the store; *store.Store implements it.
type Store interface {
	LeaseStore
	EnsureSource(ctx context.Context, name, kind string) error
	RecordSourceError(ctx context.Context, name, msg, disabledReason string) error
	RecordSourceSuccess(ctx context.Context, name string) error
}

// Driver is what one kind of source does; the Runner does the rest.
type Driver interface {
	// Sync stores what is new since the stored cursor. It renews the
	// lease (Runner.Renew) between batches of a long sync.
	Sync(ctx context.Context) error
	// Wait blocks until a sync is due again: news pushed by the server,
	// or the poll interval. It renews the lease while it waits (every
	// Runner.RenewEvery). An error makes the next sync start over.
	Wait(ctx context.Context) error
	// Drop closes what the driver keeps open between syncs (a
	// connection); the Runner calls it after an error and at the end.
	Drop()
}

// Metrics are the series every kind keeps, under the kind's own names
// (earshot_imap_errors_total, earshot_twilio_errors_total, …).
type Metrics struct {
	// Errors counts failed syncs and waits.
	Errors prometheus.Counter
	// LastSuccess is the Unix time of the last successful sync.
	LastSuccess prometheus.Gauge
	// Disabled is 1 while a permanent error disables the source.
	Disabled prometheus.Gauge
}

// Options tunes a Runner. Zero fields mean the defaults.
type Options struct {
	// Logger receives the runner's log lines; slog.Default when nil.
	Logger *slog.Logger
	// Holder names this replica. When set, the source runs only while it
	// holds the source's lease in the store.
	Holder string
	// LeaseTTL is how long a lease lasts without renewal; one minute by
	// default. It is renewed every third of it.
	LeaseTTL time.Duration
	// Now is the clock of the status; time.Now when nil.
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the wait before retrying after a
	// transient error (1 s and 5 min by default); DisabledRetry is the
	// wait after a permanent one (15 min by default).
	MinBackoff, MaxBackoff, DisabledRetry time.Duration
}

// recordTimeout bounds the write of a source's error and of the lease's
// release. They run on a context of their own, so that a shutdown loses
// neither.
const recordTimeout = 5 * time.Second

// Runner runs one source: Run keeps it syncing until its context ends;
// tests and one-shot tools call SyncOnce. Only one of them runs at a time.
type Runner struct {
	name, kind string
	store      Store
	opts       Options
	log        *slog.Logger
	metrics    Metrics

	busy atomic.Bool // Run or SyncOnce is active

	// Owned by the goroutine running Run or SyncOnce.
	lease   *Lease
	ensured bool // the source row exists

	mu     sync.Mutex // guards status
	status Status
}

// Defaults returns o with what is unset set to its default: the default
// logger, time.Now, a one-minute lease, a backoff from 1 s to 5 min and
// a disabled source retried every 15 min. A source with other defaults
// sets them first.
func (o Options) Defaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.LeaseTTL, time.Minute)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, 5*time.Minute)
	def(&o.DisabledRetry, 15*time.Minute)
	return o
}

// New returns the runner of the source name of kind, whose metrics are m.
// Nil metrics are kept unregistered. It does no I/O.
func New(name, kind, address string, st Store, m Metrics, opts Options) *Runner {
	opts = opts.Defaults()
	if m.Errors == nil {
		m.Errors = prometheus.NewCounter(prometheus.CounterOpts{Name: "errors"})
	}
	if m.LastSuccess == nil {
		m.LastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{Name: "last_success"})
	}
	if m.Disabled == nil {
		m.Disabled = prometheus.NewGauge(prometheus.GaugeOpts{Name: "disabled"})
	}
	return &Runner{
		name: name, kind: kind, store: st, opts: opts, metrics: m,
		log:    opts.Logger,
		lease:  &Lease{Store: st, Name: name, Holder: opts.Holder, TTL: opts.LeaseTTL, Now: opts.Now},
		status: Status{Name: name, Kind: kind, Address: address, State: StateStopped},
	}
}

// Name returns the source's name in the store.
func (r *Runner) Name() string { return r.name }

// Status returns the source's current status.
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// SetState publishes what the source is doing; retryAt is when it next
// tries, where that is known.
func (r *Runner) SetState(st State, retryAt time.Time) {
	r.mu.Lock()
	r.status.State, r.status.RetryAt = st, retryAt
	r.mu.Unlock()
}

// SetConnected publishes whether the source holds a connection.
func (r *Runner) SetConnected(c bool) {
	r.mu.Lock()
	r.status.Connected = c
	r.mu.Unlock()
}

// Renew takes or renews the source's lease when a third of it has passed.
// It returns an error wrapping model.ErrLeaseLost when another replica
// holds it. Drivers call it between the batches of a long sync and while
// they wait.
func (r *Runner) Renew(ctx context.Context) error { return r.lease.Renew(ctx) }

// RenewEvery is how often a waiting driver renews the lease; 0 when the
// source needs no lease.
func (r *Runner) RenewEvery() time.Duration {
	if r.opts.Holder == "" {
		return 0
	}
	return r.opts.LeaseTTL / 3
}

// Holder is the replica's name in leases and batches; "" without leases.
func (r *Runner) Holder() string { return r.opts.Holder }

// Pause waits for d or until ctx ends, renewing the lease on the way so
// that another replica does not take over between polls. It returns
// ctx's error when ctx ended first; a lost lease ends the pause early
// without an error (the next sync reports it).
func (r *Runner) Pause(ctx context.Context, d time.Duration) error {
	step := d
	if every := r.RenewEvery(); every > 0 {
		step = min(d, every)
	}
	for left := d; left > 0; left -= step {
		if !sleep(ctx, min(step, left)) {
			return ctx.Err()
		}
		if left > step && r.RenewEvery() > 0 {
			if err := r.Renew(ctx); err != nil {
				return nil
			}
		}
	}
	return nil
}

// SyncOnce runs one sync of d with its bookkeeping. It must not run while
// Run does.
func (r *Runner) SyncOnce(ctx context.Context, d Driver) error {
	if !r.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("%s %s: already running", r.kind, r.name)
	}
	defer r.busy.Store(false)
	return r.sync(ctx, d)
}

// Close drops what d keeps open after SyncOnce. Call it once Run has
// returned; Run drops its own when its context ends.
func (r *Runner) Close(d Driver) error {
	if !r.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("%s %s: close while running", r.kind, r.name)
	}
	defer r.busy.Store(false)
	d.Drop()
	r.SetState(StateStopped, time.Time{})
	return nil
}

// sync makes sure the source's row exists and its lease is held, runs
// one sync of d, and records the outcome. Any error drops what d keeps
// open, so that the next attempt starts clean.
func (r *Runner) sync(ctx context.Context, d Driver) error {
	if !r.ensured {
		if err := r.store.EnsureSource(ctx, r.name, r.kind); err != nil {
			return r.fail(ctx, err)
		}
		r.ensured = true
	}
	if err := r.Renew(ctx); err != nil {
		d.Drop()
		return r.fail(ctx, err)
	}
	r.SetState(StateSyncing, time.Time{})
	if err := d.Sync(ctx); err != nil {
		d.Drop()
		return r.fail(ctx, err)
	}
	if err := r.succeeded(ctx); err != nil {
		return r.fail(ctx, err)
	}
	return nil
}

// Run keeps the source syncing until ctx ends: a sync, a wait for news or
// the poll interval, another sync. Transient errors retry after a capped,
// jittered backoff; a permanent one disables the source and retries only
// every DisabledRetry; with a Holder it waits in standby while another
// replica holds the lease. It returns nil when ctx ends, after dropping
// d's connection and releasing the lease.
func (r *Runner) Run(ctx context.Context, d Driver) error {
	if !r.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("%s %s: already running", r.kind, r.name)
	}
	defer r.busy.Store(false)
	defer func() {
		d.Drop()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		if err := r.lease.Release(rctx); err != nil {
			r.log.Warn("cannot release lease", "err", err)
		}
		cancel()
		r.SetState(StateStopped, time.Time{})
		r.log.Info("stopped")
	}()
	bo := backoff.Backoff{Min: r.opts.MinBackoff, Max: r.opts.MaxBackoff}
	for ctx.Err() == nil {
		err := r.sync(ctx, d)
		if err == nil {
			bo.Reset()
			if err = d.Wait(ctx); err == nil {
				continue
			}
			if ctx.Err() != nil {
				break
			}
			d.Drop()
			err = r.fail(ctx, err)
		}
		if ctx.Err() != nil {
			break
		}
		wait, state := r.retryAfter(err, &bo)
		r.SetState(state, r.opts.Now().Add(wait))
		r.log.Info("retrying later", "state", state, "wait", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			break
		}
	}
	return nil
}

// retryAfter chooses the wait and state after a failed attempt.
func (r *Runner) retryAfter(err error, bo *backoff.Backoff) (time.Duration, State) {
	switch {
	case errors.Is(err, model.ErrLeaseLost):
		r.lease.Forget()
		return r.opts.LeaseTTL / 3, StateStandby
	case IsPermanent(err):
		return r.opts.DisabledRetry, StateDisabled
	}
	return bo.Next(), StateBackoff
}

// succeeded records a successful sync. The store has it before the
// source's status and metrics say so.
func (r *Runner) succeeded(ctx context.Context) error {
	if err := r.store.RecordSourceSuccess(ctx, r.name); err != nil {
		return err
	}
	now := r.opts.Now()
	r.metrics.LastSuccess.Set(float64(now.UnixNano()) / 1e9)
	r.metrics.Disabled.Set(0)
	r.mu.Lock()
	wasDisabled := r.status.DisabledReason != ""
	r.status.LastSuccess, r.status.DisabledReason = now, ""
	r.mu.Unlock()
	if wasDisabled {
		r.log.Info("source enabled again")
	}
	return nil
}

// fail records a failed sync or wait and returns err, prefixed with the
// source's kind and name. A permanent error disables the source with a
// visible reason. The store has the error before the source's status and
// metrics show it; the write runs on a context of its own, so that a
// shutdown does not lose the reason. Errors caused by the end of ctx are
// not recorded, nor is another replica holding the lease.
func (r *Runner) fail(ctx context.Context, err error) error {
	err = fmt.Errorf("%s %s: %w", r.kind, r.name, err)
	if ctx.Err() != nil {
		return err
	}
	if errors.Is(err, model.ErrLeaseLost) {
		r.log.Debug("another replica holds the source", "err", err)
		return err
	}
	reason := disabledReason(err)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	rerr := r.store.RecordSourceError(rctx, r.name, err.Error(), reason)
	cancel()
	if rerr != nil {
		r.log.Error("cannot record source error", "err", rerr)
	}
	r.metrics.Errors.Inc()
	r.mu.Lock()
	r.status.LastError, r.status.LastErrorAt, r.status.DisabledReason = err.Error(), r.opts.Now(), reason
	if reason != "" {
		r.status.State = StateDisabled
	}
	r.mu.Unlock()
	if reason != "" {
		r.metrics.Disabled.Set(1)
		r.log.Error("source disabled", "reason", reason, "err", err)
	} else {
		r.log.Warn("source error", "err", err)
	}
	return err
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
