package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
)

// TLS modes of the SMTP mailer.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Mailer sends email outbox messages over SMTP with a go-smtp client: HELO
// with the configured hostname, PLAIN or LOGIN authentication when a
// username is set. It keeps one connection open between messages, for at
// most MaxIdle and MaxPerConnection messages, and sends on it again; any
// error closes it. Close ends the kept connection.
type Mailer struct {
	addr     string
	host     string
	tlsMode  string
	username string
	password string
	hostname string
	// from is the envelope sender: the smtp.from address, which is the
	// account most providers require in MAIL FROM.
	from string
	// Timeout bounds each SMTP command (default 1 minute); the message
	// data gets twice as long.
	Timeout time.Duration
	// TLSConfig, when set, replaces the default TLS configuration (tests).
	TLSConfig *tls.Config
	// MaxIdle is how long a connection is kept between messages (default
	// 30 s, well below the five minutes RFC 5321 asks servers to wait).
	MaxIdle time.Duration
	// MaxPerConnection is how many messages one connection carries
	// (default 100; many providers close a connection after that).
	MaxPerConnection int

	mu   sync.Mutex
	idle *session // the kept connection, or nil
}

// session is one open, greeted and authenticated SMTP connection.
type session struct {
	c     *smtp.Client
	conn  net.Conn
	sent  int
	timer *time.Timer // closes the session when it has idled MaxIdle
}

// NewMailer builds a mailer from the smtp configuration. Plaintext is
// refused unless the host is loopback or insecure is set.
func NewMailer(c config.SMTP) (*Mailer, error) {
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("smtp.from: %w", err)
	}
	mode := c.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	if mode == TLSNone && !c.Insecure && !isLoopback(c.Host) {
		return nil, fmt.Errorf("smtp: plaintext to %s needs insecure: true", c.Host)
	}
	hostname := c.Hostname
	if hostname == "" {
		hostname = "localhost"
	}
	return &Mailer{
		addr: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), host: c.Host, tlsMode: mode,
		username: c.Username, password: c.Password.Value(), hostname: hostname, from: from.Address,
		Timeout: time.Minute,
	}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers one email message to its recipient. SMTP 5xx answers to
// the message (sender, recipient or data) are permanent; connection
// problems, 4xx answers and authentication failures (a configuration
// problem, not the message's) are temporary. The provider id is the queue
// id from the server's final answer, or else the Message-ID.
//
// A kept connection that the server closed meanwhile fails at MAIL FROM,
// before the server has accepted anything: the message is then sent once
// more on a new connection.
func (m *Mailer) Send(ctx context.Context, msg model.OutboxMessage) (string, error) {
	if ss := m.take(); ss != nil {
		if id, stale, err := m.sendOn(ctx, ss, msg); !stale {
			return id, err
		}
	}
	ss, err := m.connect(ctx)
	if err != nil {
		return "", err
	}
	id, _, err := m.sendOn(ctx, ss, msg)
	return id, err
}

// sendOn sends msg on ss, then keeps ss for the next message or closes it.
// stale reports a failure of MAIL FROM that a new connection may not have:
// the connection dropped, or the server said 421 (closing).
func (m *Mailer) sendOn(ctx context.Context, ss *session, msg model.OutboxMessage) (id string, stale bool, err error) {
	stop := context.AfterFunc(ctx, func() { _ = ss.conn.SetDeadline(time.Unix(1, 0)) })
	keep := false
	defer func() {
		if !stop() || !keep { // ctx ended: the deadline is in the past
			ss.c.Close()
			return
		}
		m.put(ss)
	}()
	if err := ss.c.Mail(m.from, nil); err != nil {
		var se *smtp.SMTPError
		return "", !errors.As(err, &se) || se.Code == 421, classify("mail from", err)
	}
	if err := ss.c.Rcpt(msg.Recipient, nil); err != nil {
		return "", false, classify("rcpt to", err)
	}
	w, err := ss.c.Data()
	if err != nil {
		return "", false, classify("data", err)
	}
	if _, err := w.Write(msg.Body); err != nil {
		return "", false, classify("data", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", false, classify("data", err)
	}
	keep = true
	if id := queueID(resp.StatusText); id != "" {
		return id, false, nil
	}
	return headerMessageID(msg.Body), false, nil
}

// take returns the kept connection, if any, and forgets it.
func (m *Mailer) take() *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.idle
	m.idle = nil
	if ss != nil && !ss.timer.Stop() {
		return nil // its idle time ran out: the timer is closing it
	}
	return ss
}

