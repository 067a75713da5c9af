package transcribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Restart pauses of a server that keeps exiting: the first, and the most.
const (
	firstRestart = time.Second
	maxRestart   = 30 * time.Second
	// healthyFor is how long a server must have run for its next crash to
	// restart it after firstRestart again.
	healthyFor = time.Minute
	// stopGrace is how long a stopped server may take before it is killed.
	stopGrace = 5 * time.Second
)

// errClosed reports a request made after the engine was closed.
var errClosed = errors.New("engine closed")

// server keeps a local HTTP server program running: it starts the program
// on a free loopback port when first needed, waits until GET /health
// answers 200, restarts it with a growing pause when it exits, and stops
// it on Close.
type server struct {
	// argv is the program and its arguments; the port goes after --port.
	argv         []string
	startTimeout time.Duration
	log          *slog.Logger
	client       *http.Client // for health checks

	mu      sync.Mutex
	started bool          // the supervising goroutine runs
	ready   chan struct{} // closed while the server answers; replaced when it stops
	url     string        // the running server's base URL
	lastErr error         // why the last start failed or the server exited
	closed  bool
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the supervisor has stopped the server
	starts  int           // how many times the program was started
}

func newServer(argv []string, startTimeout time.Duration, log *slog.Logger) *server {
	return &server{argv: argv, startTimeout: startTimeout, log: log, client: &http.Client{Timeout: 2 * time.Second},
		ready: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
}

// baseURL returns the URL of the running server, starting it if needed and
// waiting up to the start timeout (or ctx) for it to answer.
func (s *server) baseURL(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errClosed
	}
	if !s.started {
		s.started = true
		go s.supervise()
	}
	ready := s.ready
	s.mu.Unlock()
	timer := time.NewTimer(s.startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.url, nil
	case <-ctx.Done():
		return "", ctx.Err()
	case <-timer.C:
	case <-s.stop:
		return "", errClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil {
		return "", fmt.Errorf("%s not ready after %s: %w", s.argv[0], s.startTimeout, s.lastErr)
	}
	return "", fmt.Errorf("%s not ready after %s", s.argv[0], s.startTimeout)
}

// supervise runs the program until Close, restarting it when it exits.
func (s *server) supervise() {
	defer close(s.done)
	pause := firstRestart
	for {
		began := time.Now()
		err := s.runOnce()
		s.mu.Lock()
		s.lastErr = err
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return
		}
		if time.Since(began) > healthyFor {
			pause = firstRestart
		}
		s.log.Error("whisper server stopped; restarting", "err", err, "pause", pause)
		select {
		case <-time.After(pause):
		case <-s.stop:
			return
		}
		pause = min(2*pause, maxRestart)
	}
}

// runOnce starts the program, marks it ready once it answers, and returns
// when it exits (the error says how) or after stopping it on Close.
func (s *server) runOnce() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	argv := append(append([]string{}, s.argv...), "--port", strconv.Itoa(port))
	cmd := exec.Command(argv[0], argv[1:]...)
	newGroup(cmd)
	dieWithParent(cmd.SysProcAttr)
	var stderr capped
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	s.mu.Lock()
	s.starts++
	s.mu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	s.log.Info("whisper server starting", "pid", cmd.Process.Pid, "url", url)
	readyCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	healthy := make(chan struct{})
	go func() {
		if s.waitHealthy(readyCtx, url) {
			close(healthy)
		}
	}()
	for {
		select {
		case <-healthy:
			s.mu.Lock()
			s.url = url
			close(s.ready)
			s.mu.Unlock()
			s.log.Info("whisper server ready", "pid", cmd.Process.Pid)
			healthy = nil
		case err := <-exited:
			s.mu.Lock()
			if isClosed(s.ready) {
				s.ready = make(chan struct{})
			}
			s.mu.Unlock()
			return fmt.Errorf("%s exited: %v%s", argv[0], err, tail(stderr.Bytes()))
		case <-s.stop:
			_ = terminate(cmd)
			select {
			case <-exited:
			case <-time.After(stopGrace):
				_ = killGroup(cmd)
				<-exited
			}
			return errClosed
		}
	}
}

// waitHealthy polls url/health until it answers 200 or ctx ends.
func (s *server) waitHealthy(ctx context.Context, url string) bool {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
		if resp, err := s.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close stops the program and waits for it to exit.
func (s *server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.started
	close(s.stop)
	s.mu.Unlock()
	if started {
		<-s.done
	}
	return nil
}

// isClosed reports whether ch is closed.
func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
