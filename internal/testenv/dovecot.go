package testenv

import (
	"bytes"
	"os"
	"testing"

	"github.com/earshot-dev/earshot/internal/dovecot"
)

// DovecotServer is a private Dovecot IMAP server owned by one test. Its
// maildirs survive Stop and Start, so a test can restart it. The server
// itself is internal/dovecot's, which the benchmarks run too; these methods
// fail the test instead of returning errors.
type DovecotServer struct {
	// Addr is the loopback host:port of the IMAP listener (plaintext, LOGIN allowed).
	Addr string

	srv *dovecot.Server
}

// Dovecot starts a private Dovecot instance for this test (binary from
// EARSHOT_TEST_DOVECOT or /usr/sbin/dovecot) on a free loopback port, with
// the users feedback@example.test and intel@example.test, and stops it and
// removes its files in t.Cleanup.
func Dovecot(t testing.TB) *DovecotServer {
	t.Helper()
	bin := Binary(t, EnvDovecot, dovecot.Binary)
	if os.Geteuid() != 0 {
		Need(t, "dovecot", "a private instance needs root: its mail processes run as nobody")
	}
	dir, err := os.MkdirTemp("", "earshot-dovecot-")
	if err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("dovecot: remove %s: %v", dir, err)
		}
	})
	// A test's mail need not survive a power cut.
	srv, err := dovecot.New(bin, dir, dovecot.NoFsync())
	if err != nil {
		t.Fatal(err)
	}
	d := &DovecotServer{Addr: srv.Addr, srv: srv}
	d.Start(t)
	t.Cleanup(func() { d.Stop(t) })
	return d
}

// Server is the underlying server, for calls that return errors.
func (d *DovecotServer) Server() *dovecot.Server { return d.srv }

// Password returns the password of one of the server's users, or "" for an
// unknown user.
func (d *DovecotServer) Password(user string) string {
	return dovecot.Users[user]
}

// Start starts the server (again) on the same port and maildirs and waits
// until it greets IMAP clients. It does nothing when the server runs.
func (d *DovecotServer) Start(t testing.TB) {
	t.Helper()
	if err := d.srv.Start(); err != nil {
		t.Fatal(err)
	}
}

// Stop stops the server and every process serving a client, so that every
// connection drops; it is safe to call on a stopped server.
func (d *DovecotServer) Stop(t testing.TB) {
	t.Helper()
	if err := d.srv.Stop(); err != nil {
		t.Error(err)
	}
}

// Append stores raw in user's folder over IMAP (creating the folder when it
// does not exist) and returns the new message's UID. Bare LF line endings are
// converted to CRLF in memory.
func (d *DovecotServer) Append(t testing.TB, user, folder string, raw []byte) uint32 {
	t.Helper()
	uid, err := d.srv.Append(user, folder, CRLF(raw))
	if err != nil {
		t.Fatalf("dovecot: append to %s/%s: %v", user, folder, err)
	}
	return uid
}

// SelectInfo reports the UIDVALIDITY and the message count of user's folder.
func (d *DovecotServer) SelectInfo(t testing.TB, user, folder string) (uidValidity, messages uint32) {
	t.Helper()
	v, n, err := d.srv.SelectInfo(user, folder)
	if err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	return v, n
}

// ResetUIDValidity makes Dovecot rebuild user's folder with the same
// messages under a new UIDVALIDITY, as a server does when a mailbox is
// recreated (see dovecot.Server.ResetUIDValidity). A running server is
// restarted around the change and the change verified; on a stopped server
// it takes effect at the next Start.
func (d *DovecotServer) ResetUIDValidity(t testing.TB, user, folder string) {
	t.Helper()
	if _, _, err := d.srv.ResetUIDValidity(user, folder); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
}

// CRLF returns raw with every line ending as CRLF, as IMAP requires.
func CRLF(raw []byte) []byte {
	lf := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
}