// put keeps ss for the next message, or says goodbye when it has carried
// enough messages or another connection is kept already.
func (m *Mailer) put(ss *session) {
	ss.sent++
	maxSent := m.MaxPerConnection
	if maxSent <= 0 {
		maxSent = 100
	}
	idle := m.MaxIdle
	if idle <= 0 {
		idle = 30 * time.Second
	}
	m.mu.Lock()
	if ss.sent >= maxSent || m.idle != nil {
		m.mu.Unlock()
		quit(ss)
		return
	}
	m.idle = ss
	ss.timer = time.AfterFunc(idle, func() {
		m.mu.Lock()
		if m.idle == ss {
			m.idle = nil
		}
		m.mu.Unlock()
		quit(ss)
	})
	m.mu.Unlock()
}

// Close ends the kept connection, if any, with QUIT.
func (m *Mailer) Close() error {
	if ss := m.take(); ss != nil {
		quit(ss)
	}
	return nil
}

// quit says QUIT, briefly, and closes the connection.
func quit(ss *session) {
	_ = ss.conn.SetDeadline(time.Now().Add(5 * time.Second))
	_ = ss.c.Quit()
	ss.c.Close()
}

// connect dials, greets, secures and authenticates one connection; ctx
// ending meanwhile aborts it.
func (m *Mailer) connect(ctx context.Context) (*session, error) {
	var c *smtp.Client
	d := &net.Dialer{Timeout: m.Timeout}
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", m.addr, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	cfg := m.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
	}
	switch m.tlsMode {
	case TLSImplicit:
		c = smtp.NewClient(tls.Client(conn, cfg))
	case TLSStartTLS:
		// The EHLO before STARTTLS says "localhost"; the one after it,
		// which the server acts on, says the configured hostname.
		c, err = smtp.NewClientStartTLS(conn, cfg)
		if err != nil {
			stop()
			conn.Close()
			return nil, fmt.Errorf("smtp %s: starttls: %w", m.addr, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = m.Timeout, 2*m.Timeout
	fail := func(what string, err error) (*session, error) {
		stop()
		c.Close()
		return nil, fmt.Errorf("smtp %s: %s: %w", m.addr, what, err)
	}
	if err := c.Hello(m.hostname); err != nil {
		return fail("hello", err)
	}
	if m.username != "" {
		var auth sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			auth = sasl.NewPlainClient("", m.username, m.password)
		case c.SupportsAuth(sasl.Login):
			auth = sasl.NewLoginClient(m.username, m.password)
		default:
			return fail("auth", errors.New("server offers neither PLAIN nor LOGIN"))
		}
		if err := c.Auth(auth); err != nil {
			return fail("auth", err)
		}
	}
	if !stop() {
		c.Close()
		return nil, fmt.Errorf("smtp %s: %w", m.addr, context.Cause(ctx))
	}
	return &session{c: c, conn: conn}, nil
}

// classify wraps an SMTP error: 5xx answers are permanent.
func classify(step string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return &PermanentError{fmt.Errorf("smtp %s: %w", step, err)}
	}
	return fmt.Errorf("smtp %s: %w", step, err)
}

// queueID finds the queue id in a final answer such as
// "2.0.0 Ok: queued as 4XyZ1" (Postfix, Mailpit) or "OK id=1abc-00" (Exim).
func queueID(text string) string {
	for _, marker := range []string{"queued as ", "id="} {
		if i := strings.Index(text, marker); i >= 0 {
			if f := strings.Fields(text[i+len(marker):]); len(f) > 0 {
				return strings.Trim(f[0], "<>.,;")
			}
		}
	}
	return ""
}

// headerMessageID returns the Message-ID of a message (without <>).
func headerMessageID(raw []byte) string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(raw)
	}
	for _, line := range strings.Split(string(raw[:end]), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Message-Id") {
			return strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	return ""
}
