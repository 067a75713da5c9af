package imap

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/intake/lease"
	"github.com/earshot-dev/earshot/store"
)

// Kind is the store's source kind of IMAP sources.
const Kind = "imap"

// Sink is what a Source needs of the store; *store.Store implements it.
type Sink interface {
	EnsureSource(ctx context.Context, name, kind string) error
	SourceCursor(ctx context.Context, name string) (json.RawMessage, error)
	Receive(ctx context.Context, b store.Batch) (store.ReceiveResult, error)
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
	// Registerer receives the earshot_imap_* metrics; none when nil.
	Registerer prometheus.Registerer
	// Holder names this replica. When set, the source polls only while it
	// holds the source's lease in the store, and every batch is refused if
	// another replica took the lease meanwhile.
	Holder string
	// LeaseTTL is how long a lease lasts without renewal; one minute by
	// default. It is renewed every third of it.
	LeaseTTL time.Duration
	// Now is the clock of status timestamps; time.Now when nil.
	Now func() time.Time
	// Dialer opens the TCP connections; by default a 30 s connect timeout
	// and TCP keepalive probes that notice a dead peer within about two
	// minutes.
	Dialer *net.Dialer
	// TLSConfig is the base TLS configuration (e.g. extra root CAs); the
	// server name defaults to the configured host.
	TLSConfig *tls.Config
	// HTTPClient calls the OAuth2 token endpoint; a 30 s timeout by default.
	HTTPClient *http.Client
	// MinBackoff and MaxBackoff bound the wait before reconnecting after a
	// transient error; 1 s and 5 min by default.
	MinBackoff, MaxBackoff time.Duration
	// DisabledRetry is the wait before retrying after a permanent error;
	// 15 min by default.
	DisabledRetry time.Duration
}

// Source ingests one IMAP folder into the store. Run keeps it synced; tests
// and one-shot tools call SyncOnce. Only one of them may run at a time.
type Source struct {
	name    string
	address string
	cfg     Config
	sink    Sink
	opts    Options
	log     *slog.Logger
	metrics *metrics
	dialer  *net.Dialer
	tokens  *tokenSource // nil without OAuth2

	busy atomic.Bool // Run or SyncOnce is active

	// Owned by the goroutine running Run or SyncOnce.
	sess    *session
	ensured bool // the source row exists
	lease   *lease.Lease

	mu     sync.Mutex // guards status
	status Status
}

// New returns a source named name (the store's source name) for the
// mailbox address, configured by cfg. It does no I/O.
func New(name, address string, cfg Config, sink Sink, opts *Options) (*Source, error) {
	if name == "" {
		return nil, errors.New("imap source: name is required")
	}
	if sink == nil {
		return nil, fmt.Errorf("imap %s: sink is required", name)
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("imap %s: %w", name, err)
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
	if o.LeaseTTL == 0 {
		o.LeaseTTL = time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.DisabledRetry == 0 {
		o.DisabledRetry = 15 * time.Minute
	}
	m, err := newMetrics(o.Registerer, name)
	if err != nil {
		return nil, fmt.Errorf("imap %s: metrics: %w", name, err)
	}
	dialer := o.Dialer
	if dialer == nil {
		dialer = &net.Dialer{
			Timeout: 30 * time.Second,
			KeepAliveConfig: net.KeepAliveConfig{
				Enable: true, Idle: time.Minute, Interval: 15 * time.Second, Count: 4,
			},
		}
	}
	s := &Source{
		name:    name,
		address: address,
		cfg:     cfg,
		sink:    sink,
		opts:    o,
		log:     o.Logger.With("component", "imap", "source", name, "mailbox", address),
		metrics: m,
		lease:   &lease.Lease{Store: sink, Name: name, Holder: o.Holder, TTL: o.LeaseTTL, Now: o.Now},
		dialer:  dialer,
		status:  Status{Name: name, Mailbox: address, State: StateStopped},
	}
	if cfg.OAuth2.Enabled() {
		s.tokens = newTokenSource(cfg.OAuth2, o.HTTPClient)
	}
	return s, nil
}

// Name returns the source's name in the store.
func (s *Source) Name() string { return s.name }

// Close closes the connection SyncOnce keeps open between calls. Call it
// once Run has returned; Run closes its own connection when its context
// ends.
func (s *Source) Close() error {
	if !s.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("imap %s: close while running", s.name)
	}
	defer s.busy.Store(false)
	s.dropSession()
	s.setState(StateStopped, time.Time{})
	return nil
}

// dropSession closes the current connection, if any.
func (s *Source) dropSession() {
	if s.sess == nil {
		return
	}
	s.sess.close()
	s.sess = nil
	s.metrics.connected.Set(0)
	s.mu.Lock()
	s.status.Connected = false
	s.mu.Unlock()
}
