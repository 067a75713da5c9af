package outbound

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
)

// ReplyError is an SMTP server's negative answer to a command.
type ReplyError struct {
	Code int
	// Msg is the answer's text, its lines joined by "\n".
	Msg string
}

// Error returns the code and the server's text.
func (e *ReplyError) Error() string { return strconv.Itoa(e.Code) + " " + e.Msg }

// maxReply bounds one answer of the server, all its lines together.
const maxReply = 64 << 10

// smtpConn is one SMTP client connection. Earshot speaks the client side
// itself rather than through go-smtp's client so that a batch of messages
// goes out in one write when the server offers PIPELINING (RFC 2920) and
// CHUNKING (RFC 3030): go-smtp's client waits for the answer to each
// command and writes message data a byte at a time.
type smtpConn struct {
	raw     net.Conn // the TCP connection, whose deadlines bound every step
	conn    net.Conn // raw, or TLS over it
	lim     *replyLimit
	r       *textproto.Reader
	w       *bufio.Writer
	ext     map[string]string // the EHLO keywords (upper case) and their parameters
	timeout time.Duration
	ended   atomic.Bool // the caller's context ended: deadlines stay in the past
}

// replyLimit fails a read once one answer has run past maxReply bytes.
type replyLimit struct {
	r io.Reader
	n int
}

