package voicemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/intake/lease"
	"github.com/earshot-dev/earshot/store"
)

// Sink is what the Source needs of the store; *store.Store implements it.
type Sink interface {
	EnsureSource(ctx context.Context, name, kind string) error
	SourceCursor(ctx context.Context, name string) (json.RawMessage, error)
	Receive(ctx context.Context, b store.Batch) (store.ReceiveResult, error)
	ReceivedKeys(ctx context.Context, source string, keys []string) (map[string]bool, error)
	RecordSourceError(ctx context.Context, name, msg, disabledReason string) error
	RecordSourceSuccess(ctx context.Context, name string) error
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

var _ Sink = (*store.Store)(nil)

// Options tunes a Source. A nil *Options and zero fields mean the defaults.
type Options struct {
	// Logger receives the source's log lines; slog.Default when nil.
	Logger *slog.Logger
	// Registerer receives the earshot_twilio_* metrics; none when nil.
	Registerer prometheus.Registerer
	// Holder names this replica. When set, the source polls only while it
	// holds the source's lease, and a batch is refused if another replica
	// took the lease meanwhile. Webhook ingests need no lease.
	Holder string
	// LeaseTTL is how long a lease lasts without renewal (1 min by
	// default); it is renewed every third of it.
	LeaseTTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Client replaces the Twilio client built from the configuration.
	Client *Client
	// Backfill is how far back the first poll looks (7 days by default).
	Backfill time.Duration
	// PageSize is how many recordings one listing page holds (100 by
	// default).
	PageSize int
	// WebhookTimeout bounds the ingest a recording callback triggers
	// (12 s by default: Twilio waits 15 s for an answer).
	WebhookTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before retrying after a
	// transient error (5 s and 5 min by default); DisabledRetry is the
	// wait after a permanent one (15 min by default).
	MinBackoff, MaxBackoff, DisabledRetry time.Duration
}

// Source ingests the recordings of one Twilio account into the store. Run
// keeps it polling; tests and one-shot tools call SyncOnce (not both at
// once). Handler serves the webhooks, concurrently with either.
type Source struct {
	name    string
	cfg     Config
	client  *Client
	sink    Sink
	opts    Options
	log     *slog.Logger
	metrics *metrics

	busy atomic.Bool // Run or SyncOnce is active

	// Owned by the goroutine running Run or SyncOnce.
	lease *lease.Lease

	mu     sync.Mutex // guards status
	status Status
}

// New returns the source named name (the store's source name) for the
// account in cfg. It does no I/O.
func New(name string, cfg Config, sink Sink, opts *Options) (*Source, error) {
	if name == "" {
		return nil, errors.New("twilio source: name is required")
	}
	if sink == nil {
		return nil, fmt.Errorf("twilio %s: sink is required", name)
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("twilio %s: %w", name, err)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	defDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defDur(&o.LeaseTTL, time.Minute)
	defDur(&o.Backfill, 7*24*time.Hour)
	defDur(&o.WebhookTimeout, 12*time.Second)
	defDur(&o.MinBackoff, 5*time.Second)
	defDur(&o.MaxBackoff, 5*time.Minute)
	defDur(&o.DisabledRetry, 15*time.Minute)
	if o.PageSize == 0 {
		o.PageSize = 100
	}
	client := o.Client
	if client == nil {
		var err error
		if client, err = NewClient(cfg, nil); err != nil {
			return nil, fmt.Errorf("twilio %s: %w", name, err)
		}
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, fmt.Errorf("twilio %s: metrics: %w", name, err)
	}
	return &Source{
		name: name, cfg: cfg, client: client, sink: sink, opts: o, metrics: m,
		log:    o.Logger.With("component", "twilio", "source", name),
		status: Status{Name: name, State: StateStopped},
		lease:  &lease.Lease{Store: sink, Name: name, Holder: o.Holder, TTL: o.LeaseTTL, Now: o.Now},
	}, nil
}

// Name returns the source's name in the store.
func (s *Source) Name() string { return s.name }

// Client returns the source's Twilio client, for SMS and the twilio
// transcription engine.
func (s *Source) Client() *Client { return s.client }
