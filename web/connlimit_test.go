package web

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/config"
)

// capped is a server with connection caps.
type capped struct {
	addr string
	reg  *prometheus.Registry
	ln   *limitListener
	// entered receives a value as each /busy request starts; /busy
	// answers once release is closed.
	entered, release chan struct{}
}

// capServer serves /healthz, and /busy until release is closed, with the
// given caps; 127.0.0.9 is its trusted proxy.
func capServer(t *testing.T, total, perClient int) *capped {
	t.Helper()
	s := &capped{entered: make(chan struct{}, 10), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /busy", func(w http.ResponseWriter, r *http.Request) {
		s.entered <- struct{}{}
		<-s.release
		io.WriteString(w, "done\n")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.reg = prometheus.NewRegistry()
	srv, err := NewServer(ln, ServerOptions{Handler: mux, Name: "public", Registerer: s.reg, TrustedProxies: []string{"127.0.0.9"},
		Logger: slog.New(slog.DiscardHandler),
		HTTP: config.HTTP{ReadHeaderTimeout: 20 * time.Second, ReadTimeout: 20 * time.Second, WriteTimeout: 20 * time.Second,
			IdleTimeout: 20 * time.Second, MaxHeaderBytes: 64 << 10, MaxConnections: total, MaxConnectionsPerClient: perClient}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		srv.Shutdown(t.Context())
	})
	s.addr = ln.Addr().String()
	s.ln = srv.ln.(*limitListener)
	return s
}

// waitState waits until the server holds open connections of which
// waiting wait for a request.
func (s *capped) waitState(t *testing.T, open, waiting int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.ln.mu.Lock()
		o, w := len(s.ln.open), 0
		for c := range s.ln.open {
			if !c.busy {
				w++
			}
		}
		s.ln.mu.Unlock()
		if o == open && w == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d connections, %d waiting; want %d, %d waiting", o, w, open, waiting)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// busy starts a /busy request on c, whose outcome goes to out, and waits
// until its handler runs.
func (s *capped) busy(t *testing.T, c net.Conn, out chan<- string) {
	t.Helper()
	go func() {
		st, err := request(c, "/busy")
		out <- fmt.Sprint(st, err)
	}()
	select {
	case <-s.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("a /busy request did not start")
	}
}

// dialFrom connects to addr from the loopback address from. Linux routes
// all of 127.0.0.0/8 to loopback; elsewhere the test is skipped.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRNOTAVAIL) {
			t.Skipf("cannot dial from %s here: %v", from, err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// request sends GET path on c and returns the status line, or the error
// that ended the connection.
func request(c net.Conn, path string) (string, error) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: earshot\r\n\r\n", path); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Status, nil
}

// closedByServer reports whether the server closed c: a read ends at
// once instead of waiting.
func closedByServer(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// openSilent opens n connections from from that send nothing, and waits
// until the server holds them all.
func openSilent(t *testing.T, from, addr string, n int) []net.Conn {
	t.Helper()
	var out []net.Conn
	for range n {
		out = append(out, dialFrom(t, from, addr))
	}
	return out
}

// closedEarly reads earshot_http_connections_refused_total for reason.
func closedEarly(reg *prometheus.Registry, reason string) string {
	n, err := testutil.GatherAndCount(reg, "earshot_http_connections_refused_total")
	if err != nil || n == 0 {
		return "0"
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return fmt.Sprint(m.GetCounter().GetValue())
				}
			}
		}
	}
	return "0"
}

// TestConnCaps: a client over its cap is refused while others are served;
// a trusted proxy is not capped per client; at the total cap a new
// connection evicts the one that waited longest for a request, and is
// refused only when every connection is serving one.
func TestConnCaps(t *testing.T) {
	t.Run("a client over its cap is refused, another is served", func(t *testing.T) {
		srv := capServer(t, 100, 3)
		addr, reg := srv.addr, srv.reg
		silent := openSilent(t, "127.0.0.2", addr, 3)
		extra := dialFrom(t, "127.0.0.2", addr)
		if !closedByServer(extra, 5*time.Second) {
			t.Error("a fourth connection from one client stayed open")
		}
		if st, err := request(dialFrom(t, "127.0.0.3", addr), "/healthz"); st != "200 OK" {
			t.Errorf("another client: %q %v", st, err)
		}
		for i, c := range silent {
			if closedByServer(c, 50*time.Millisecond) {
				t.Errorf("silent connection %d was closed", i)
			}
		}
		if got := closedEarly(reg, refusedClientCap); got != "1" {
			t.Errorf("client_cap refusals = %s, want 1", got)
		}
	})
	t.Run("a trusted proxy is capped only in total", func(t *testing.T) {
		addr := capServer(t, 100, 3).addr
		openSilent(t, "127.0.0.9", addr, 5)
		if st, err := request(dialFrom(t, "127.0.0.9", addr), "/healthz"); st != "200 OK" {
			t.Errorf("the proxy's sixth connection: %q %v", st, err)
		}
	})
	t.Run("at the total cap the longest waiting is evicted", func(t *testing.T) {
		srv := capServer(t, 4, 4)
		addr, reg := srv.addr, srv.reg
		silent := openSilent(t, "127.0.0.2", addr, 4)
		if st, err := request(dialFrom(t, "127.0.0.3", addr), "/healthz"); st != "200 OK" {
			t.Fatalf("a health check at the total cap: %q %v", st, err)
		}
		if !closedByServer(silent[0], 5*time.Second) {
			t.Error("the oldest silent connection stayed open")
		}
		for i, c := range silent[1:] {
			if closedByServer(c, 50*time.Millisecond) {
				t.Errorf("silent connection %d was closed too", i+1)
			}
		}
		if got := closedEarly(reg, evicted); got != "1" {
			t.Errorf("evictions = %s, want 1", got)
		}
	})
	t.Run("a connection serving a request is never evicted", func(t *testing.T) {
		srv := capServer(t, 4, 4)
		out := make(chan string, 4)
		for range 3 {
			srv.busy(t, dialFrom(t, "127.0.0.2", srv.addr), out)
		}
		idle := dialFrom(t, "127.0.0.3", srv.addr)
		if st, err := request(idle, "/healthz"); st != "200 OK" {
			t.Fatalf("health: %q %v", st, err)
		}
		srv.waitState(t, 4, 1)
		// Three busy and one idle after its request: the next evicts
		// the idle one.
		health := dialFrom(t, "127.0.0.4", srv.addr)
		if st, err := request(health, "/healthz"); st != "200 OK" {
			t.Fatalf("a health check evicting the idle connection: %q %v", st, err)
		}
		if !closedByServer(idle, 5*time.Second) {
			t.Error("the idle connection stayed open")
		}
		health.Close()
		srv.waitState(t, 3, 0)
		// Four busy: one more is refused.
		srv.busy(t, dialFrom(t, "127.0.0.4", srv.addr), out)
		if !closedByServer(dialFrom(t, "127.0.0.5", srv.addr), 5*time.Second) {
			t.Error("a connection beyond four busy ones stayed open")
		}
		if got := closedEarly(srv.reg, refusedTotalCap); got != "1" {
			t.Errorf("total_cap refusals = %s, want 1", got)
		}
		close(srv.release)
		for range 4 {
			if got := <-out; !strings.HasPrefix(got, "200 OK") {
				t.Errorf("a busy request was cut off: %s", got)
			}
		}
	})
}
