package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// dovecot is a private Dovecot 2.3 IMAP server on a free loopback port,
// with the users feedback@example.test and intel@example.test. Its
// maildirs survive Stop and Start.
type dovecot struct {
	Addr string
	bin  string
	dir  string
	p    *proc
}

// startDovecot lays out a Dovecot instance under dir and starts it.
func startDovecot(bin, dir string) (*dovecot, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d := &dovecot{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin: bin, dir: dir}
	if err := d.layout(port); err != nil {
		return nil, fmt.Errorf("dovecot: %w", err)
	}
	return d, d.Start()
}

// layout writes the directories, users and configuration.
func (d *dovecot) layout(port int) error {
	for _, sub := range []string{"", "run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o755); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(d.dir, sub), 0o755); err != nil {
			return err
		}
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return fmt.Errorf("look up nobody: %w", err)
	}
	g, err := user.LookupGroup("nogroup")
	if err != nil {
		return fmt.Errorf("look up nogroup: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(filepath.Join(d.dir, "mail"), uid, gid); err != nil {
		return err
	}
	var users strings.Builder
	for name, pw := range passwords {
		fmt.Fprintf(&users, "%s:{PLAIN}%s::::::\n", name, pw)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "users"), []byte(users.String()), 0o644); err != nil {
		return err
	}
	conf := strings.NewReplacer("$D", d.dir, "$PORT", strconv.Itoa(port)).Replace(dovecotConf)
	return os.WriteFile(filepath.Join(d.dir, "dovecot.conf"), []byte(conf), 0o644)
}

// Start starts the server and waits for its greeting.
func (d *dovecot) Start() error {
	if d.p != nil && d.p.Alive() {
		return nil
	}
	p, err := startProc(exec.Command(d.bin, "-F", "-c", filepath.Join(d.dir, "dovecot.conf")),
		filepath.Join(d.dir, "stdout.log"), nil)
	if err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	d.p = p
	if err := waitFor(p, 15*time.Second, func() error { return greets(d.Addr) }); err != nil {
		d.Stop()
		return fmt.Errorf("dovecot on %s: %w", d.Addr, err)
	}
	return nil
}

// Stop ends the whole process group: every connection drops at once.
func (d *dovecot) Stop() {
	if d.p != nil {
		d.p.Stop(syscall.SIGTERM, 20*time.Second)
	}
}

// ResetUIDValidity makes Dovecot rebuild user's INBOX with the same
// messages under a new UIDVALIDITY, as a server does when a mailbox is
// recreated: the server is stopped, the UID list and the indexes that
// cache it are removed, and the server is started again. It returns the
// old and new UIDVALIDITY.
func (d *dovecot) ResetUIDValidity(users ...string) (map[string][2]uint32, error) {
	out := map[string][2]uint32{}
	for _, u := range users {
		v, _, err := d.SelectInfo(u)
		if err != nil {
			return nil, err
		}
		out[u] = [2]uint32{v, 0}
	}
	d.Stop()
	for _, u := range users {
		root := d.maildir(u)
		for _, pattern := range []string{"dovecot-uidlist", "dovecot.index*", "dovecot.list.index*"} {
			files, _ := filepath.Glob(filepath.Join(root, pattern))
			for _, f := range files {
				if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("reset uidvalidity: %w", err)
				}
			}
		}
	}
	if err := d.Start(); err != nil {
		return nil, err
	}
	for _, u := range users {
		v, _, err := d.SelectInfo(u)
		if err != nil {
			return nil, err
		}
		if v == out[u][0] {
			return nil, fmt.Errorf("reset uidvalidity of %s: still %d", u, v)
		}
		out[u] = [2]uint32{out[u][0], v}
	}
	return out, nil
}

// SelectInfo returns the UIDVALIDITY and message count of user's INBOX.
func (d *dovecot) SelectInfo(user string) (uint32, uint32, error) {
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("select %s: %w", user, err)
	}
	defer c.Close()
	if err := c.Login(user, passwords[user]).Wait(); err != nil {
		return 0, 0, fmt.Errorf("login %s: %w", user, err)
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return 0, 0, fmt.Errorf("select %s: %w", user, err)
	}
	_ = c.Logout().Wait()
	return sel.UIDValidity, sel.NumMessages, nil
}

// maildir is the Maildir of user's INBOX.
func (d *dovecot) maildir(user string) string {
	local, domain, _ := strings.Cut(user, "@")
	return filepath.Join(d.dir, "mail", domain, local, "Maildir")
}

// greets dials addr and reads an IMAP "* OK" greeting.
func greets(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", strings.TrimSpace(line))
	}
	return nil
}

// dovecotConf is a self-contained Dovecot 2.3 configuration; $D is the
// instance directory and $PORT the IMAP port.
const dovecotConf = `protocols = imap
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:$D/mail/%d/%n/Maildir
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/mail/%d/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
namespace inbox {
  inbox = yes
}
`
