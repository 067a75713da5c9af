// Package pipeline is the daemon: it runs the sources, the item workers
// and the HTTP server, and stops them in a fixed order.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/decision"
	"github.com/earshot-dev/earshot/intake/imap"
	slackin "github.com/earshot-dev/earshot/intake/slack"
	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/intake/voicemail"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/store"
	"github.com/earshot-dev/earshot/transcribe"
	"github.com/earshot-dev/earshot/web"
)

// Daemon is one running Earshot replica.
type Daemon struct {
	cfg   *config.Config
	store *store.Store
	log   *slog.Logger
	reg   *prometheus.Registry
	name  string
	wake  chan struct{}
	// outboxWake tells the outbox worker that processing enqueued messages.
	outboxWake chan struct{}
	sources    []intakeSource
	twilio     *voicemail.Source // nil without a Twilio account
	slack      *slackin.App      // nil without a Slack app
	workers    *Workers
	outbox     *outbound.Worker
	// mailer keeps an SMTP connection between messages; nil without smtp.
	mailer     *outbound.Mailer
	listener   net.Listener
	routes     func(mux *http.ServeMux)
	dashboard  *web.Dashboard
	scheduler  *Scheduler
	search     *SearchIndexer
	intakeOnly bool
	// transcriber is closed after the workers: the whisper engine runs a
	// server process.
	transcriber transcribe.Transcriber
	// opsListener serves /readyz and /metrics apart; nil without
	// http.ops_listen (Run listens on it).
	opsListener net.Listener
}

// intakeSource is a running intake: an IMAP mailbox, the Twilio account,
// a Slack channel or the Slack app's Socket Mode connection, each run by a
// source.Runner.
type intakeSource interface {
	Name() string
	Run(ctx context.Context) error
	Close() error
	Status() source.Status
}

// Options tunes New. A nil *Options means the defaults.
type Options struct {
	// Listener replaces listening on cfg.HTTP.Listen (tests pass :0).
	Listener net.Listener
	// OpsListener replaces listening on cfg.HTTP.OpsListen, and serves
	// /readyz and /metrics there even when it is not configured.
	OpsListener net.Listener
	// Name names this replica in leases and claims; hostname-pid-random
	// when empty.
	Name string
	// Routes adds handlers to the HTTP server (`earshot dev` adds its
	// captured-mail page).
	Routes func(mux *http.ServeMux)
	// IntakeOnly runs the sources and the HTTP endpoints only: items are
	// stored and wait for a replica that processes them.
	IntakeOnly bool
	// SenderCheck replaces the verification of email senders (DKIM,
	// DMARC, a trusted server's Authentication-Results, spam verdicts;
	// NewSenderCheck of the configuration's dns settings when nil).
	SenderCheck SenderCheck
}

