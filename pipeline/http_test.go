package pipeline_test

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/pipeline"
)

// getStatus fetches url and returns its status code and body.
func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// With an ops listener, /readyz and /metrics answer there and not on the
// public listener; /healthz answers on both (the container's health
// check asks the public one).
func TestDaemonOpsListener(t *testing.T) {
	ops, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, _, public := daemonWith(t, "sqlite:"+filepath.Join(t.TempDir(), "ops.db"), "", pipeline.Options{OpsListener: ops})
	opsURL := "http://" + ops.Addr().String()
	cases := []struct {
		url  string
		code int
		body string
	}{
		{public + "/healthz", 200, "ok"},
		{public + "/readyz", 404, ""},
		{public + "/metrics", 404, ""},
		{opsURL + "/healthz", 200, "ok"},
		{opsURL + "/readyz", 200, `"status"`},
		{opsURL + "/metrics", 200, `earshot_http_connections{listener="public"}`},
		{opsURL + "/", 404, ""},
	}
	for _, tc := range cases {
		code, body := getStatus(t, tc.url)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s = %d, want %d with %q:\n%.300s", tc.url, code, tc.code, tc.body, body)
		}
	}
}
