package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/model"
)

// Sink is what the Slack source needs of the store; *store.Store
// implements it.
type Sink interface {
	source.Store
	SourceCursor(ctx context.Context, name string) (json.RawMessage, error)
	Receive(ctx context.Context, b model.Batch) (model.ReceiveResult, error)
	ReceivedKeys(ctx context.Context, source string, keys []string) (map[string]bool, error)
	ReceiveSlackChange(ctx context.Context, source, key string, ch model.SlackChange) (bool, error)
}

// Options tunes an App. A nil *Options and zero fields mean the defaults.
type Options struct {
	// Options tune the channels' runners: logger, lease holder and TTL,
	// clock, backoff and the retry of a disabled source. The Socket Mode
	// connection runs without a lease: Slack spreads events over every
	// replica's connection.
	source.Options
	// Registerer receives the earshot_slack_* metrics; none when nil.
	Registerer prometheus.Registerer
	// HTTPClient carries the Web API calls (30 s timeout by default).
	HTTPClient *http.Client
}

// App is one Slack app: its Web API client, the channels it reads (each
// a Source with its own cursor and lease), its Socket Mode connection or
// Events API handler, and its posts.
type App struct {
	cfg     Config
	client  *Client
	sink    Sink
	opts    Options
	log     *slog.Logger
	metrics *metrics
	// Channels are the configured channels, in order.
	Channels []*Source
	socket   *Socket // nil in events mode

	mu      sync.Mutex
	self    Identity
	byID    map[string]*Source // resolved channel IDs
	ensured map[string]bool    // source rows known to exist
	seen    *seenEvents
	users   map[string]cachedUser
	userTTL time.Duration
}

type cachedUser struct {
	u  User
	at time.Time
}

// New returns the app of cfg, storing into sink. It does no I/O.
func New(cfg Config, sink Sink, opts *Options) (*App, error) {
	if sink == nil {
		return nil, errors.New("slack: sink is required")
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Options = o.Options.Defaults()
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, fmt.Errorf("slack: metrics: %w", err)
	}
	a := &App{cfg: cfg, sink: sink, opts: o, metrics: m, log: o.Logger.With("component", "slack"),
		client: NewClient(cfg.BotToken, cfg.APIURL, o.HTTPClient), byID: map[string]*Source{},
		ensured: map[string]bool{}, seen: newSeenEvents(10 * time.Minute), users: map[string]cachedUser{},
		userTTL: time.Hour}
	a.client.onRateLimit = m.rateLimited.Inc
	for _, ch := range cfg.Channels {
		a.Channels = append(a.Channels, newSource(a, ch))
	}
	if cfg.Mode == "socket" {
		a.socket = newSocket(a)
	}
	return a, nil
}

// Client returns the app's Web API client.
func (a *App) Client() *Client { return a.client }

// Socket returns the Socket Mode connection's source; nil in events mode.
func (a *App) Socket() *Socket { return a.socket }

// identity returns who the app is, asking auth.test once.
func (a *App) identity(ctx context.Context) (Identity, error) {
	a.mu.Lock()
	self := a.self
	a.mu.Unlock()
	if self.Team != "" {
		return self, nil
	}
	self, err := a.client.AuthTest(ctx)
	if err != nil {
		return Identity{}, err
	}
	a.mu.Lock()
	a.self = self
	a.mu.Unlock()
	return self, nil
}

// channel returns the configured channel of a channel ID, resolving the
// channels given by name first; nil when the channel is not read.
func (a *App) channel(ctx context.Context, id string) (*Source, error) {
	a.mu.Lock()
	s := a.byID[id]
	a.mu.Unlock()
	if s != nil {
		return s, nil
	}
	var errs []error
	for _, s := range a.Channels {
		if s.id() != "" {
			continue
		}
		if err := s.resolve(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	a.mu.Lock()
	s = a.byID[id]
	a.mu.Unlock()
	if s == nil && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// ensure creates a channel's source row once.
func (a *App) ensure(ctx context.Context, name string) error {
	a.mu.Lock()
	done := a.ensured[name]
	a.mu.Unlock()
	if done {
		return nil
	}
	if err := a.sink.EnsureSource(ctx, name, Kind); err != nil {
		return err
	}
	a.mu.Lock()
	a.ensured[name] = true
	a.mu.Unlock()
	return nil
}

// gap asks every channel to catch up: the event stream had a gap.
func (a *App) gap() {
	a.metrics.gaps.Inc()
	for _, s := range a.Channels {
		s.wakeUp()
	}
}

// UserInfo returns a Slack user's profile, cached for an hour.
func (a *App) UserInfo(ctx context.Context, id string) (User, error) {
	now := a.opts.Now()
	a.mu.Lock()
	c, ok := a.users[id]
	a.mu.Unlock()
	if ok && now.Sub(c.at) < a.userTTL {
		return c.u, nil
	}
	u, err := a.client.User(ctx, id)
	if err != nil {
		return User{}, err
	}
	a.mu.Lock()
	a.users[id] = cachedUser{u: u, at: now}
	a.mu.Unlock()
	return u, nil
}

// Download reads a Slack file with the bot token, up to the size cap.
func (a *App) Download(ctx context.Context, url string) ([]byte, error) {
	return a.client.Download(ctx, url, a.cfg.MaxFileBytes)
}

// Permalink returns a message's link in Slack.
func (a *App) Permalink(ctx context.Context, channel, ts string) (string, error) {
	return a.client.Permalink(ctx, channel, ts)
}

// Send posts an outbox message of the slack channel, whose body is a
// model.SlackPost, and returns the post's ts. A retry first looks for the
// reply it may have posted before a crash, so that it is not posted twice.
func (a *App) Send(ctx context.Context, m model.OutboxMessage) (string, error) {
	var p model.SlackPost
	if err := json.Unmarshal(m.Body, &p); err != nil {
		return "", failure{fmt.Errorf("outbox %d: slack post: %w", m.ID, err)}
	}
	if m.Attempts > 1 {
		if ts, err := a.client.Posted(ctx, p); err != nil {
			return "", err
		} else if ts != "" {
			return ts, nil
		}
	}
	return a.client.Post(ctx, p)
}
