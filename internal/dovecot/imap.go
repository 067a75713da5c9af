package dovecot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Login dials the server and logs user in.
func (s *Server) Login(user string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", s.Addr, err)
	}
	if err := c.Login(user, Users[user]).Wait(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	return c, nil
}

// Append stores raw, as it is, in user's folder (created when it does not
// exist) and returns the new message's UID.
func (s *Server) Append(user, folder string, raw []byte) (uint32, error) {
	c, err := s.Login(user)
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

// SelectInfo reports the UIDVALIDITY and the message count of user's
// folder.
func (s *Server) SelectInfo(user, folder string) (uidValidity, messages uint32, err error) {
	c, err := s.Login(user)
	if err != nil {
		return 0, 0, err
	}
	defer closeClient(c)
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return 0, 0, fmt.Errorf("select %s/%s: %w", user, folder, err)
	}
	return sel.UIDValidity, sel.NumMessages, nil
}

// ResetUIDValidity makes Dovecot rebuild user's folder with the same
// messages under a new UIDVALIDITY, as a server does when a mailbox is
// recreated: UIDs restart at 1 in arrival order and flags are kept. A
// running server is restarted around the change, which drops every IMAP
// connection, so clients see the new UIDVALIDITY when they reconnect; the
// change is then verified and the old and new UIDVALIDITY returned. On a
// stopped server it takes effect at the next Start and both are 0.
func (s *Server) ResetUIDValidity(user, folder string) (before, after uint32, err error) {
	dir, err := s.Maildir(user, folder)
	if err != nil {
		return 0, 0, fmt.Errorf("reset uidvalidity: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cur")); err != nil {
		return 0, 0, fmt.Errorf("reset uidvalidity of %s/%s: folder does not exist: %w", user, folder, err)
	}
	running := s.Running()
	var count uint32
	if running {
		if before, count, err = s.SelectInfo(user, folder); err != nil {
			return 0, 0, err
		}
		if err := s.Stop(); err != nil {
			return 0, 0, err
		}
	}
	// The UIDs live in dovecot-uidlist and are cached in the folder's index
	// and in the user's mailbox list index; without them Dovecot rescans the
	// maildir and allocates a fresh UIDVALIDITY.
	root, _ := s.Maildir(user, "INBOX")
	patterns := []string{
		filepath.Join(dir, "dovecot-uidlist"),
		filepath.Join(dir, "dovecot.index*"),
		filepath.Join(root, "dovecot.list.index*"),
	}
	for _, pattern := range patterns {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return 0, 0, fmt.Errorf("reset uidvalidity: %w", err)
			}
		}
	}
	if !running {
		return 0, 0, nil
	}
	if err := s.Start(); err != nil {
		return 0, 0, err
	}
	after, newCount, err := s.SelectInfo(user, folder)
	if err != nil {
		return 0, 0, err
	}
	if after == before || newCount != count {
		return 0, 0, fmt.Errorf("reset uidvalidity of %s/%s: uidvalidity %d -> %d, messages %d -> %d",
			user, folder, before, after, count, newCount)
	}
	return before, after, nil
}

// closeClient logs out and closes the connection, ignoring errors.
func closeClient(c *imapclient.Client) {
	_ = c.Logout().Wait()
	_ = c.Close()
}
