package slack

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/earshot-dev/earshot/intake/source"
)

// Socket is the app's Socket Mode connection, run as a source without a
// lease: Slack spreads events over every open connection, so every
// replica keeps one. Each event is acknowledged only once it is stored; a
// reconnection is a gap, after which every channel catches up.
type Socket struct {
	*source.Runner
	app *App
	// run is the live connection; owned by the goroutine running the
	// runner.
	run *socketRun
	// wasUp is set once a connection was open: any later one follows a
	// gap.
	wasUp atomic.Bool
}

// socketRun is one Socket Mode client's life.
type socketRun struct {
	cancel    context.CancelFunc
	done      chan struct{} // closed when the client and its event loop ended
	err       error         // why, once done is closed
	connected chan struct{} // closed at the first connection
	failed    chan error    // a permanent failure before connecting
}

func newSocket(a *App) *Socket {
	ro := a.opts.Options
	ro.Holder = ""
	ro.Logger = a.log.With("source", AppSource)
	return &Socket{app: a, Runner: source.New(AppSource, Kind, "socket mode", a.sink, a.metrics.runner(), ro)}
}

// Run keeps the connection open until ctx ends, reconnecting after a
// jittered backoff.
func (s *Socket) Run(ctx context.Context) error { return s.Runner.Run(ctx, socketDriver{s}) }

// Close does nothing: Run closes its connection when its context ends.
func (s *Socket) Close() error { return nil }

type socketDriver struct{ s *Socket }

// connectTimeout bounds apps.connections.open and the WebSocket dial.
const connectTimeout = 30 * time.Second

// Sync opens the connection (or finds it open).
func (d socketDriver) Sync(ctx context.Context) error {
	s, a := d.s, d.s.app
	if s.run != nil {
		select {
		case <-s.run.done:
			s.drop()
		default:
			return nil
		}
	}
	if _, err := a.identity(ctx); err != nil {
		return err
	}
	s.SetState(source.StateConnecting, time.Time{})
	opts := []slack.Option{slack.OptionAppLevelToken(a.cfg.AppToken)}
	if a.cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(a.cfg.APIURL))
	}
	if a.opts.HTTPClient != nil {
		opts = append(opts, slack.OptionHTTPClient(a.opts.HTTPClient))
	}
	client := socketmode.New(slack.New(a.cfg.BotToken, opts...))
	rctx, cancel := context.WithCancel(ctx)
	r := &socketRun{cancel: cancel, done: make(chan struct{}), connected: make(chan struct{}), failed: make(chan error, 1)}
	s.run = r
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(rctx) }()
	go s.loop(rctx, client, r, errc)
	t := time.NewTimer(connectTimeout)
	defer t.Stop()
	select {
	case <-r.connected:
		a.metrics.connected.Set(1)
		s.SetConnected(true)
		return nil
	case err := <-r.failed:
		return err
	case <-r.done:
		return fmt.Errorf("socket mode: %w", r.err)
	case <-t.C:
		return errors.New("socket mode: not connected within 30s")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait blocks while the connection is open; it returns why it ended.
func (d socketDriver) Wait(ctx context.Context) error {
	s := d.s
	s.SetState(source.StateIdle, time.Time{})
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.run.done:
		return fmt.Errorf("socket mode connection ended: %w", s.run.err)
	}
}

// Drop closes the connection.
func (d socketDriver) Drop() { d.s.drop() }

func (s *Socket) drop() {
	if s.run == nil {
		return
	}
	s.run.cancel()
	<-s.run.done
	s.run = nil
	s.app.metrics.connected.Set(0)
	s.SetConnected(false)
}

// loop reads the client's events: it stores each Events API envelope and
// acknowledges it only then, and treats every reconnection as a gap.
func (s *Socket) loop(ctx context.Context, c *socketmode.Client, r *socketRun, errc <-chan error) {
	a := s.app
	defer close(r.done)
	first := true
	for {
		select {
		case err := <-errc:
			r.err = err
			if r.err == nil {
				r.err = errors.New("closed")
			}
			return
		case evt := <-c.Events:
			switch evt.Type {
			case socketmode.EventTypeConnected:
				if first {
					first = false
					close(r.connected)
				}
				if s.wasUp.Swap(true) {
					a.log.Info("socket mode reconnected; every channel catches up")
					a.gap()
				}
			case socketmode.EventTypeInvalidAuth:
				select {
				case r.failed <- source.Permanent("slack rejected the app-level token", errors.New("socket mode: invalid_auth")):
				default:
				}
			case socketmode.EventTypeConnectionError:
				a.log.Warn("socket mode connection error", "err", evt.Data)
			case socketmode.EventTypeEventsAPI:
				s.event(ctx, c, evt.Request)
			case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
				if evt.Request != nil {
					_ = c.AckCtx(ctx, evt.Request.EnvelopeID, nil)
				}
			}
		}
	}
}

// event stores one Events API envelope and acknowledges it; a failure
// leaves it unacknowledged, and Slack delivers it again.
func (s *Socket) event(ctx context.Context, c *socketmode.Client, req *socketmode.Request) {
	a := s.app
	if req == nil {
		return
	}
	if req.RetryAttempt > 0 {
		a.metrics.duplicates.WithLabelValues("retry").Inc()
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := a.IngestEnvelope(sctx, ViaSocket, req.Payload)
	cancel()
	if err != nil {
		a.log.Warn("slack event not stored; Slack delivers it again", "envelope", req.EnvelopeID, "err", err)
		return
	}
	if err := c.AckCtx(ctx, req.EnvelopeID, nil); err != nil {
		a.log.Warn("cannot acknowledge a slack event", "envelope", req.EnvelopeID, "err", err)
	}
}
