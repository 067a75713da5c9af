package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCmd runs the CLI in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "earshot.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// silentListener accepts connections and never answers: a database that
// is there but unreachable.
func silentListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// Broken setups end with one clear line and a non-zero exit, quickly:
// never a hang or a stack trace.
func TestBrokenSetups(t *testing.T) {
	closed := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}()
	cases := []struct {
		name, config string
		args         []string
		code         int
		want         string
	}{
		{"malformed yaml", "database: [sqlite:x\n", []string{"migrate", "up"}, 2, "earshot migrate: config: line"},
		{"unknown key", "database: sqlite:x.db\nworkerz: {}\n", []string{"run"}, 2, `unknown field "workerz"`},
		{"bad database url", "database: mysql://db/earshot\n", []string{"run"}, 2, "database: must start with postgres://"},
		{"database refuses connections", "database: postgres://u@" + closed + "/earshot?sslmode=disable\n", []string{"run"}, 1, "connect to postgres database"},
		{"database never answers", "database: postgres://u@" + silentListener(t) + "/earshot?sslmode=disable\n", []string{"migrate", "status"}, 1, "connect to postgres database"},
		{"missing config file", "", []string{"check-config", "-c", "/nonexistent/earshot.yaml"}, 2, "no such file"},
		{"unknown command", "", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.config != "" {
				args = append([]string{args[0], "-c", writeConfig(t, tc.config)}, args[1:]...)
			}
			start := time.Now()
			code, _, stderr := runCmd(t, args...)
			took := time.Since(start)
			if code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			first := strings.SplitN(stderr, "\n", 2)[0]
			if !strings.Contains(first, tc.want) {
				t.Errorf("first line %q does not say %q", first, tc.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace in output: %s", stderr)
			}
			if took > 10*time.Second {
				t.Errorf("took %v; want under 10 s", took)
			}
			t.Logf("%v: %s", took.Round(time.Millisecond), first)
		})
	}
}

func TestCheckConfigMasksSecrets(t *testing.T) {
	p := writeConfig(t, `database: postgres://earshot:s3cretpw@127.0.0.1/earshot
mailboxes:
  - name: fb
    address: fb@example.test
    category: feedback
    imap: {host: 127.0.0.1, tls: none, username: fb, password: hunter22}
`)
	code, out, stderr := runCmd(t, "check-config", "-c", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"s3cretpw", "hunter22"} {
		if strings.Contains(out, s) {
			t.Errorf("check-config printed secret %q", s)
		}
	}
	if !strings.Contains(out, "host: 127.0.0.1") || !strings.Contains(out, `password: "***"`) {
		t.Errorf("output does not show the understood config:\n%s", out)
	}
}

func TestHashPassword(t *testing.T) {
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader("s3cret pass\n"), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := run(context.Background(), e, []string{"hash-password"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	hash := strings.TrimSpace(out.String())
	if !strings.HasPrefix(hash, "$2") || strings.Contains(out.String(), "s3cret") {
		t.Fatalf("output %q is not a bcrypt hash", out.String())
	}
	cfg := writeConfig(t, "database: sqlite:x.db\nweb: {users: [{name: m, password_hash: '"+hash+"'}]}\n")
	if code, _, stderr := runCmd(t, "check-config", "-c", cfg); code != 0 {
		t.Fatalf("the hash does not validate: %s", stderr)
	}
	e.stdin = strings.NewReader("\n")
	if code := run(context.Background(), e, []string{"hash-password"}); code != 2 {
		t.Fatalf("an empty password exits %d, want 2", code)
	}
}
