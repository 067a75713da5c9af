package dev

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// Captured is one message the capture server accepted.
type Captured struct {
	At      time.Time
	From    string
	To      []string
	Subject string
	Raw     []byte
}

// SMTPCapture is an SMTP server that accepts every message and keeps it in
// memory, so that `earshot dev` shows what Earshot would have sent.
type SMTPCapture struct {
	Addr string
	srv  *smtp.Server

	mu   sync.Mutex
	msgs []Captured
}

// StartSMTP serves SMTP on addr (loopback) and captures what it receives.
func StartSMTP(addr string) (*SMTPCapture, error) {
	c := &SMTPCapture{}
	c.srv = smtp.NewServer(backend{c})
	c.srv.Domain = "localhost"
	c.srv.AllowInsecureAuth = true
	c.srv.MaxMessageBytes = 50 << 20
	c.srv.ReadTimeout = time.Minute
	c.srv.WriteTimeout = time.Minute
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dev smtp: %w", err)
	}
	c.Addr = ln.Addr().String()
	go c.srv.Serve(ln)
	return c, nil
}

// Messages returns the captured messages, newest first.
func (c *SMTPCapture) Messages() []Captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Captured, len(c.msgs))
	for i, m := range c.msgs {
		out[len(c.msgs)-1-i] = m
	}
	return out
}

// Close stops the server.
func (c *SMTPCapture) Close() error { return c.srv.Close() }

type backend struct{ c *SMTPCapture }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: b.c}, nil }

type session struct {
	c    *SMTPCapture
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Captured{At: time.Now(), From: s.from, To: s.to, Raw: raw}
	if mr, err := mail.CreateReader(bytes.NewReader(raw)); err == nil {
		m.Subject, _ = mr.Header.Subject()
	}
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, m)
	s.c.mu.Unlock()
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }
