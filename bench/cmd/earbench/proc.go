package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// proc is a child process that leads its own process group, so that the
// whole group can be signalled, and that gets SIGKILL if this program
// dies first.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
	log  *os.File
}

// startProc starts cmd with its output appended to logPath. cred, when
// set, runs it as another user.
func startProc(cmd *exec.Cmd, logPath string, cred *syscall.Credential) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), log: f}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id (and process group id).
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// Alive reports whether the process has not exited.
func (p *proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Signal sends sig to the whole process group.
func (p *proc) Signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.Pid(), sig)
}

// Stop sends sig to the group and waits up to wait for the process to
// exit; then it kills what is left of the group. It reports whether the
// process exited within wait.
func (p *proc) Stop(sig syscall.Signal, wait time.Duration) bool {
	if !p.Alive() {
		killGroup(p.Pid())
		return true
	}
	p.Signal(sig)
	clean := true
	select {
	case <-p.done:
	case <-time.After(wait):
		clean = false
	}
	killGroup(p.Pid())
	<-p.done
	return clean
}

// killGroup kills a process group and waits briefly until it is gone.
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && syscall.Kill(-pgid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
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

// waitFor polls check every 20 ms until it succeeds, p exits, or the time
// runs out.
func waitFor(p *proc, limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p != nil && !p.Alive() {
			return fmt.Errorf("exited before it was ready (%v): %w", p.err, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
