package voicemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/model"
)

// Sink is what the Source needs of the store; *store.Store implements it.
type Sink interface {
	source.Store
	SourceCursor(ctx context.Context, name string) (json.RawMessage, error)
	Receive(ctx context.Context, b model.Batch) (model.ReceiveResult, error)
	ReceivedKeys(ctx context.Context, source string, keys []string) (map[string]bool, error)
	// RecordAttestation keeps the STIR/SHAKEN attestation of a call's
	// caller number, which decides whether its voicemail is credited.
	RecordAttestation(ctx context.Context, callSID, verstat string) error
}

// Options tunes a Source. A nil *Options and zero fields mean the defaults.
type Options struct {
	// Options tune the source's runner: logger, lease holder and TTL (a
	// batch is refused if another replica took the lease meanwhile;
	// webhook ingests need no lease), clock, backoff (5 s to 5 min by
	// default) and the retry of a disabled source.
	source.Options
	// Registerer receives the earshot_twilio_* metrics; none when nil.
	Registerer prometheus.Registerer
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
}

// Source ingests the recordings of one Twilio account into the store. Run
// keeps it polling; tests and one-shot tools call SyncOnce (not both at
// once). Handler serves the webhooks, concurrently with either.
// Its Runner keeps the status, the lease and the retries.
type Source struct {
	*source.Runner
	name    string
	cfg     Config
	client  *Client
	sink    Sink
	opts    Options
	log     *slog.Logger
	metrics *metrics

	last SyncResult // of the latest poll; owned by Run or SyncOnce

	mu     sync.Mutex // guards cursor
	cursor Cursor     // the last stored cursor
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
	defDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defDur(&o.Backfill, 7*24*time.Hour)
	defDur(&o.WebhookTimeout, 12*time.Second)
	defDur(&o.MinBackoff, 5*time.Second)
	o.Options = o.Options.Defaults()
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
	log := o.Logger.With("component", "twilio", "source", name)
	ro := o.Options
	ro.Logger = log
	return &Source{
		Runner: source.New(name, Kind, "", sink,
			source.Metrics{Errors: m.errors, LastSuccess: m.lastSuccess, Disabled: m.disabled},
			ro),
		name: name, cfg: cfg, client: client, sink: sink, opts: o, metrics: m, log: log,
	}, nil
}

// Close does nothing: the source keeps no connection between polls.
func (s *Source) Close() error { return nil }

// Client returns the source's Twilio client, for SMS and the twilio
// transcription engine.
func (s *Source) Client() *Client { return s.client }