// New wires a daemon from a validated configuration and an open store.
func New(cfg *config.Config, st *store.Store, log *slog.Logger, opts *Options) (*Daemon, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = replicaName()
	}
	d := &Daemon{cfg: cfg, store: st, log: log, reg: prometheus.NewRegistry(), name: o.Name,
		wake: make(chan struct{}, 1), outboxWake: make(chan struct{}, 1), listener: o.Listener, routes: o.Routes,
		intakeOnly: o.IntakeOnly, opsListener: o.OpsListener}
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	router, err := NewRouter(cfg)
	if err != nil {
		return nil, err
	}
	sink := &wakingSink{Store: st, wake: d.wake}
	runner := source.Options{Logger: log, Holder: d.name, LeaseTTL: cfg.Workers.SourceLease}
	for _, m := range cfg.Mailboxes {
		src, err := imap.New(m.Name, m.Address, imapConfig(m.IMAP), sink, &imap.Options{Options: runner, Registerer: d.reg})
		if err != nil {
			return nil, fmt.Errorf("mailbox %s: %w", m.Name, err)
		}
		d.sources = append(d.sources, src)
	}
	var twilioClient transcribe.TwilioTranscriptions
	if cfg.Twilio != nil {
		src, err := voicemail.New("twilio", voicemail.FromConfig(cfg), sink, &voicemail.Options{Options: runner, Registerer: d.reg})
		if err != nil {
			return nil, fmt.Errorf("twilio: %w", err)
		}
		d.twilio = src
		d.sources = append(d.sources, src)
		twilioClient = src.Client()
	}
	if cfg.Slack != nil {
		app, err := slackin.New(slackin.FromConfig(cfg), sink, &slackin.Options{Options: runner, Registerer: d.reg})
		if err != nil {
			return nil, fmt.Errorf("slack: %w", err)
		}
		d.slack = app
		for _, ch := range app.Channels {
			d.sources = append(d.sources, ch)
		}
		if sock := app.Socket(); sock != nil {
			d.sources = append(d.sources, sock)
		}
	}
	tr, err := transcribe.New(cfg.Transcribe, &transcribe.Options{Vocabulary: transcribe.VocabularyFrom(cfg),
		Twilio: twilioClient, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("transcription: %w", err)
	}
	d.transcriber = tr
	awarder, err := NewAwarder(cfg, st, log.With("component", "award"))
	if err != nil {
		return nil, fmt.Errorf("acks: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	signer, err := decision.Signer(sctx, st)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	awarder.Planner.Composer.Signer = signer
	decide, err := decision.New(sctx, cfg, st, log)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	senders := map[model.Channel]outbound.Sender{}
	if cfg.SMTP != nil {
		m, err := outbound.NewMailer(*cfg.SMTP)
		if err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
		senders[model.ChannelEmail] = m
		d.mailer = m
	}
	if cfg.Twilio != nil && cfg.SMS.Enabled {
		sms, err := outbound.NewSMS(*cfg.Twilio)
		if err != nil {
			return nil, fmt.Errorf("sms: %w", err)
		}
		senders[model.ChannelSMS] = sms
	}
	if d.slack != nil {
		senders[model.ChannelSlack] = d.slack
	}
	if len(cfg.Webhooks.Endpoints) > 0 {
		senders[model.ChannelWebhook] = outbound.NewWebhookSender(cfg.Webhooks)
	}
	d.dashboard, err = web.NewDashboard(web.DashboardOptions{Store: st, Config: cfg, Logger: log, Decisions: decide, Signer: signer})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	// The outbox claim is short: a crashed replica's messages go out
	// again within a minute or two.
	d.outbox = &outbound.Worker{Store: st, Senders: senders, Name: d.name, Wake: d.outboxWake, Lease: cfg.Workers.SourceLease,
		MaxAttemptsFor: map[model.Channel]int{model.ChannelWebhook: cfg.Webhooks.MaxAttempts},
		Log:            log.With("component", "outbox")}
	d.outbox.Register(d.reg)
	d.scheduler, err = NewScheduler(cfg, st, cfg.Digest.Managers, log.With("component", "schedule"))
	if err != nil {
		return nil, fmt.Errorf("scheduled mail: %w", err)
	}
	d.scheduler.Wake = d.outboxWake
	d.search = &SearchIndexer{Store: st, Log: log.With("component", "search")}
	d.search.Register(d.reg)
	check := o.SenderCheck
	if check == nil {
		check = NewSenderCheck(cfg.DNS)
	}
	gate := NewGate(cfg, st, check)
	d.workers = &Workers{
		Store: st,
		Processor: &Processor{Store: st, Router: router, Gate: gate,
			Voicemails: &Voicemails{Store: st, Transcriber: tr, Router: router, Gate: gate},
			Slacks:     d.slacks(st, tr, router, gate),
			Awarder:    awarder,
			Replies:    &Replies{Decide: decide, Signer: signer, Owners: cfg.Owners}},
		Processed:   d.outboxWake,
		Name:        d.name,
		Count:       cfg.Workers.Items,
		Batch:       cfg.Workers.Batch,
		Lease:       cfg.Workers.Lease,
		MaxAttempts: cfg.Workers.MaxAttempts,
		Log:         log.With("component", "worker"),
		Wake:        d.wake,
	}
	d.workers.Register(d.reg)
	return d, nil
}

// slacks is the processing of Slack messages; nil without a Slack app.
func (d *Daemon) slacks(st *store.Store, tr transcribe.Transcriber, router *Router, gate *Gate) *Slacks {
	if d.slack == nil {
		return nil
	}
	return &Slacks{Store: st, Directory: d.slack, Transcriber: tr, Router: router, Gate: gate}
}

// imapConfig turns the configured mailbox into the IMAP source's settings.
func imapConfig(c config.IMAP) imap.Config {
	out := imap.Config{
		Host: c.Host, Port: c.Port, TLS: c.TLS, Insecure: c.Insecure, Username: c.Username,
		Password: c.Password.Value(), Folder: c.Folder, AfterIngest: c.AfterIngest, MoveTo: c.MoveTo,
		PollInterval: c.PollInterval, NoIdle: c.NoIdle, IdleRefresh: c.IdleRefresh, BatchSize: c.BatchSize,
		MaxMessageBytes: c.MaxMessageBytes,
	}
	if o := c.OAuth2; o != nil {
		out.Password = ""
		out.OAuth2 = imap.OAuth2Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Value(),
			RefreshToken: o.RefreshToken.Value(), TokenURL: o.TokenURL, Scopes: o.Scopes}
	}
	return out
}

// wakingSink tells idle workers that new items arrived.
type wakingSink struct {
	*store.Store
	wake chan struct{}
}

func (s *wakingSink) Receive(ctx context.Context, b model.Batch) (model.ReceiveResult, error) {
	res, err := s.Store.Receive(ctx, b)
	if err == nil && res.Inserted+res.Linked > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return res, err
}

// Registry is the daemon's private Prometheus registry.
func (d *Daemon) Registry() *prometheus.Registry { return d.reg }

// hasOps reports whether /readyz and /metrics have a listener of their
// own.
func (d *Daemon) hasOps() bool { return d.opsListener != nil || d.cfg.HTTP.OpsListen != "" }

// Handler returns the public HTTP handler: /healthz, the Twilio webhooks,
// Slack's Events API and the dashboard; /readyz and /metrics for loopback
// clients when they have no listener of their own.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	expose := web.ExposeLoopback
	if d.hasOps() {
		expose = web.ExposeNone
	}
	web.RegisterHealth(mux, web.HealthOptions{DB: d.store, Registry: d.reg, Sources: d.sourceHealth,
		Expose: expose, TrustedProxies: d.cfg.Web.TrustedProxies})
	d.dashboard.Register(mux)
	if d.twilio != nil {
		h := d.twilio.Handler()
		mux.Handle("POST "+voicemail.RecordingPath, h)
		mux.Handle("POST "+voicemail.VoicePath, h)
	}
	if d.slack != nil && d.cfg.Slack.Mode == "events" {
		mux.Handle("POST "+slackin.EventsPath, d.slack.Handler())
	}
	if d.routes != nil {
		d.routes(mux)
	}
	return mux
}