func (l *replyLimit) Read(p []byte) (int, error) {
	if l.n >= maxReply {
		return 0, errors.New("smtp: the server's answer is too long")
	}
	p = p[:min(len(p), maxReply-l.n)]
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

func newSMTPConn(raw net.Conn, timeout time.Duration) *smtpConn {
	c := &smtpConn{raw: raw, timeout: timeout}
	c.use(raw)
	return c
}

// use speaks over conn from now on (after STARTTLS, the TLS connection).
func (c *smtpConn) use(conn net.Conn) {
	c.conn = conn
	c.lim = &replyLimit{r: conn}
	c.r = textproto.NewReader(bufio.NewReader(c.lim))
	c.w = bufio.NewWriterSize(conn, 32<<10)
}

// abort makes the connection's pending and later reads and writes fail
// at once: its caller's context ended.
func (c *smtpConn) abort() {
	c.ended.Store(true)
	_ = c.raw.SetDeadline(time.Unix(1, 0))
}

// deadline gives the next steps d, unless the connection was aborted.
func (c *smtpConn) deadline(d time.Duration) {
	_ = c.raw.SetDeadline(time.Now().Add(d))
	if c.ended.Load() {
		_ = c.raw.SetDeadline(time.Unix(1, 0))
	}
}

// read reads one answer, whatever its code.
func (c *smtpConn) read() (int, string, error) {
	c.lim.n = 0
	return c.r.ReadResponse(0)
}

// reply reads one answer; an answer whose code is not want (or, for want
// below 10, not of class want) is a *ReplyError.
func (c *smtpConn) reply(want int) (string, error) {
	code, msg, err := c.read()
	if err != nil {
		return "", err
	}
	if code != want && !(want < 10 && code/100 == want) {
		return msg, &ReplyError{Code: code, Msg: msg}
	}
	return msg, nil
}

// send writes one command line.
func (c *smtpConn) send(line string) error {
	c.deadline(c.timeout)
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	return c.w.Flush()
}

// cmd sends one command and reads its answer.
func (c *smtpConn) cmd(want int, line string) (string, error) {
	if err := c.send(line); err != nil {
		return "", err
	}
	return c.reply(want)
}

// greet reads the server's greeting and says EHLO, or HELO to a server
// that refuses EHLO.
func (c *smtpConn) greet(hostname string) error {
	c.deadline(c.timeout)
	if _, err := c.reply(220); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	return c.hello(hostname)
}

// hello says EHLO and records the extensions the server offers.
func (c *smtpConn) hello(hostname string) error {
	msg, err := c.cmd(250, "EHLO "+hostname)
	var re *ReplyError
	if errors.As(err, &re) && re.Code >= 500 {
		c.ext = nil
		if _, err := c.cmd(250, "HELO "+hostname); err != nil {
			return fmt.Errorf("helo: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	c.ext = map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		c.ext[strings.ToUpper(k)] = v
	}
	return nil
}

func (c *smtpConn) has(ext string) bool {
	_, ok := c.ext[ext]
	return ok
}

// startTLS upgrades the connection and says EHLO again, as RFC 3207 asks.
func (c *smtpConn) startTLS(ctx context.Context, cfg *tls.Config, hostname string) error {
	if !c.has("STARTTLS") {
		return errors.New("the server does not offer STARTTLS")
	}
	if _, err := c.cmd(220, "STARTTLS"); err != nil {
		return err
	}
	tc := tls.Client(c.raw, cfg)
	c.deadline(c.timeout)
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	c.use(tc)
	return c.hello(hostname)
}

// auth logs in with a SASL mechanism (RFC 4954).
func (c *smtpConn) auth(a sasl.Client) error {
	mech, resp, err := a.Start()
	if err != nil {
		return err
	}
	line := "AUTH " + mech
	if resp != nil {
		line += " " + encode64(resp)
	}
	for {
		if err := c.send(line); err != nil {
			return err
		}
		code, msg, err := c.read()
		switch {
		case err != nil:
			return err
		case code == 235:
			return nil
		case code != 334:
			return &ReplyError{Code: code, Msg: msg}
		}
		challenge, err := base64.StdEncoding.DecodeString(msg)
		if err == nil {
			resp, err = a.Next(challenge)
		}
		if err != nil {
			_, _ = c.cmd(501, "*") // cancels the exchange
			return err
		}
		line = base64.StdEncoding.EncodeToString(resp)
	}
}

func encode64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

// quit says QUIT, waiting at most five seconds for the answer, and
// closes the connection.
func (c *smtpConn) quit() {
	c.deadline(5 * time.Second)
	c.w.WriteString("QUIT\r\n")
	if c.w.Flush() == nil {
		_, _ = c.reply(221)
	}
	c.close()
}

func (c *smtpConn) close() { _ = c.conn.Close() }

// crlf returns body with every line ended by CRLF, as SMTP carries it: a
// bare LF gains a CR, and a last line without an ending gains one. It
// returns body itself when it is already so.
func crlf(body []byte) []byte {
	bare := 0
	for i := bytes.IndexByte(body, '\n'); i >= 0; {
		if i == 0 || body[i-1] != '\r' {
			bare++
		}
		j := bytes.IndexByte(body[i+1:], '\n')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	ended := bytes.HasSuffix(body, []byte("\r\n"))
	if bare == 0 && ended {
		return body
	}
	out := make([]byte, 0, len(body)+bare+2)
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			out = append(out, body...)
			break
		}
		out = append(out, body[:i]...)
		if i == 0 || body[i-1] != '\r' {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		body = body[i+1:]
	}
	switch {
	case bytes.HasSuffix(out, []byte("\r\n")):
	case bytes.HasSuffix(out, []byte("\r")):
		out = append(out, '\n')
	default:
		out = append(out, '\r', '\n')
	}
	return out
}

// writeDotted writes a CRLF-ended body as DATA carries it (RFC 5321
// 4.5.2): a line that starts with a dot gains another, and a line with a
// dot alone ends the data.
func writeDotted(w *bufio.Writer, body []byte) {
	if len(body) > 0 && body[0] == '.' {
		w.WriteByte('.')
	}
	for {
		i := bytes.Index(body, []byte("\n."))
		if i < 0 {
			break
		}
		w.Write(body[:i+1])
		w.WriteByte('.')
		body = body[i+1:]
	}
	w.Write(body)
	w.WriteString(".\r\n")
}

// envelope is one message of a batch: its recipient and its CRLF-ended
// data.
type envelope struct {
	rcpt string
	data []byte
}

// answer is how the server answered one transaction.
type answer struct {
	// text is the final answer's text (it may carry a queue id).
	text string
	// err is the transaction's failure, and step the command it answered
	// ("mail from", "rcpt to", "data" or "rset").
	err  error
	step string
	// lost says the connection failed before all the transaction's
	// answers came: the server may or may not have taken the message.
	lost bool
}

// pipeline sends every transaction of envs in one write, each as MAIL,
// RCPT and BDAT ... LAST with the data, then reads all their answers.
// Every transaction after the first begins with RSET, so that one the
// server refused leaves no state behind for the next. The server must
// offer PIPELINING and CHUNKING. A connection failure ends the reading:
// the rest of the answers are lost, and the error is returned.
func (c *smtpConn) pipeline(mail string, envs []envelope) ([]answer, error) {
	out := make([]answer, len(envs))
	var werr error
	written := len(envs) // the transactions handed to the connection whole
	for i, e := range envs {
		c.deadline(2 * c.timeout)
		if i > 0 {
			c.w.WriteString("RSET\r\n")
		}
		c.w.WriteString(mail)
		c.w.WriteString("\r\nRCPT TO:<")
		c.w.WriteString(e.rcpt)
		c.w.WriteString(">\r\nBDAT ")
		c.w.WriteString(strconv.Itoa(len(e.data)))
		c.w.WriteString(" LAST\r\n")
		if _, werr = c.w.Write(e.data); werr != nil {
			written = i
			break
		}
	}
	if werr == nil {
		werr = c.w.Flush()
	}
	// A failed write may still leave answers to read, such as a 421
	// that explains why the server closed the connection.
	steps := []string{"rset", "mail from", "rcpt to", "data"}
	for i := range envs {
		if i == written {
			for j := i; j < len(envs); j++ {
				out[j] = answer{err: werr, step: "mail from", lost: true}
			}
			return out, werr
		}
		first := 0
		if i == 0 {
			first = 1
		}
		for _, step := range steps[first:] {
			wait := c.timeout
			if step == "data" {
				wait = 2 * c.timeout
			}
			c.deadline(wait)
			text, err := c.reply(2)
			var re *ReplyError
			switch {
			case errors.As(err, &re):
				if out[i].err == nil {
					out[i].err, out[i].step = err, step
				}
			case err != nil:
				if werr != nil {
					err = werr
				}
				for j := i; j < len(envs); j++ {
					if out[j].err == nil {
						out[j].err, out[j].step = err, step
					}
					out[j].lost, step = true, "mail from"
				}
				return out, err
			}
			out[i].text = text
		}
	}
	return out, werr
}

// transact sends one transaction a command at a time, with DATA, for a
// server without PIPELINING or CHUNKING. After a refusal it says RSET.
// It returns a connection failure as well as the answer.
func (c *smtpConn) transact(mail string, e envelope) (answer, error) {
	var a answer
	fail := func(step string, err error) (answer, error) {
		a.err, a.step = err, step
		var re *ReplyError
		if errors.As(err, &re) {
			if _, err := c.cmd(2, "RSET"); err != nil {
				return a, err
			}
			return a, nil
		}
		a.lost = true
		return a, err
	}
	if _, err := c.cmd(2, mail); err != nil {
		return fail("mail from", err)
	}
	if _, err := c.cmd(2, "RCPT TO:<"+e.rcpt+">"); err != nil {
		return fail("rcpt to", err)
	}
	if _, err := c.cmd(354, "DATA"); err != nil {
		return fail("data", err)
	}
	c.deadline(2 * c.timeout)
	writeDotted(c.w, e.data)
	if err := c.w.Flush(); err != nil {
		a.err, a.step, a.lost = err, "data", true
		return a, err
	}
	text, err := c.reply(2)
	if err != nil {
		var re *ReplyError
		a.err, a.step, a.lost = err, "data", !errors.As(err, &re)
		if a.lost {
			return a, err
		}
		return a, nil
	}
	a.text = text
	return a, nil
}
