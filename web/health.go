// Package web serves Earshot over HTTP: health and metrics, the Twilio
// webhooks and the managers' dashboard.
package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger is the database as health checks see it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// SourceHealth is one source's state for /readyz.
type SourceHealth struct {
	Name        string    `json:"name"`
	State       string    `json:"state"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Disabled    string    `json:"disabled,omitempty"`
}

// Exposure says who may read /readyz and /metrics on a listener: they
// name the sources, their errors and the volumes, which is nothing for
// the internet.
type Exposure int

const (
	// ExposeAll serves them to every client: the ops listener
	// (http.ops_listen), which the operator keeps private.
	ExposeAll Exposure = iota
	// ExposeLoopback serves them on the public listener to loopback
	// clients only, and never to a request that came through a proxy:
	// one through a trusted proxy or with a forwarding header.
	ExposeLoopback
	// ExposeNone leaves them out: the public listener when the ops
	// listener serves them.
	ExposeNone
)

// HealthOptions wires the health endpoints.
type HealthOptions struct {
	DB Pinger
	// Sources reports the sources this replica knows about; nil for none.
	Sources func(ctx context.Context) []SourceHealth
	// Registry is the private Prometheus registry served at /metrics.
	Registry *prometheus.Registry
	// Expose says who may read /readyz and /metrics.
	Expose Exposure
	// TrustedProxies (web.trusted_proxies): with ExposeLoopback, a
	// request from one of them was forwarded and is refused.
	TrustedProxies []string
}

// RegisterHealth adds /healthz, and /readyz and /metrics as o.Expose
// says, to mux.
//
// /healthz answers 200 while the process serves HTTP, to anyone: it tells
// nothing. /readyz answers 200 when the database answers, listing each
// source's state; a disabled or failing source makes it "degraded" (still
// 200, so that a dashboard replica stays in service) unless ?strict=1
// asks for 503.
func RegisterHealth(mux *http.ServeMux, o HealthOptions) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	if o.Expose == ExposeNone {
		return
	}
	guard := func(h http.Handler) http.Handler { return h }
	if o.Expose == ExposeLoopback {
		// The configuration was validated: a bad entry cannot occur.
		proxies, _ := parseProxies(o.TrustedProxies)
		guard = func(h http.Handler) http.Handler { return loopbackOnly(proxies, h) }
	}
	mux.Handle("GET /readyz", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		resp := struct {
			Status   string         `json:"status"`
			Database string         `json:"database"`
			Sources  []SourceHealth `json:"sources"`
		}{Status: "ok", Database: "ok", Sources: []SourceHealth{}}
		code := http.StatusOK
		if err := o.DB.Ping(ctx); err != nil {
			resp.Status, resp.Database, code = "unavailable", "unreachable", http.StatusServiceUnavailable
		}
		if o.Sources != nil {
			resp.Sources = o.Sources(ctx)
		}
		for _, s := range resp.Sources {
			if s.Disabled != "" || s.State == "failing" {
				if resp.Status == "ok" {
					resp.Status = "degraded"
				}
				if r.URL.Query().Get("strict") == "1" {
					code = http.StatusServiceUnavailable
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(resp)
	})))
	if o.Registry != nil {
		mux.Handle("GET /metrics", guard(promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry})))
	}
}

// forwardingHeaders are set by proxies on the requests they forward.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"}

// loopbackOnly serves h to loopback clients that did not come through a
// proxy, and answers everyone else 403.
func loopbackOnly(proxies []netip.Prefix, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := remoteAddr(r)
		local := ok && a.IsLoopback()
		for _, p := range proxies {
			if ok && p.Contains(a) {
				local = false
			}
		}
		for _, name := range forwardingHeaders {
			if r.Header.Get(name) != "" {
				local = false
			}
		}
		if !local {
			http.Error(w, "forbidden: this answers loopback clients only; set http.ops_listen to serve it on an address of its own",
				http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