// OpsHandler returns the handler of the ops listener: /healthz, /readyz
// and /metrics, for every client.
func (d *Daemon) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	web.RegisterHealth(mux, web.HealthOptions{DB: d.store, Registry: d.reg, Sources: d.sourceHealth, Expose: web.ExposeAll})
	return mux
}

func (d *Daemon) sourceHealth(ctx context.Context) []web.SourceHealth {
	var out []web.SourceHealth
	for _, s := range d.sources {
		st := s.Status()
		out = append(out, web.SourceHealth{Name: st.Name, State: string(st.State), LastSuccess: st.LastSuccess,
			LastError: st.LastError, Disabled: st.DisabledReason})
	}
	return out
}

// Run runs the daemon until ctx is done. The shutdown order is fixed:
// stop accepting HTTP, stop the sources (nothing new arrives), drain the
// item workers (items in hand finish), drain the outbox worker (messages
// in hand are sent and marked), and return so the caller closes the
// database.
func (d *Daemon) Run(ctx context.Context) error {
	httpErr := make(chan error, 2)
	srv, err := d.serve("public", d.listener, d.cfg.HTTP.Listen, d.Handler(), httpErr)
	if err != nil {
		return err
	}
	var ops *web.Server
	opsAddr := ""
	if d.hasOps() {
		if ops, err = d.serve("ops", d.opsListener, d.cfg.HTTP.OpsListen, d.OpsHandler(), httpErr); err != nil {
			srv.Shutdown(context.Background())
			return err
		}
		opsAddr = ops.Addr().String()
	}
	d.log.Info("earshot running", "replica", d.name, "http", srv.Addr().String(), "ops", opsAddr,
		"mailboxes", len(d.sources), "database", string(d.store.Dialect()), "intake_only", d.intakeOnly)

	srcCtx, stopSources := context.WithCancel(ctx)
	var srcWG sync.WaitGroup
	for _, s := range d.sources {
		srcWG.Add(1)
		go func() {
			defer srcWG.Done()
			if err := s.Run(srcCtx); err != nil && !errors.Is(err, context.Canceled) {
				d.log.Error("source stopped", "source", s.Name(), "err", err)
			}
		}()
	}
	// Workers and the outbox finish what they hold after ctx ends; they
	// are stopped in order below. An intake-only replica runs none.
	start := func(parent context.Context, run func(context.Context)) (stop func()) {
		if d.intakeOnly {
			return func() {}
		}
		ctx, cancel := context.WithCancel(parent)
		done := make(chan struct{})
		go func() { run(ctx); close(done) }()
		return func() { cancel(); <-done }
	}
	stopWorkers := start(context.WithoutCancel(ctx), d.workers.Run)
	stopSchedule := start(ctx, d.scheduler.Run)
	stopSearch := start(ctx, d.search.Run)
	stopOutbox := start(context.WithoutCancel(ctx), d.outbox.Run)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-httpErr:
	}
	d.log.Info("shutting down: http")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	srv.Shutdown(sctx)
	if ops != nil {
		ops.Shutdown(sctx)
	}
	cancel()
	d.log.Info("shutting down: sources")
	stopSources()
	srcWG.Wait()
	for _, s := range d.sources {
		s.Close()
	}
	stopSchedule()
	stopSearch()
	d.log.Info("shutting down: workers")
	stopWorkers()
	if c, ok := d.transcriber.(io.Closer); ok {
		c.Close()
	}
	d.log.Info("shutting down: outbox")
	stopOutbox()
	if d.mailer != nil {
		d.mailer.Close()
	}
	d.log.Info("stopped")
	return runErr
}

// serve starts an HTTP server named name on ln, or on addr when ln is
// nil; its Serve error goes to errs.
func (d *Daemon) serve(name string, ln net.Listener, addr string, h http.Handler, errs chan<- error) (*web.Server, error) {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("http %s: %w", name, err)
		}
	}
	srv, err := web.NewServer(ln, web.ServerOptions{Handler: h, HTTP: d.cfg.HTTP, Name: name,
		TrustedProxies: d.cfg.Web.TrustedProxies, Registerer: d.reg, Logger: d.log.With("component", "http")})
	if err != nil {
		ln.Close()
		return nil, err
	}
	go func() { errs <- srv.Serve() }()
	return srv, nil
}

// replicaName is hostname-pid-random: unique per process, readable in
// `earshot sources`.
func replicaName() string {
	h, _ := os.Hostname()
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}
