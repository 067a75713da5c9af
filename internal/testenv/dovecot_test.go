package testenv

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func message(subject string) []byte {
	return []byte("From: rep@example.test\nTo: intel@example.test\nSubject: " + subject +
		"\nMessage-ID: <" + subject + "@example.test>\n\nAcme is discounting.\n")
}

// fetchBodies returns the raw messages of a folder keyed by UID.
func fetchBodies(t *testing.T, d *DovecotServer, user, folder string) map[uint32][]byte {
	t.Helper()
	c, err := d.Server().Login(user)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Logout().Wait(); _ = c.Close() }()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	bodies := map[uint32][]byte{}
	if sel.NumMessages == 0 {
		return bodies
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(seqAll(), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	for _, m := range msgs {
		bodies[uint32(m.UID)] = m.FindBodySection(section)
	}
	return bodies
}

func seqAll() imap.SeqSet {
	var s imap.SeqSet
	s.AddRange(1, 0)
	return s
}

func TestDovecotAppendSurvivesRestart(t *testing.T) {
	t.Parallel()
	d := Dovecot(t)
	const user = "intel@example.test"
	for i, want := range []uint32{1, 2} {
		if got := d.Append(t, user, "INBOX", message(fmt.Sprintf("m%d", i))); got != want {
			t.Fatalf("append %d: uid %d, want %d", i, got, want)
		}
	}
	if got := d.Append(t, user, "Archive", message("archived")); got != 1 {
		t.Fatalf("append to a new folder: uid %d, want 1", got)
	}
	validity, _ := d.SelectInfo(t, user, "INBOX")

	start := time.Now()
	d.Stop(t)
	t.Logf("stopped in %s", time.Since(start).Round(time.Millisecond))
	if conn, err := net.DialTimeout("tcp", d.Addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after Stop", d.Addr)
	}
	d.Stop(t) // stopping twice is harmless
	d.Start(t)

	if v, n := d.SelectInfo(t, user, "INBOX"); v != validity || n != 2 {
		t.Fatalf("after restart: uidvalidity %d, %d messages; want %d, 2", v, n, validity)
	}
	bodies := fetchBodies(t, d, user, "INBOX")
	want := CRLF(message("m1"))
	if !bytes.Equal(bodies[2], want) {
		t.Fatalf("uid 2 after restart = %q, want %q", bodies[2], want)
	}
	if got := d.Append(t, user, "INBOX", message("m2")); got != 3 {
		t.Fatalf("append after restart: uid %d, want 3", got)
	}
}

func TestDovecotResetUIDValidity(t *testing.T) {
	t.Parallel()
	d := Dovecot(t)
	const user = "feedback@example.test"
	for i := range 3 {
		d.Append(t, user, "INBOX", message(fmt.Sprintf("in%d", i)))
	}
	d.Append(t, user, "Done", message("done0"))
	before := fetchBodies(t, d, user, "INBOX")
	inboxValidity, _ := d.SelectInfo(t, user, "INBOX")
	doneValidity, _ := d.SelectInfo(t, user, "Done")

	// Connected clients are dropped and must reconnect.
	c, err := d.Server().Login(user)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	d.ResetUIDValidity(t, user, "INBOX")
	v, n := d.SelectInfo(t, user, "INBOX")
	if v == inboxValidity || n != 3 {
		t.Fatalf("INBOX after reset: uidvalidity %d (was %d), %d messages (want 3)", v, inboxValidity, n)
	}
	if err := c.Noop().Wait(); err == nil {
		t.Error("a session with INBOX selected survived the reset")
	}
	after := fetchBodies(t, d, user, "INBOX")
	for uid, body := range before {
		if !bytes.Equal(after[uid], body) {
			t.Errorf("uid %d after reset = %q, want %q", uid, after[uid], body)
		}
	}
	if got, _ := d.SelectInfo(t, user, "Done"); got != doneValidity {
		t.Errorf("Done uidvalidity changed from %d to %d by resetting INBOX", doneValidity, got)
	}

	// Resetting a stopped server takes effect at the next start.
	d.Stop(t)
	d.ResetUIDValidity(t, user, "Done")
	d.Start(t)
	if got, n := d.SelectInfo(t, user, "Done"); got == doneValidity || n != 1 {
		t.Fatalf("Done after reset while stopped: uidvalidity %d (was %d), %d messages (want 1)", got, doneValidity, n)
	}
}

func TestDovecotPassword(t *testing.T) {
	d := &DovecotServer{}
	for user, want := range map[string]string{
		"feedback@example.test": "feedback-pw",
		"intel@example.test":    "intel-pw",
		"nobody@example.test":   "",
	} {
		if got := d.Password(user); got != want {
			t.Errorf("Password(%q) = %q, want %q", user, got, want)
		}
	}
}

func TestCRLF(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"a\r\nb\nc", "a\r\nb\r\nc"},
		{"", ""},
	} {
		if got := string(CRLF([]byte(tc.in))); got != tc.want {
			t.Errorf("CRLF(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
