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
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/model"
)

// Kind is the store's source kind of IMAP sources.
const Kind = "imap"

// Sink is what a Source needs of the store; *store.Store implements it.
type Sink interface {
	source.Store
	SourceCursor(ctx context.Context, name string) (json.RawMessage, error)
	Receive(ctx context.Context, b model.Batch) (model.ReceiveResult, error)
}

// Options tunes a Source. A nil *Options and zero fields mean the defaults.
type Options struct {
	// Options tune the source's runner: logger, lease holder and TTL,
	// clock, backoff and the retry of a disabled source.
	source.Options
	// Registerer receives the earshot_imap_* metrics; none when nil.
	Registerer prometheus.Registerer
	// Dialer opens the TCP connections; by default a 30 s connect timeout
	// and TCP keepalive probes that notice a dead peer within about two
	// minutes.
	Dialer *net.Dialer
	// TLSConfig is the base TLS configuration (e.g. extra root CAs); the
	// server name defaults to the configured host.
	TLSConfig *tls.Config
	// HTTPClient calls the OAuth2 token endpoint; a 30 s timeout by default.
	HTTPClient *http.Client
}

// Source ingests one IMAP folder into the store. Run keeps it synced; tests
// and one-shot tools call SyncOnce. Only one of them may run at a time.
// Its Runner keeps the status, the lease and the retries.
type Source struct {
	*source.Runner
	name    string
	address string
	cfg     Config
	sink    Sink
	opts    Options
	log     *slog.Logger
	metrics *metrics
	dialer  *net.Dialer
	tokens  *tokenSource // nil without OAuth2

	// Owned by the goroutine running Run or SyncOnce.
	sess *session
	last SyncResult // of the latest sync

	mu     sync.Mutex // guards cursor
	cursor Cursor     // the last stored cursor
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
	o.Options = o.Options.Defaults()
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
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
	log := o.Logger.With("component", "imap", "source", name, "mailbox", address)
	ro := o.Options
	ro.Logger = log
	s := &Source{
		Runner: source.New(name, Kind, address, sink,
			source.Metrics{Errors: m.errors, LastSuccess: m.lastSuccess, Disabled: m.disabled},
			ro),
		name:    name,
		address: address,
		cfg:     cfg,
		sink:    sink,
		opts:    o,
		log:     log,
		metrics: m,
		dialer:  dialer,
	}
	if cfg.OAuth2.Enabled() {
		s.tokens = newTokenSource(cfg.OAuth2, o.HTTPClient)
	}
	return s, nil
}

// dropSession closes the current connection, if any.
func (s *Source) dropSession() {
	if s.sess == nil {
		return
	}
	s.sess.close()
	s.sess = nil
	s.setConnected(false)
}

func (s *Source) setConnected(c bool) {
	s.metrics.connected.Set(boolGauge(c))
	s.Runner.SetConnected(c)
}
