package testenv

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
	"testing"
	"time"
)

const (
	defaultDovecot   = "/usr/sbin/dovecot"
	dovecotReadyWait = 15 * time.Second
	dovecotStopWait  = 20 * time.Second
)

// dovecotUsers are the mailbox accounts of every private Dovecot instance.
var dovecotUsers = map[string]string{
	"feedback@example.test": "feedback-pw",
	"intel@example.test":    "intel-pw",
}

// DovecotServer is a private Dovecot IMAP server owned by one test. Its
// maildirs survive Stop and Start, so a test can restart it.
type DovecotServer struct {
	// Addr is the loopback host:port of the IMAP listener (plaintext, LOGIN allowed).
	Addr string

	bin  string
	dir  string // world-traversable root holding config, state, logs and mail
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Dovecot starts a private Dovecot instance for this test (binary from
// EARSHOT_TEST_DOVECOT or /usr/sbin/dovecot) on a free loopback port, with
// the users feedback@example.test and intel@example.test, and stops it and
// removes its files in t.Cleanup.
func Dovecot(t testing.TB) *DovecotServer {
	t.Helper()
	bin := Binary(t, EnvDovecot, defaultDovecot)
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
	port, err := freePort()
	if err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	d := &DovecotServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin: bin, dir: dir}
	if err := d.writeConfig(port); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	d.Start(t)
	t.Cleanup(func() { d.Stop(t) })
	return d
}

// Password returns the password of one of the server's users, or "" for an
// unknown user.
func (d *DovecotServer) Password(user string) string {
	return dovecotUsers[user]
}

// Start starts the server (again) on the same port and maildirs and waits
// until it greets IMAP clients. It does nothing when the server runs.
func (d *DovecotServer) Start(t testing.TB) {
	t.Helper()
	if d.running() {
		return
	}
	logf, err := os.OpenFile(filepath.Join(d.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	cmd := exec.Command(d.bin, "-F", "-c", d.configPath())
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group lets Stop reach helper processes; the parent-death
	// signal stops the server when the test binary dies before its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("dovecot: start %s: %v", d.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(done)
	}()
	d.cmd, d.done = cmd, done
	if err := d.waitReady(); err != nil {
		d.Stop(t)
		t.Fatalf("dovecot: %v\n%s", err, d.logTail())
	}
}

// Stop sends SIGTERM to Dovecot's whole process group and waits until every
// process has exited, so that Start can reuse the same directories. Signalling
// only the master takes 1–3 s and leaves the mail processes that still serve
// clients running; signalling the group drops every connection and takes
// about 0.1 s. It is safe to call on a stopped server.
func (d *DovecotServer) Stop(t testing.TB) {
	t.Helper()
	if !d.running() {
		return
	}
	pgid := d.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(dovecotStopWait):
		t.Errorf("dovecot: pid %d ignored SIGTERM for %s and was killed\n%s", pgid, dovecotStopWait, d.logTail())
	}
	killGroup(pgid)
	<-d.done
	d.cmd = nil
}

// killGroup kills what is left of a process group and waits briefly for it to
// disappear (exited processes are reaped by init).
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && syscall.Kill(-pgid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// running reports whether a started master process has not exited yet.
func (d *DovecotServer) running() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// waitReady waits for the IMAP greeting or for the process to exit.
func (d *DovecotServer) waitReady() error {
	deadline := time.Now().Add(dovecotReadyWait)
	for {
		err := greets(d.Addr)
		if err == nil {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("exited before accepting connections on %s", d.Addr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready on %s after %s: %w", d.Addr, dovecotReadyWait, err)
		}
	}
}

// greets dials addr and reads an IMAP "* OK" greeting.
func greets(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", strings.TrimSpace(line))
	}
	return nil
}

// logTail returns the end of Dovecot's log files for failure messages.
func (d *DovecotServer) logTail() string {
	var b strings.Builder
	for _, name := range []string{"dovecot.log", "stdout.log"} {
		data, err := os.ReadFile(filepath.Join(d.dir, name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		fmt.Fprintf(&b, "--- %s ---\n%s\n", name, strings.Join(lines, "\n"))
	}
	return b.String()
}

func (d *DovecotServer) configPath() string { return filepath.Join(d.dir, "dovecot.conf") }

// maildir returns the Maildir of user's folder ("INBOX" or a top-level folder).
func (d *DovecotServer) maildir(user, folder string) (string, error) {
	local, domain, ok := strings.Cut(user, "@")
	if !ok || dovecotUsers[user] == "" {
		return "", fmt.Errorf("unknown user %q", user)
	}
	root := filepath.Join(d.dir, "mail", domain, local, "Maildir")
	if strings.EqualFold(folder, "INBOX") {
		return root, nil
	}
	return filepath.Join(root, "."+folder), nil
}

// writeConfig lays out the instance's directories, users and configuration.
// Modes are set explicitly so that a restrictive umask cannot hide them from
// Dovecot's unprivileged processes.
func (d *DovecotServer) writeConfig(port int) error {
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.Mkdir(filepath.Join(d.dir, sub), 0o755); err != nil {
			return fmt.Errorf("create %s dir: %w", sub, err)
		}
	}
	uid, gid, err := nobody()
	if err != nil {
		return err
	}
	if err := os.Chown(filepath.Join(d.dir, "mail"), uid, gid); err != nil {
		return fmt.Errorf("chown mail dir: %w", err)
	}
	var users strings.Builder
	for user, pw := range dovecotUsers {
		fmt.Fprintf(&users, "%s:{PLAIN}%s::::::\n", user, pw)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "users"), []byte(users.String()), 0o644); err != nil {
		return fmt.Errorf("write users: %w", err)
	}
	conf := strings.NewReplacer("$D", d.dir, "$PORT", strconv.Itoa(port)).Replace(dovecotConfig)
	if err := os.WriteFile(d.configPath(), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	for _, name := range []string{".", "run", "state", "mail", "users", "dovecot.conf"} {
		mode := os.FileMode(0o755)
		if name == "users" || name == "dovecot.conf" {
			mode = 0o644
		}
		if err := os.Chmod(filepath.Join(d.dir, name), mode); err != nil {
			return fmt.Errorf("chmod %s: %w", name, err)
		}
	}
	return nil
}

// nobody returns the ids that the mail processes run as.
func nobody() (int, int, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return 0, 0, fmt.Errorf("look up user nobody: %w", err)
	}
	g, err := user.LookupGroup("nogroup")
	if err != nil {
		return 0, 0, fmt.Errorf("look up group nogroup: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(g.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("parse nobody ids: %w", err)
	}
	return uid, gid, nil
}

// freePort asks the kernel for an unused loopback TCP port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// dovecotConfig is a self-contained Dovecot 2.3 configuration; $D is the
// instance directory and $PORT the IMAP port. A test server's mail need
// not survive a power cut: without fsync, appends and flag changes do not
// wait for the disk.
const dovecotConfig = `protocols = imap
listen = 127.0.0.1
mail_fsync = never
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
