package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// delivery is one message the sink accepted. Bodies are not kept.
type delivery struct {
	At        time.Time
	To        string
	MessageID string // without angle brackets
	InReplyTo string // without angle brackets
	Ack       bool   // Auto-Submitted: auto-replied, i.e. an ack
	Size      int64
}

// sink is the SMTP server earshot sends to: it records every delivery
// with its time, Message-ID and In-Reply-To, and counts repeats.
type sink struct {
	Addr string
	srv  *smtp.Server

	mu         sync.Mutex
	deliveries []delivery
	seen       map[string]int // Message-ID → deliveries
	dupes      int            // deliveries of a Message-ID already seen
	ackDupes   int            // the same, for acks
	acks       int            // deliveries of acks, repeats included
	// ackOf maps an incoming Message-ID to the first ack that answered it.
	ackOf map[string]time.Time
}

// startSink serves SMTP on a free loopback port.
func startSink() (*sink, error) {
	s := &sink{seen: map[string]int{}, ackOf: map[string]time.Time{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{s: s}, nil
	}))
	s.srv.Domain = "sink.example.test"
	s.srv.MaxMessageBytes = 200 << 20
	s.srv.MaxLineLength = 0
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	s.Addr = ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *sink) Close() error { return s.srv.Close() }

// record stores one delivery.
func (s *sink) record(d delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = append(s.deliveries, d)
	if d.Ack {
		s.acks++
	}
	if d.MessageID != "" {
		if s.seen[d.MessageID] > 0 {
			s.dupes++
			if d.Ack {
				s.ackDupes++
			}
		}
		s.seen[d.MessageID]++
	}
	if d.Ack && d.InReplyTo != "" {
		if _, ok := s.ackOf[d.InReplyTo]; !ok {
			s.ackOf[d.InReplyTo] = d.At
		}
	}
}

// sinkCounts is a snapshot of what the sink received.
type sinkCounts struct {
	Deliveries int `json:"deliveries"`
	Acks       int `json:"acks"`
	Notices    int `json:"other"`
	Duplicates int `json:"duplicate_deliveries"`
	DupAcks    int `json:"duplicate_ack_deliveries"`
}

// Counts returns the totals so far.
func (s *sink) Counts() sinkCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := sinkCounts{Deliveries: len(s.deliveries), Duplicates: s.dupes, DupAcks: s.ackDupes}
	for _, d := range s.deliveries {
		if d.Ack {
			c.Acks++
		} else {
			c.Notices++
		}
	}
	return c
}

// Acks returns how many acks have arrived, repeats included: Counts
// without its walk over every delivery, for polling.
func (s *sink) Acks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks
}

// AckedAt returns when the first ack answering messageID arrived.
func (s *sink) AckedAt(messageID string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.ackOf[messageID]
	return t, ok
}

// Received reports how many times a message with that Message-ID arrived.
func (s *sink) Received(messageID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[messageID]
}

// sinkSession is one SMTP session of the sink.
type sinkSession struct {
	s  *sink
	to string
}

func (ss *sinkSession) Reset()        { ss.to = "" }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = to
	return nil
}

// Data reads the header for the ids and discards the body.
func (ss *sinkSession) Data(r io.Reader) error {
	cr := &countReader{r: r}
	msg, err := mail.ReadMessage(bufio.NewReader(cr))
	if err != nil {
		io.Copy(io.Discard, cr)
		return fmt.Errorf("sink: bad message: %w", err)
	}
	io.Copy(io.Discard, msg.Body)
	h := msg.Header
	ss.s.record(delivery{
		At:        time.Now(),
		To:        ss.to,
		MessageID: strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"),
		InReplyTo: strings.Trim(strings.TrimSpace(h.Get("In-Reply-To")), "<>"),
		Ack:       strings.EqualFold(strings.TrimSpace(h.Get("Auto-Submitted")), "auto-replied"),
		Size:      cr.n,
	})
	return nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
