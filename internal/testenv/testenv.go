// Package testenv gives tests access to the real services that `make check`
// starts (PostgreSQL, Dovecot, Mailpit, the Prism mocks of Twilio and of
// Slack) and to the external programs some tests run (pocketsphinx, flite,
// sox, chromium).
//
// Every accessor reads its address from an EARSHOT_TEST_* environment
// variable written by `scripts/services up` into .services/env. When a service
// is missing the test is skipped with the reason, unless EARSHOT_TEST_REQUIRE=1
// (set by `make check`), in which case it fails: the full check runs with zero
// skips.
package testenv

import (
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Environment variables read by this package.
const (
	EnvRequire      = "EARSHOT_TEST_REQUIRE"
	EnvPostgres     = "EARSHOT_TEST_POSTGRES"
	EnvIMAP         = "EARSHOT_TEST_IMAP"
	EnvDovecot      = "EARSHOT_TEST_DOVECOT"
	EnvSMTP         = "EARSHOT_TEST_SMTP"
	EnvMailpit      = "EARSHOT_TEST_MAILPIT"
	EnvPrism        = "EARSHOT_TEST_PRISM"
	EnvPrismSlack   = "EARSHOT_TEST_PRISM_SLACK"
	EnvPocketsphinx = "EARSHOT_TEST_POCKETSPHINX"
	EnvFlite        = "EARSHOT_TEST_FLITE"
	EnvSox          = "EARSHOT_TEST_SOX"
	EnvChromium     = "EARSHOT_TEST_CHROMIUM"
)

// hint tells a developer how to provide the services.
const hint = "run `scripts/services up` and `set -a; . .services/env; set +a`, or `make check`"

// Need reports a missing service: t.Fatalf when EARSHOT_TEST_REQUIRE=1 (make
// check), else t.Skipf with the reason.
func Need(t testing.TB, service, reason string) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s is required (%s=1) but unavailable: %s", service, EnvRequire, reason)
	}
	t.Skipf("%s unavailable: %s (%s)", service, reason, hint)
}

// IMAP returns the host:port of the shared Dovecot server started by
// `scripts/services up` (users feedback@example.test and intel@example.test,
// passwords feedback-pw and intel-pw). Tests that change mailbox state or
// restart the server should start a private one with Dovecot instead.
func IMAP(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(EnvIMAP)
	if addr == "" {
		Need(t, "dovecot imap", EnvIMAP+" is not set")
	}
	needReachable(t, "dovecot imap", addr)
	return addr
}

// SMTP returns the host:port of the shared Mailpit SMTP sink.
func SMTP(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(EnvSMTP)
	if addr == "" {
		Need(t, "mailpit smtp", EnvSMTP+" is not set")
	}
	needReachable(t, "mailpit smtp", addr)
	return addr
}

// Mailpit returns the base URL of the shared Mailpit REST API, for example
// http://127.0.0.1:18025.
func Mailpit(t testing.TB) string {
	t.Helper()
	return needURL(t, "mailpit api", EnvMailpit)
}

// Prism returns the base URL of the shared Prism mock of Twilio's REST API,
// for example http://127.0.0.1:14010.
func Prism(t testing.TB) string {
	t.Helper()
	return needURL(t, "prism twilio mock", EnvPrism)
}

// PrismSlack returns the base URL of the shared Prism mock of Slack's Web
// API, for example http://127.0.0.1:14011.
func PrismSlack(t testing.TB) string {
	t.Helper()
	return needURL(t, "prism slack mock", EnvPrismSlack)
}

// Binary returns the path of an external program: the value of envVar, or
// fallbackPath when the variable is empty. It calls Need when the program is
// not an executable file.
func Binary(t testing.TB, envVar, fallbackPath string) string {
	t.Helper()
	path := os.Getenv(envVar)
	if path == "" {
		path = fallbackPath
	}
	name := filepath.Base(fallbackPath)
	if path == "" {
		Need(t, envVar, envVar+" is not set and there is no default path")
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		Need(t, name, err.Error())
	case fi.IsDir() || fi.Mode().Perm()&0o111 == 0:
		Need(t, name, path+" is not an executable file")
	}
	return path
}

// SharedDir returns the absolute path of the read-only reference directory
// that sits beside the repository (<repo>/../shared). The test is skipped when
// it is absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Skipf("shared reference directory unavailable: %v", err)
	}
	dir := filepath.Join(filepath.Dir(root), "shared")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("shared reference directory %s is absent; it is expected beside the repository", dir)
	}
	return dir
}

// RepoRoot returns the directory holding go.mod, found by walking up from the
// working directory (a package directory while `go test` runs).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// needURL reads a base URL from envVar and checks its host accepts connections.
func needURL(t testing.TB, service, envVar string) string {
	t.Helper()
	raw := os.Getenv(envVar)
	if raw == "" {
		Need(t, service, envVar+" is not set")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		Need(t, service, envVar+"="+raw+" is not a base URL")
	}
	needReachable(t, service, u.Host)
	return raw
}

// needReachable calls Need unless addr accepts a TCP connection.
func needReachable(t testing.TB, service, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		Need(t, service, err.Error())
		return
	}
	_ = conn.Close()
}
