package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func TestHealth(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "earshot_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	cases := []struct {
		name, path string
		db         error
		sources    []SourceHealth
		code       int
		body       string
	}{
		{"alive", "/healthz", nil, nil, 200, "ok"},
		{"alive even without a database", "/healthz", errors.New("down"), nil, 200, "ok"},
		{"ready", "/readyz", nil, []SourceHealth{{Name: "feedback", State: "idle"}}, 200, `"status": "ok"`},
		{"database down", "/readyz", errors.New("down"), nil, 503, `"database": "unreachable"`},
		{"disabled source is degraded", "/readyz", nil, []SourceHealth{{Name: "intel", State: "disabled", Disabled: "authentication failed"}}, 200, `"disabled": "authentication failed"`},
		{"strict readiness fails on a disabled source", "/readyz?strict=1", nil, []SourceHealth{{Name: "intel", State: "disabled", Disabled: "authentication failed"}}, 503, `"status": "degraded"`},
		{"metrics from the private registry", "/metrics", nil, nil, 200, "earshot_test_total 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			RegisterHealth(mux, HealthOptions{DB: pinger{tc.db}, Registry: reg,
				Sources: func(context.Context) []SourceHealth { return tc.sources }})
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.code || !strings.Contains(string(body), tc.body) {
				t.Fatalf("%s = %d %s; want %d containing %q", tc.path, rec.Code, body, tc.code, tc.body)
			}
		})
	}
}
