package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/config"
)

// ServerOptions configures one HTTP listener of the daemon.
type ServerOptions struct {
	// Handler serves the requests.
	Handler http.Handler
	// HTTP gives the deadlines and sizes (config's http section, with its
	// defaults filled).
	HTTP config.HTTP
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
	// Name names the listener in logs and metrics ("public", "ops").
	Name string
	// TrustedProxies (web.trusted_proxies) are exempt from the per-client
	// connection cap: each of their connections carries many clients.
	TrustedProxies []string
	// Registerer receives the earshot_http_connections* series; none when
	// nil.
	Registerer prometheus.Registerer
}

// Server serves HTTP on one listener with Earshot's limits: a client has
// http.read_header_timeout to send its headers and http.read_timeout for
// the whole request, a response has http.write_timeout (downloads extend
// it while they progress), a kept-alive connection closes after
// http.idle_timeout without a request, headers are at most
// http.max_header_bytes, and connections are capped in total and per
// client (ConnLimits).
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// NewServer prepares a server on ln; Serve starts it.
func NewServer(ln net.Listener, o ServerOptions) (*Server, error) {
	if o.Handler == nil {
		return nil, errors.New("http server: no handler")
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("listener", o.Name)
	h := o.HTTP
	proxies, err := parseProxies(o.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("http server: %w", err)
	}
	m, err := newConnMetrics(o.Registerer, o.Name)
	if err != nil {
		return nil, fmt.Errorf("http server: %w", err)
	}
	limits := ConnLimits{Total: h.MaxConnections, PerClient: h.MaxConnectionsPerClient, Exempt: proxies}
	warnFileLimit(log, limits.Total)
	srv := &http.Server{
		Handler:           serving(o.Handler),
		ConnContext:       connContext,
		ConnState:         connState,
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		IdleTimeout:       h.IdleTimeout,
		MaxHeaderBytes:    h.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return &Server{srv: srv, ln: newLimitListener(ln, limits, log, m)}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until Shutdown; it returns nil after a
// shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http %s: %w", s.ln.Addr(), err)
	}
	return nil
}

// Shutdown stops accepting, closes idle connections and waits for the
// requests in flight until ctx ends, then closes the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}
