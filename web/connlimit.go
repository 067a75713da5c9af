package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ConnLimits caps the connections one listener holds, so that a flood of
// slow clients can neither exhaust the process's file descriptors nor
// keep health checks and logins out.
//
// A client is the TCP peer: an IPv4 address, or an IPv6 /64 (what one
// host is usually given). A new connection over its client's cap is
// closed at once. At the total cap, a new connection takes the place of
// the one that has waited longest for a request — a client still
// trickling its headers, or a kept-alive one that went idle — and is
// closed only when every connection is busy with a request. Deadlines
// (http.read_header_timeout and the rest) close slow connections in any
// case; the caps bound how many there are meanwhile.
type ConnLimits struct {
	// Total caps the connections open at once; 0 means no cap.
	Total int
	// PerClient caps one client's connections; 0 means no cap.
	PerClient int
	// Exempt are peers counted in Total only: trusted proxies, each of
	// whose connections carries many clients. Behind a proxy, the proxy
	// is the place for a per-client cap.
	Exempt []netip.Prefix
}

// limitListener admits the connections of a net.Listener within
// ConnLimits.
type limitListener struct {
	net.Listener
	limits  ConnLimits
	log     *slog.Logger
	metrics *connMetrics

	mu      sync.Mutex
	open    map[*limitedConn]struct{}
	clients map[netip.Prefix]int
	// refused counts what was refused or evicted since lastLog, for a
	// log line at most once a minute.
	refused map[string]int
	lastLog time.Time
}

// Why a connection was closed before it could send a request.
const (
	refusedClientCap = "client_cap"
	refusedTotalCap  = "total_cap"
	evicted          = "evicted"
)

func newLimitListener(ln net.Listener, l ConnLimits, log *slog.Logger, m *connMetrics) *limitListener {
	return &limitListener{Listener: ln, limits: l, log: log, metrics: m,
		open: map[*limitedConn]struct{}{}, clients: map[netip.Prefix]int{}, refused: map[string]int{}}
}

// limitedConn is an admitted connection.
type limitedConn struct {
	net.Conn
	l      *limitListener
	client netip.Prefix
	exempt bool
	once   sync.Once
	// busy is set while a request is being served; since is when the
	// connection last began to wait for a request. Both under l.mu.
	busy  bool
	since time.Time
}

// Close closes the connection and frees its place.
func (c *limitedConn) Close() error {
	c.once.Do(func() { c.l.release(c) })
	return c.Conn.Close()
}

// Accept returns the next connection within the limits, closing those
// over them.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit counts c in, or closes it and returns nil.
func (l *limitListener) admit(c net.Conn) *limitedConn {
	client, exempt := l.client(c.RemoteAddr())
	now := time.Now()
	l.mu.Lock()
	if !exempt && l.limits.PerClient > 0 && l.clients[client] >= l.limits.PerClient {
		l.refuse(refusedClientCap, client, now)
		l.mu.Unlock()
		c.Close()
		return nil
	}
	var victim *limitedConn
	if l.limits.Total > 0 && len(l.open) >= l.limits.Total {
		if victim = l.longestWaiting(); victim == nil {
			l.refuse(refusedTotalCap, client, now)
			l.mu.Unlock()
			c.Close()
			return nil
		}
		l.forget(victim)
		l.refuse(evicted, victim.client, now)
	}
	lc := &limitedConn{Conn: c, l: l, client: client, exempt: exempt, since: now}
	l.open[lc] = struct{}{}
	if !exempt {
		l.clients[client]++
	}
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	l.metrics.opened()
	return lc
}

// longestWaiting is the open connection that has waited longest for a
// request, or nil when all are serving one. The caller holds mu.
func (l *limitListener) longestWaiting() *limitedConn {
	var oldest *limitedConn
	for c := range l.open {
		if !c.busy && (oldest == nil || c.since.Before(oldest.since)) {
			oldest = c
		}
	}
	return oldest
}

// forget takes c out of the counts. The caller holds mu.
func (l *limitListener) forget(c *limitedConn) {
	if _, ok := l.open[c]; !ok {
		return
	}
	delete(l.open, c)
	if !c.exempt {
		if l.clients[c.client]--; l.clients[c.client] <= 0 {
			delete(l.clients, c.client)
		}
	}
	l.metrics.closed()
}

// release frees a closed connection's place.
func (l *limitListener) release(c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forget(c)
}

// setBusy marks c as serving a request, or as waiting for the next one.
func (l *limitListener) setBusy(c *limitedConn, busy bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.busy = busy
	if !busy {
		c.since = time.Now()
	}
}

// refuse counts a connection closed for reason, and logs the counts at
// most once a minute. The caller holds mu.
func (l *limitListener) refuse(reason string, client netip.Prefix, now time.Time) {
	l.metrics.refused(reason)
	l.refused[reason]++
	if now.Sub(l.lastLog) < time.Minute {
		return
	}
	attrs := []any{"last_client", client.String()}
	for _, r := range []string{refusedClientCap, refusedTotalCap, evicted} {
		attrs = append(attrs, r, l.refused[r])
	}
	if reason == refusedClientCap {
		attrs = append(attrs, "hint", "behind a proxy, list it in web.trusted_proxies")
	}
	clear(l.refused)
	l.lastLog = now
	// Logging under mu keeps the counts in order; it happens once a
	// minute at most.
	l.log.Warn("http connections closed before a request: at the connection caps", attrs...)
}

// client is the cap key of a peer address and whether it is exempt.
func (l *limitListener) client(a net.Addr) (netip.Prefix, bool) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		// Not an IP peer (a Unix socket): the total cap alone applies.
		return netip.Prefix{}, true
	}
	addr := ap.Addr().Unmap()
	for _, p := range l.limits.Exempt {
		if p.Contains(addr) {
			return netip.Prefix{}, true
		}
	}
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p, false
}

// connKey carries a request's *limitedConn in its context.
type connKey struct{}

// connContext is the http.Server's ConnContext: it lets a request find
// its connection.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// connState is the http.Server's ConnState: a connection that finished a
// response waits for the next request.
func connState(c net.Conn, s http.ConnState) {
	if lc, ok := c.(*limitedConn); ok && s == http.StateIdle {
		lc.l.setBusy(lc, false)
	}
}

// serving marks a request's connection busy while its handler runs and
// until the response is written; connState marks it waiting again.
func serving(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lc, ok := r.Context().Value(connKey{}).(*limitedConn); ok {
			lc.l.setBusy(lc, true)
		}
		next.ServeHTTP(w, r)
	})
}

// connMetrics are a listener's connection series; a nil *connMetrics
// records nothing.
type connMetrics struct {
	open        prometheus.Gauge
	closedEarly *prometheus.CounterVec
}

// newConnMetrics registers the series of the listener named name with
// reg; nil when reg is nil.
func newConnMetrics(reg prometheus.Registerer, name string) (*connMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	labels := prometheus.Labels{"listener": name}
	m := &connMetrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "earshot_http_connections",
			Help: "HTTP connections open.", ConstLabels: labels}),
		closedEarly: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "earshot_http_connections_refused_total",
			Help:        "HTTP connections closed before a request: over a client's cap (client_cap), over the total with none to evict (total_cap), or evicted for a new one (evicted).",
			ConstLabels: labels}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.open, m.closedEarly} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *connMetrics) opened() {
	if m != nil {
		m.open.Inc()
	}
}

func (m *connMetrics) closed() {
	if m != nil {
		m.open.Dec()
	}
}

func (m *connMetrics) refused(reason string) {
	if m != nil {
		m.closedEarly.WithLabelValues(reason).Inc()
	}
}
