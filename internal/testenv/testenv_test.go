package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Skipf and Fatalf instead of acting.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// record runs fn on a recorder in its own goroutine, as Goexit requires.
func record(t *testing.T, fn func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r
}

func TestNeed(t *testing.T) {
	for _, tc := range []struct {
		require      string
		skip, failed bool
	}{
		{require: "", skip: true},
		{require: "0", skip: true},
		{require: "1", failed: true},
	} {
		t.Run("require="+tc.require, func(t *testing.T) {
			t.Setenv(EnvRequire, tc.require)
			r := record(t, func(tb testing.TB) { Need(tb, "postgres", "connection refused") })
			if (r.skipped != "") != tc.skip || (r.failed != "") != tc.failed {
				t.Fatalf("skipped %q, failed %q; want skip %v, fail %v", r.skipped, r.failed, tc.skip, tc.failed)
			}
			if msg := r.skipped + r.failed; !strings.Contains(msg, "postgres") || !strings.Contains(msg, "connection refused") {
				t.Errorf("message %q lacks the service or the reason", msg)
			}
		})
	}
}

func TestBinary(t *testing.T) {
	t.Setenv(EnvRequire, "")
	dir := t.TempDir()
	notExec := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(notExec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "tool")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	const env = "EARSHOT_TEST_TESTENV_TOOL"
	for _, tc := range []struct {
		name, env, fallback, want string
	}{
		{name: "env wins", env: exe, fallback: notExec, want: exe},
		{name: "fallback", fallback: exe, want: exe},
		{name: "missing", fallback: filepath.Join(dir, "absent")},
		{name: "not executable", env: notExec, fallback: exe},
		{name: "directory", env: dir, fallback: exe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(env, tc.env)
			var got string
			r := record(t, func(tb testing.TB) { got = Binary(tb, env, tc.fallback) })
			if tc.want == "" && r.skipped == "" {
				t.Fatalf("Binary returned %q, want a skip", got)
			}
			if tc.want != "" && got != tc.want {
				t.Fatalf("Binary = %q (skipped %q), want %q", got, r.skipped, tc.want)
			}
		})
	}
}

func TestServiceURLsNeedTheirVariable(t *testing.T) {
	t.Setenv(EnvRequire, "")
	for name, fn := range map[string]func(testing.TB) string{
		EnvSMTP: SMTP, EnvMailpit: Mailpit, EnvPrism: Prism, EnvIMAP: IMAP,
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, "")
			r := record(t, func(tb testing.TB) { fn(tb) })
			if !strings.Contains(r.skipped, name) {
				t.Fatalf("skip message %q does not name %s", r.skipped, name)
			}
		})
	}
}

func TestSharedDir(t *testing.T) {
	dir := SharedDir(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(root), "shared"); dir != want || !filepath.IsAbs(dir) {
		t.Fatalf("SharedDir = %q, want %q", dir, want)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("RepoRoot %q has no go.mod: %v", root, err)
	}
}
