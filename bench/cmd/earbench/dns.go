package main

import (
	"fmt"
	"net"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsStub answers TXT queries for a few names on a loopback UDP port, as
// the DNS of the test domains: the DKIM keys and DMARC records the daemon
// looks up (its dns.resolver points here). Every other name is NXDOMAIN.
type dnsStub struct {
	Addr string
	conn net.PacketConn

	mu  sync.Mutex
	txt map[string][]string // lower-case name without the final dot → records
}

// startDNSStub serves on a free loopback UDP port.
func startDNSStub(records map[string][]string) (*dnsStub, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dns stub: %w", err)
	}
	s := &dnsStub{Addr: conn.LocalAddr().String(), conn: conn, txt: map[string][]string{}}
	for name, rr := range records {
		s.txt[strings.ToLower(strings.TrimSuffix(name, "."))] = rr
	}
	go s.serve()
	return s, nil
}

// Close stops the server.
func (s *dnsStub) Close() error { return s.conn.Close() }

func (s *dnsStub) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, err := s.answer(buf[:n]); err == nil {
			s.conn.WriteTo(resp, from)
		}
	}
}

// answer builds the response to one query.
func (s *dnsStub) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))
	s.mu.Lock()
	records, found := s.txt[name]
	s.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired,
		RecursionAvailable: true}
	if !found {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if found && q.Type == dnsmessage.TypeTXT {
		for _, r := range records {
			// A TXT record is strings of at most 255 bytes.
			var parts []string
			for len(r) > 255 {
				parts, r = append(parts, r[:255]), r[255:]
			}
			parts = append(parts, r)
			if err := b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
				dnsmessage.TXTResource{TXT: parts}); err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}
