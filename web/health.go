// Package web serves Earshot over HTTP: health and metrics, the Twilio
// webhooks and the managers' dashboard.
package web

import (
	"context"
	"encoding/json"
	"net/http"
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

// HealthOptions wires the health endpoints.
type HealthOptions struct {
	DB Pinger
	// Sources reports the sources this replica knows about; nil for none.
	Sources func(ctx context.Context) []SourceHealth
	// Registry is the private Prometheus registry served at /metrics.
	Registry *prometheus.Registry
}

// RegisterHealth adds /healthz, /readyz and /metrics to mux.
//
// /healthz answers 200 while the process serves HTTP. /readyz answers 200
// when the database answers, listing each source's state; a disabled or
// failing source makes it "degraded" (still 200, so that a dashboard
// replica stays in service) unless ?strict=1 asks for 503.
func RegisterHealth(mux *http.ServeMux, o HealthOptions) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
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
	})
	if o.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	}
}
