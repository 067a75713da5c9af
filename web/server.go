package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

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
}

// Server serves HTTP on one listener with Earshot's limits: a client has
// http.read_header_timeout to send its headers and http.read_timeout for
// the whole request, a response has http.write_timeout (downloads extend
// it while they progress), a kept-alive connection closes after
// http.idle_timeout without a request, and headers are at most
// http.max_header_bytes.
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
	h := o.HTTP
	srv := &http.Server{
		Handler:           o.Handler,
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		IdleTimeout:       h.IdleTimeout,
		MaxHeaderBytes:    h.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return &Server{srv: srv, ln: ln}, nil
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
