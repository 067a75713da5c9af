package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// TestHealthExposure: /healthz answers everyone; /readyz and /metrics
// answer everyone on the ops listener, only loopback clients not behind a
// proxy on the public one without it, and nobody on the public one when
// the ops listener serves them.
func TestHealthExposure(t *testing.T) {
	reg := prometheus.NewRegistry()
	cases := []struct {
		name   string
		expose Exposure
		remote string
		header string
		codes  string // of /healthz, /readyz, /metrics
	}{
		{"ops listener, any client", ExposeAll, "203.0.113.5:4000", "", "200 200 200"},
		{"public, a remote client", ExposeLoopback, "203.0.113.5:4000", "", "200 403 403"},
		{"public, a loopback client", ExposeLoopback, "127.0.0.1:4000", "", "200 200 200"},
		{"public, IPv6 loopback", ExposeLoopback, "[::1]:4000", "", "200 200 200"},
		{"public, forwarded by a local proxy", ExposeLoopback, "127.0.0.1:4000", "X-Forwarded-For", "200 403 403"},
		{"public, a local proxy's Forwarded", ExposeLoopback, "127.0.0.1:4000", "Forwarded", "200 403 403"},
		{"public, a trusted local proxy without a header", ExposeLoopback, "127.0.0.2:4000", "", "200 403 403"},
		{"public beside an ops listener, loopback", ExposeNone, "127.0.0.1:4000", "", "200 404 404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			RegisterHealth(mux, HealthOptions{DB: pinger{}, Registry: reg, Expose: tc.expose,
				TrustedProxies: []string{"127.0.0.2"}})
			var codes []string
			for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
				r := httptest.NewRequest("GET", path, nil)
				r.RemoteAddr = tc.remote
				if tc.header != "" {
					r.Header.Set(tc.header, "for=198.51.100.7")
				}
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, r)
				codes = append(codes, strconv.Itoa(rec.Code))
			}
			if got := strings.Join(codes, " "); got != tc.codes {
				t.Errorf("/healthz /readyz /metrics = %s, want %s", got, tc.codes)
			}
		})
	}
}
