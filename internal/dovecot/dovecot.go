// Package dovecot runs a private Dovecot 2.3 IMAP server on a free
// loopback port, for tests and benchmarks: plaintext LOGIN, the users
// feedback@example.test and intel@example.test, Maildirs under a directory
// of its own that survive a restart.
//
// The mail processes run as nobody, so the caller must be root.
package dovecot

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
)

// Binary is Debian's Dovecot.
const Binary = "/usr/sbin/dovecot"

const (
	readyWait = 15 * time.Second
	stopWait  = 20 * time.Second
)

// Users are the mailbox accounts of every instance, with their passwords.
var Users = map[string]string{
	"feedback@example.test": "feedback-pw",
	"intel@example.test":    "intel-pw",
}

// Server is one private Dovecot instance.
type Server struct {
	// Addr is the loopback host:port of the IMAP listener.
	Addr string

	bin  string
	dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Option changes how an instance is configured.
type Option func(*options)

type options struct{ noFsync bool }

// NoFsync makes the instance skip fsync: appends and flag changes do not
// wait for the disk. Mail still survives the server's own crash or
// restart (it is in the page cache), not the machine's; for tests, whose
// mail need not outlive a power cut.
func NoFsync() Option { return func(o *options) { o.noFsync = true } }

// New lays out an instance under dir (created if missing: configuration,
// users, state and mail) on a free port. It does not start it.
func New(bin, dir string, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin: bin, dir: dir}
	if err := s.writeConfig(port, o); err != nil {
		return nil, fmt.Errorf("dovecot: %w", err)
	}
	return s, nil
}

// Dir is the instance's directory.
func (s *Server) Dir() string { return s.dir }

// Pid is the master process's id, or 0 when the server is stopped.
func (s *Server) Pid() int {
	if !s.Running() {
		return 0
	}
	return s.cmd.Process.Pid
}

// Start starts the server (again) on the same port and maildirs and waits
// until it greets IMAP clients. It does nothing when the server runs.
func (s *Server) Start() error {
	if s.Running() {
		return nil
	}
	logf, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	cmd := exec.Command(s.bin, "-F", "-c", s.configPath())
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group lets Stop reach the helper processes; the
	// parent-death signal stops the server when its owner dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("dovecot: start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(); err != nil {
		_ = s.Stop()
		return fmt.Errorf("dovecot: %w\n%s", err, s.LogTail())
	}
	return nil
}

// Stop sends SIGTERM to Dovecot's whole process group and waits until every
// process has exited, so that Start can reuse the same directories.
// Signalling only the master takes 1–3 s and leaves the mail processes that
// still serve clients running; signalling the group drops every connection
// and takes about 0.1 s. It is safe to call on a stopped server; the error
// says the server had to be killed.
func (s *Server) Stop() error {
	if !s.Running() {
		return nil
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	var err error
	select {
	case <-s.done:
	case <-time.After(stopWait):
		err = fmt.Errorf("dovecot: pid %d ignored SIGTERM for %s and was killed\n%s", pgid, stopWait, s.LogTail())
	}
	killGroup(pgid)
	<-s.done
	s.cmd = nil
	return err
}

// Running reports whether a started master process has not exited yet.
func (s *Server) Running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Maildir returns the Maildir of user's folder ("INBOX" or a top-level
// folder).
func (s *Server) Maildir(user, folder string) (string, error) {
	local, domain, ok := strings.Cut(user, "@")
	if !ok || Users[user] == "" {
		return "", fmt.Errorf("unknown user %q", user)
	}
	root := filepath.Join(s.dir, "mail", domain, local, "Maildir")
	if strings.EqualFold(folder, "INBOX") {
		return root, nil
	}
	return filepath.Join(root, "."+folder), nil
}

// LogTail returns the end of Dovecot's log files, for error messages.
func (s *Server) LogTail() string {
	var b strings.Builder
	for _, name := range []string{"dovecot.log", "stdout.log"} {
		data, err := os.ReadFile(filepath.Join(s.dir, name))
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

// killGroup kills what is left of a process group and waits briefly for it
// to disappear (exited processes are reaped by init).
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && syscall.Kill(-pgid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReady waits for the IMAP greeting or for the process to exit.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(readyWait)
	for {
		err := greets(s.Addr)
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before accepting connections on %s", s.Addr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready on %s after %s: %w", s.Addr, readyWait, err)
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

func (s *Server) configPath() string { return filepath.Join(s.dir, "dovecot.conf") }

// writeConfig lays out the instance's directories, users and configuration.
// Modes are set explicitly so that a restrictive umask cannot hide them from
// Dovecot's unprivileged processes.
func (s *Server) writeConfig(port int, o options) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(s.dir, sub), 0o755); err != nil {
			return fmt.Errorf("create %s dir: %w", sub, err)
		}
	}
	uid, gid, err := nobody()
	if err != nil {
		return err
	}
	if err := os.Chown(filepath.Join(s.dir, "mail"), uid, gid); err != nil {
		return fmt.Errorf("chown mail dir: %w", err)
	}
	var users strings.Builder
	for user, pw := range Users {
		fmt.Fprintf(&users, "%s:{PLAIN}%s::::::\n", user, pw)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "users"), []byte(users.String()), 0o644); err != nil {
		return fmt.Errorf("write users: %w", err)
	}
	conf := strings.NewReplacer("$D", s.dir, "$PORT", strconv.Itoa(port)).Replace(config)
	if o.noFsync {
		conf += "mail_fsync = never\n"
	}
	if err := os.WriteFile(s.configPath(), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	for _, name := range []string{".", "run", "state", "mail", "users", "dovecot.conf"} {
		mode := os.FileMode(0o755)
		if name == "users" || name == "dovecot.conf" {
			mode = 0o644
		}
		if err := os.Chmod(filepath.Join(s.dir, name), mode); err != nil {
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

// config is a self-contained Dovecot 2.3 configuration; $D is the instance
// directory and $PORT the IMAP port.
const config = `protocols = imap
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
