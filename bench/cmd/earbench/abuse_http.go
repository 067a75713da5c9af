package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// slowOptions sizes the slow-client flood.
type slowOptions struct {
	clients  int           // client addresses
	conns    int           // connections each holds
	duration time.Duration // how long the flood lasts
}

// The /healthz probes during the flood.
const (
	probeEvery   = 100 * time.Millisecond
	probeTimeout = 5 * time.Second
	probeLimit   = time.Second // the answer time the flood must not exceed
)

// slowClients floods the dashboard port with clients that trickle a
// request's headers a byte a second or open a connection and send
// nothing (slowloris), each from an address of its own in 127.0.0.0/8
// and each re-opening what the daemon closes. Meanwhile /healthz is asked
// on http.ops_listen, where probes and scrapers go, and on the dashboard
// port itself, which the container's health check asks and which the
// connection caps keep open.
func (a *attacker) slowClients(r *abuseReport, o slowOptions) error {
	ctx, stop := context.WithCancel(a.ctx)
	var wg sync.WaitGroup
	var dials, refused atomic.Int64
	for c := range o.clients {
		// 127.1.x.y: loopback, and not the probes' 127.0.0.1.
		local := &net.TCPAddr{IP: net.IPv4(127, 1, byte(c/250), byte(c%250+1))}
		for k := range o.conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slowConn(ctx, a.httpAddr, local, k%2 == 0, &dials, &refused)
			}()
		}
	}
	// The probes count once the flood fills the listener (or after 20 s).
	full := min(abuseMaxConns, o.clients*o.conns) * 9 / 10
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if n, err := scrapeGauge(a.opsAddr, `earshot_http_connections{listener="public"}`); err == nil && int(n) >= full {
			break
		}
	}
	var peak atomic.Int64
	pwg := sync.WaitGroup{}
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		for ctx.Err() == nil {
			if n, err := scrapeGauge(a.opsAddr, `earshot_http_connections{listener="public"}`); err == nil {
				peak.Store(max(peak.Load(), int64(n)))
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	probes := make([]*probeResult, 2)
	for i, addr := range []string{a.opsAddr, a.httpAddr} {
		probes[i] = &probeResult{}
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			probes[i].run(ctx, "http://"+addr+"/healthz", time.Now().Add(o.duration))
		}()
	}
	time.Sleep(o.duration)
	stop()
	pwg.Wait()
	wg.Wait()
	evicted, _ := scrapeGauge(a.opsAddr, `earshot_http_connections_refused_total{listener="public",reason="evicted"}`)
	if err := a.ctx.Err(); err != nil {
		return err
	}
	attack := fmt.Sprintf("%d slow clients × %d connections on the dashboard port, %s", o.clients, o.conns, o.duration)
	flood := fmt.Sprintf("%d slow connections opened (%d failed), up to %d held (cap %d), %.0f evicted",
		dials.Load(), refused.Load(), peak.Load(), abuseMaxConns, evicted)
	ops, pub := probes[0], probes[1]
	r.add(attack, "/healthz on http.ops_listen answers in < 1 s throughout", ops.ok(),
		"%s; %s", ops, flood)
	r.add(attack, "/healthz on the dashboard port answers in < 1 s throughout (connection caps, eviction)", pub.ok(),
		"%s", pub)
	return nil
}

// slowConn keeps one slow connection to addr from local open until ctx
// ends, re-opening it a second after the daemon closes it. A trickling
// one sends a request line and then a header a byte a second; a silent
// one sends nothing.
func slowConn(ctx context.Context, addr string, local *net.TCPAddr, trickle bool, dials, refused *atomic.Int64) {
	d := net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}
	for ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			refused.Add(1)
		} else {
			dials.Add(1)
			holdSlow(ctx, conn, trickle)
			conn.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// holdSlow trickles or waits on conn until the daemon closes it or ctx
// ends.
func holdSlow(ctx context.Context, conn net.Conn, trickle bool) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	buf := make([]byte, 512)
	if !trickle {
		conn.Read(buf) // returns when the daemon closes it
		return
	}
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: earshot\r\nX-Slow: ")); err != nil {
		return
	}
	for {
		conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := conn.Read(buf); !isTimeout(err) {
			return // an answer (408, 431) or a close
		}
		if _, err := conn.Write([]byte("a")); err != nil {
			return
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// probeResult is what the /healthz probes of one address saw.
type probeResult struct {
	n, failed int
	max       time.Duration
	lastErr   string
}

// run asks url every probeEvery on a new connection, as a health checker
// does, until until.
func (p *probeResult) run(ctx context.Context, url string, until time.Time) {
	client := &http.Client{Timeout: probeTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	for time.Now().Before(until) && ctx.Err() == nil {
		start := time.Now()
		resp, err := client.Get(url)
		took := time.Since(start)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		if ctx.Err() != nil && err != nil {
			break // the flood's end, not the daemon
		}
		p.n++
		p.max = max(p.max, took)
		if err != nil {
			p.failed++
			p.lastErr = err.Error()
		}
		time.Sleep(max(0, probeEvery-took))
	}
}

func (p *probeResult) ok() bool { return p.n > 0 && p.failed == 0 && p.max < probeLimit }

func (p *probeResult) String() string {
	s := fmt.Sprintf("%d probes, %d failed, slowest %d ms", p.n, p.failed, p.max.Milliseconds())
	if p.lastErr != "" {
		s += " (" + p.lastErr + ")"
	}
	return s
}

// scrapeGauge reads one series' value from the daemon's /metrics at addr.
func scrapeGauge(addr, series string) (float64, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, nil
}
