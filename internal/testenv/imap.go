package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Append stores raw in user's folder over IMAP (creating the folder when it
// does not exist) and returns the new message's UID. Bare LF line endings are
// converted to CRLF in memory.
func (d *DovecotServer) Append(t testing.TB, user, folder string, raw []byte) uint32 {
	t.Helper()
	uid, err := d.appendMessage(user, folder, CRLF(raw))
	if err != nil {
		t.Fatalf("dovecot: append to %s/%s: %v", user, folder, err)
	}
	return uid
}

// SelectInfo reports the UIDVALIDITY and the message count of user's folder.
func (d *DovecotServer) SelectInfo(t testing.TB, user, folder string) (uidValidity, messages uint32) {
	t.Helper()
	c, err := d.login(user)
	if err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	defer closeClient(c)
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("dovecot: select %s/%s: %v", user, folder, err)
	}
	return sel.UIDValidity, sel.NumMessages
}

// ResetUIDValidity makes Dovecot rebuild user's folder with the same
// messages under a new UIDVALIDITY, as a server does when a mailbox is
// recreated: UIDs restart at 1 in arrival order and flags are kept. A running
// server is restarted around the change (1–3 s), which drops every IMAP
// connection, so clients see the new UIDVALIDITY when they reconnect; the
// change is then verified. On a stopped server it takes effect at the next
// Start.
func (d *DovecotServer) ResetUIDValidity(t testing.TB, user, folder string) {
	t.Helper()
	dir, err := d.maildir(user, folder)
	if err != nil {
		t.Fatalf("dovecot: reset uidvalidity: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cur")); err != nil {
		t.Fatalf("dovecot: reset uidvalidity of %s/%s: folder does not exist: %v", user, folder, err)
	}
	wasRunning := d.running()
	var oldValidity, oldCount uint32
	if wasRunning {
		oldValidity, oldCount = d.SelectInfo(t, user, folder)
		d.Stop(t)
	}
	// The UIDs live in dovecot-uidlist and are cached in the folder's index and
	// in the user's mailbox list index; without them Dovecot rescans the maildir
	// and allocates a fresh UIDVALIDITY.
	root, _ := d.maildir(user, "INBOX")
	patterns := []string{
		filepath.Join(dir, "dovecot-uidlist"),
		filepath.Join(dir, "dovecot.index*"),
		filepath.Join(root, "dovecot.list.index*"),
	}
	for _, pattern := range patterns {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("dovecot: reset uidvalidity: %v", err)
			}
		}
	}
	if !wasRunning {
		return
	}
	d.Start(t)
	newValidity, newCount := d.SelectInfo(t, user, folder)
	if newValidity == oldValidity || newCount != oldCount {
		t.Fatalf("dovecot: reset uidvalidity of %s/%s: uidvalidity %d -> %d, messages %d -> %d",
			user, folder, oldValidity, newValidity, oldCount, newCount)
	}
}

// CRLF returns raw with every line ending as CRLF, as IMAP requires.
func CRLF(raw []byte) []byte {
	lf := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
}

func (d *DovecotServer) appendMessage(user, folder string, raw []byte) (uint32, error) {
	c, err := d.login(user)
	if err != nil {
		return 0, err
	}
	defer closeClient(c)
	if !strings.EqualFold(folder, "INBOX") {
		err := c.Create(folder, nil).Wait()
		var imapErr *imap.Error
		if err != nil && !(errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists) {
			return 0, fmt.Errorf("create folder: %w", err)
		}
	}
	cmd := c.Append(folder, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		_ = cmd.Close()
		return 0, fmt.Errorf("write message: %w", err)
	}
	if err := cmd.Close(); err != nil {
		return 0, fmt.Errorf("finish message: %w", err)
	}
	data, err := cmd.Wait()
	if err != nil {
		return 0, err
	}
	if data.UID == 0 {
		return 0, errors.New("server sent no APPENDUID")
	}
	return uint32(data.UID), nil
}

// login dials the server and logs user in.
func (d *DovecotServer) login(user string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", d.Addr, err)
	}
	if err := c.Login(user, d.Password(user)).Wait(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	return c, nil
}

// closeClient logs out and closes the connection, ignoring errors.
func closeClient(c *imapclient.Client) {
	_ = c.Logout().Wait()
	_ = c.Close()
}
