// Package dev is the zero-setup local instance behind `earshot dev`: an
// in-memory IMAP server with the feedback@ and intel@ accounts, an SMTP
// capture server, a sample configuration and sample contributions.
package dev

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAPServer is go-imap's in-memory IMAP server on a loopback port, with
// one user per mailbox address. Its content lives as long as the process.
type IMAPServer struct {
	Addr  string
	srv   *imapserver.Server
	users map[string]*imapmemserver.User
}

// StartIMAP serves IMAP on addr (e.g. 127.0.0.1:1143, or :0 for any port)
// for the given address → password accounts, each with an INBOX.
func StartIMAP(addr string, accounts map[string]string) (*IMAPServer, error) {
	mem := imapmemserver.New()
	s := &IMAPServer{users: map[string]*imapmemserver.User{}}
	for user, pass := range accounts {
		u := imapmemserver.NewUser(user, pass)
		if err := u.Create("INBOX", nil); err != nil {
			return nil, fmt.Errorf("dev imap: create INBOX of %s: %w", user, err)
		}
		mem.AddUser(u)
		s.users[user] = u
	}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		// The in-memory server does not report mail that arrives while a
		// client is entering IDLE: the local instance's sources poll it
		// every second instead (no_idle in its config).
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, // loopback only, for the local instance
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dev imap: %w", err)
	}
	s.Addr = ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

// Append delivers raw (LF or CRLF) to user's INBOX, as an MTA would.
func (s *IMAPServer) Append(user string, raw []byte) error {
	u, ok := s.users[user]
	if !ok {
		return fmt.Errorf("dev imap: no account %s", user)
	}
	raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	_, err := u.Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{Time: time.Now()})
	if err != nil {
		return fmt.Errorf("dev imap: append to %s: %w", user, err)
	}
	return nil
}

// Close stops the server.
func (s *IMAPServer) Close() error { return s.srv.Close() }
