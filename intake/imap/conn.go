package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// connectTimeout bounds dialing, the greeting, login and SELECT.
const connectTimeout = time.Minute

// session is one logged-in IMAP connection with the folder selected. Only
// the goroutine that opened it issues commands on it.
type session struct {
	c        *imapclient.Client
	validity uint32
	idle     bool // the server offers IDLE
	// signal receives a value when the server reports a new message count
	// (EXISTS); the reader goroutine sends without blocking.
	signal chan struct{}
	// reconcile asks the next sync to redo post-commit steps for stored
	// messages still in the folder: set on connect and after a failure.
	reconcile bool
}

// alive reports whether the connection has not been closed.
func (ss *session) alive() bool {
	select {
	case <-ss.c.Closed():
		return false
	default:
		return ss.c.State() != goimap.ConnStateLogout
	}
}

// close logs out politely for a moment, then closes the connection.
func (ss *session) close() {
	if ss.alive() {
		done := make(chan struct{})
		go func() {
			_ = ss.c.Logout().Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	}
	_ = ss.c.Close()
}

// connect dials the server, logs in, creates the move_to folder when
// needed and selects the folder.
func (s *Source) connect(ctx context.Context) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	signal := make(chan struct{}, 1)
	opts := &imapclient.Options{
		Dialer: s.dialer,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages == nil {
					return
				}
				select {
				case signal <- struct{}{}:
				default:
				}
			},
		},
	}
	c, err := s.dial(ctx, opts)
	if err != nil {
		return nil, err
	}
	// Commands take no context: closing the connection is how a deadline
	// or shutdown interrupts them.
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	ss := &session{c: c, signal: signal, reconcile: true}
	if err := s.open(ctx, ss); err != nil {
		stop()
		_ = c.Close()
		if ctx.Err() != nil && !IsPermanent(err) {
			return nil, fmt.Errorf("connect within %s: %w", connectTimeout, err)
		}
		return nil, err
	}
	if !stop() {
		return nil, fmt.Errorf("connect within %s: %w", connectTimeout, ctx.Err())
	}
	return ss, nil
}

// open runs the greeting, login, folder creation and SELECT on a new client.
func (s *Source) open(ctx context.Context, ss *session) error {
	c := ss.c
	if err := c.WaitGreeting(); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if err := s.login(ctx, c); err != nil {
		return err
	}
	if s.cfg.AfterIngest == AfterMove {
		if err := ensureFolder(c, s.cfg.MoveTo); err != nil {
			// Ingest goes on; moving is retried after the next connect.
			s.log.Warn("cannot create move_to folder", "folder", s.cfg.MoveTo, "err", err)
		}
	}
	sel, err := c.Select(s.cfg.Folder, &goimap.SelectOptions{ReadOnly: s.cfg.AfterIngest == AfterKeep}).Wait()
	if err != nil {
		return classifySelect(fmt.Errorf("select %s: %w", s.cfg.Folder, err))
	}
	ss.validity = sel.UIDValidity
	ss.idle = c.Caps().Has(goimap.CapIdle) && !s.cfg.NoIdle
	return nil
}

// dial opens the TCP connection and sets up TLS as configured.
func (s *Source) dial(ctx context.Context, opts *imapclient.Options) (*imapclient.Client, error) {
	addr := s.cfg.addr()
	nc, err := s.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	tlsCfg := s.tlsConfig()
	switch s.cfg.TLS {
	case TLSImplicit:
		tlsCfg.NextProtos = []string{"imap"}
		tc := tls.Client(nc, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, classifyDial(fmt.Errorf("tls handshake with %s: %w", addr, err))
		}
		return imapclient.New(tc, opts), nil
	case TLSStartTLS:
		stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
		defer stop()
		opts.TLSConfig = tlsCfg
		c, err := imapclient.NewStartTLS(nc, opts)
		if err != nil {
			var imapErr *goimap.Error
			if errors.As(err, &imapErr) {
				return nil, permanent("server refused starttls", err)
			}
			return nil, classifyDial(fmt.Errorf("starttls with %s: %w", addr, err))
		}
		return c, nil
	default:
		return imapclient.New(nc, opts), nil
	}
}

// tlsConfig returns the TLS settings for the configured host.
func (s *Source) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.opts.TLSConfig != nil {
		cfg = s.opts.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.cfg.Host
	}
	return cfg
}

// login authenticates with the password, or with XOAUTH2 when OAuth2 is
// configured. A rejected access token that came from the cache is
// refreshed and tried once more.
func (s *Source) login(ctx context.Context, c *imapclient.Client) error {
	if s.tokens == nil {
		if c.Caps().Has(goimap.CapLoginDisabled) {
			return permanent("server disables login on this connection",
				errors.New("LOGINDISABLED: use tls implicit or starttls"))
		}
		if err := c.Login(s.cfg.Username, s.cfg.Password).Wait(); err != nil {
			return classifyLogin(fmt.Errorf("login %s: %w", s.cfg.Username, err))
		}
		return nil
	}
	if !slices.ContainsFunc(c.Caps().AuthMechanisms(), func(m string) bool { return strings.EqualFold(m, "XOAUTH2") }) {
		return permanent("server does not offer AUTH=XOAUTH2", errors.New("xoauth2 unavailable"))
	}
	token, fresh, err := s.tokens.token(ctx, false)
	if err != nil {
		return err
	}
	err = c.Authenticate(&xoauth2{user: s.cfg.Username, token: token})
	if err != nil && !fresh && IsPermanent(classifyLogin(err)) {
		if token, _, err = s.tokens.token(ctx, true); err != nil {
			return err
		}
		err = c.Authenticate(&xoauth2{user: s.cfg.Username, token: token})
	}
	if err != nil {
		return classifyLogin(fmt.Errorf("xoauth2 %s: %w", s.cfg.Username, err))
	}
	return nil
}

// ensureFolder creates folder unless it exists.
func ensureFolder(c *imapclient.Client, folder string) error {
	list, err := c.List("", folder, nil).Collect()
	if err != nil {
		return fmt.Errorf("list %s: %w", folder, err)
	}
	for _, mb := range list {
		if mb.Mailbox == folder || strings.EqualFold(folder, "INBOX") {
			return nil
		}
	}
	if err := c.Create(folder, nil).Wait(); err != nil {
		var imapErr *goimap.Error
		if errors.As(err, &imapErr) && imapErr.Code == goimap.ResponseCodeAlreadyExists {
			return nil
		}
		return fmt.Errorf("create %s: %w", folder, err)
	}
	return nil
}
