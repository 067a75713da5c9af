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

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
)

// TLS modes of the SMTP mailer.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Mailer sends email outbox messages over SMTP: EHLO with the configured
// hostname, implicit TLS or STARTTLS, PLAIN or LOGIN authentication when a
// username is set. A batch goes out in one write, MAIL, RCPT and BDAT for
// each message, when the server offers PIPELINING and CHUNKING, and a
// command at a time with DATA otherwise. It keeps one connection open
// between batches, for at most MaxIdle and MaxPerConnection messages, and
// sends on it again; a connection failure closes it. Close ends the kept
// connection.
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
	// Timeout bounds each SMTP command (default 1 minute); a message's
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
	c     *smtpConn
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

// Send delivers one email message to its recipient; see SendBatch.
func (m *Mailer) Send(ctx context.Context, msg model.OutboxMessage) (string, error) {
	r := m.SendBatch(ctx, []model.OutboxMessage{msg})[0]
	return r.ProviderID, r.Err
}

// SendBatch delivers email messages, each to its recipient, and returns
// one result per message. SMTP 5xx answers to a message (sender,
// recipient or data) are permanent; connection problems, 4xx answers and
// authentication failures (a configuration problem, not the message's)
// are temporary. The provider id is the queue id from the server's final
// answer, or else the Message-ID.
//
// A kept connection that the server closed meanwhile fails at the first
// MAIL FROM, before the server has accepted anything: the batch is then
// sent once more on a new connection.
func (m *Mailer) SendBatch(ctx context.Context, msgs []model.OutboxMessage) []Result {
	res := make([]Result, len(msgs))
	for done := 0; done < len(msgs); {
		ss, kept := m.take(), true
		if ss == nil {
			var err error
			if ss, err = m.connect(ctx); err != nil {
				for i := done; i < len(msgs); i++ {
					res[i].Err = err
				}
				return res
			}
			kept = false
		}
		n := min(len(msgs)-done, m.maxPerConnection()-ss.sent)
		if m.sendOn(ctx, ss, msgs[done:done+n], res[done:done+n], kept) {
			continue // stale: again on a new connection
		}
		done += n
	}
	return res
}

func (m *Mailer) maxPerConnection() int {
	if m.MaxPerConnection <= 0 {
		return 100
	}
	return m.MaxPerConnection
}

// sendOn sends msgs on ss and fills their results, then keeps ss for the
// next batch or closes it. When ss was kept from an earlier batch and its
// first MAIL FROM failed as a closed connection would (no answer, or 421),
// it fills nothing and reports the session stale.
func (m *Mailer) sendOn(ctx context.Context, ss *session, msgs []model.OutboxMessage, res []Result, kept bool) (stale bool) {
	stop := context.AfterFunc(ctx, ss.c.abort)
	keep := false
	defer func() {
		if !stop() || !keep { // ctx ended: the deadline is in the past
			ss.c.close()
			return
		}
		m.put(ss, len(msgs))
	}()
	envs := make([]envelope, 0, len(msgs))
	at := make([]int, 0, len(msgs)) // the message of each envelope
	for i, msg := range msgs {
		if strings.ContainsAny(msg.Recipient, "\r\n<>") || msg.Recipient == "" {
			res[i].Err = &PermanentError{fmt.Errorf("smtp rcpt to: the recipient %q is not an address", msg.Recipient)}
			continue
		}
		envs, at = append(envs, envelope{rcpt: msg.Recipient, data: crlf(msg.Body)}), append(at, i)
	}
	mail := "MAIL FROM:<" + m.from + ">"
	if ss.c.has("8BITMIME") {
		mail += " BODY=8BITMIME"
	}
	var (
		answers []answer
		err     error
	)
	if ss.c.has("PIPELINING") && ss.c.has("CHUNKING") {
		answers, err = ss.c.pipeline(mail, envs)
	} else {
		for _, e := range envs {
			var a answer
			if err == nil {
				a, err = ss.c.transact(mail, e)
			} else {
				a = answer{err: err, step: "mail from", lost: true}
			}
			answers = append(answers, a)
		}
	}
	if len(answers) > 0 && kept && answers[0].step == "mail from" {
		var re *ReplyError
		if answers[0].lost && !errors.As(answers[0].err, &re) || errors.As(answers[0].err, &re) && re.Code == 421 {
			return true
		}
	}
	for k, a := range answers {
		i := at[k]
		if a.err != nil {
			res[i].Err = classify(a.step, a.err)
		} else if res[i].ProviderID = queueID(a.text); res[i].ProviderID == "" {
			res[i].ProviderID = headerMessageID(msgs[i].Body)
		}
	}
	keep = err == nil
	return false
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

// put keeps ss, which has just carried n more messages, for the next
// batch, or says goodbye when it has carried enough messages or another
// connection is kept already.
func (m *Mailer) put(ss *session, n int) {
	ss.sent += n
	idle := m.MaxIdle
	if idle <= 0 {
		idle = 30 * time.Second
	}
	m.mu.Lock()
	if ss.sent >= m.maxPerConnection() || m.idle != nil {
		m.mu.Unlock()
		ss.c.quit()
		return
	}
	m.idle = ss
	ss.timer = time.AfterFunc(idle, func() {
		m.mu.Lock()
		if m.idle == ss {
			m.idle = nil
		}
		m.mu.Unlock()
		ss.c.quit()
	})
	m.mu.Unlock()
}

// Close ends the kept connection, if any, with QUIT.
func (m *Mailer) Close() error {
	if ss := m.take(); ss != nil {
		ss.c.quit()
	}
	return nil
}

// connect dials, greets, secures and authenticates one connection; ctx
// ending meanwhile aborts it.
func (m *Mailer) connect(ctx context.Context) (*session, error) {
	d := &net.Dialer{Timeout: m.Timeout}
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", m.addr, err)
	}
	c := newSMTPConn(conn, m.Timeout)
	stop := context.AfterFunc(ctx, c.abort)
	fail := func(what string, err error) (*session, error) {
		stop()
		c.close()
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return nil, fmt.Errorf("smtp %s: %s: %w", m.addr, what, err)
	}
	cfg := m.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
	}
	if m.tlsMode == TLSImplicit {
		c.use(tls.Client(conn, cfg))
	}
	if err := c.greet(m.hostname); err != nil {
		return fail("hello", err)
	}
	if m.tlsMode == TLSStartTLS {
		if err := c.startTLS(ctx, cfg, m.hostname); err != nil {
			return fail("starttls", err)
		}
	}
	if m.username != "" {
		var auth sasl.Client
		switch mechs := " " + strings.ToUpper(c.ext["AUTH"]) + " "; {
		case strings.Contains(mechs, " PLAIN "):
			auth = sasl.NewPlainClient("", m.username, m.password)
		case strings.Contains(mechs, " LOGIN "):
			auth = sasl.NewLoginClient(m.username, m.password)
		default:
			return fail("auth", errors.New("server offers neither PLAIN nor LOGIN"))
		}
		if err := c.auth(auth); err != nil {
			return fail("auth", err)
		}
	}
	if !stop() {
		c.close()
		return nil, fmt.Errorf("smtp %s: %w", m.addr, context.Cause(ctx))
	}
	return &session{c: c}, nil
}

// classify wraps an SMTP error: 5xx answers are permanent.
func classify(step string, err error) error {
	var re *ReplyError
	if errors.As(err, &re) && re.Code >= 500 {
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
