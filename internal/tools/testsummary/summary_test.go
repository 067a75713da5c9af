package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The inputs in testdata were recorded with `go test -json` (Go 1.26) on a
// small module whose tests pass, fail, skip, hang until -timeout, fail to
// build, or fail in TestMain after every test passed.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name     string
		code     int
		counts   string
		contains []string
		hidden   []string
	}{
		{
			name:     "pass",
			code:     0,
			counts:   "3 passed, 0 failed, 2 skipped",
			contains: []string{"ok   example.test/fix/good\t0.01s", "TestSub/b: good_test.go:9: postgres unavailable"},
			hidden:   []string{"noise that should not be shown", "some log", "=== RUN", "Failures:"},
		},
		{
			name:   "fail",
			code:   1,
			counts: "5 passed, 3 failed, 2 skipped",
			contains: []string{
				`broken/broken.go:3:23: cannot use "x"`, "FAIL example.test/fix/broken\t[build failed]",
				"boom: got 1, want 2", "  example.test/fix/bad TestSubFail/broken\n",
			},
			hidden: []string{"noise that should not be shown", "=== RUN   TestOK", "[package failed outside any test]"},
		},
		{
			name:     "timeout",
			code:     1,
			counts:   "1 passed, 1 failed, 0 skipped",
			contains: []string{"panic: test timed out after 2s", "  example.test/fix/slow TestHang\n"},
			hidden:   []string{"=== RUN   TestDone"},
		},
		{
			name:     "mainfail",
			code:     1,
			counts:   "1 passed, 0 failed, 0 skipped",
			contains: []string{"goroutine leak", "example.test/fix/mainfail [package failed outside any test]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tc.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code, err := run(bytes.NewReader(in), &out)
			if err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if !strings.Contains(got, "\n"+tc.counts+"\n") && !strings.HasPrefix(got, tc.counts+"\n") {
				t.Errorf("no line %q in:\n%s", tc.counts, got)
			}
			for _, s := range tc.contains {
				if !strings.Contains(got, s) {
					t.Errorf("output lacks %q:\n%s", s, got)
				}
			}
			for _, s := range tc.hidden {
				if strings.Contains(got, s) {
					t.Errorf("output shows %q:\n%s", s, got)
				}
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

func TestEmptyInputFails(t *testing.T) {
	var out bytes.Buffer
	code, err := run(strings.NewReader(""), &out)
	if err != nil || code != 1 {
		t.Fatalf("run on empty input = %d, %v; want 1", code, err)
	}
	if !strings.Contains(out.String(), "no package results") {
		t.Errorf("output does not explain the failure:\n%s", out.String())
	}
}

func TestTruncatedStreamFails(t *testing.T) {
	in := `{"Action":"start","Package":"p"}
{"Action":"output","Package":"p","Output":"panic: boom\n"}
{"Action":"pass","Package":"q","Elapsed":0.5}
`
	var out bytes.Buffer
	code, _ := run(strings.NewReader(in), &out)
	if code != 1 || !strings.Contains(out.String(), "panic: boom") || !strings.Contains(out.String(), "p [no result]") {
		t.Fatalf("exit %d, output:\n%s", code, out.String())
	}
}

func TestPassesThroughPlainLines(t *testing.T) {
	in := "go: downloading example.test/dep v1.0.0\n" + `{"Action":"pass","Package":"q","Elapsed":0.5}` + "\n"
	var out bytes.Buffer
	code, _ := run(strings.NewReader(in), &out)
	if code != 0 || !strings.HasPrefix(out.String(), "go: downloading example.test/dep v1.0.0\nok   q\t0.50s\n") {
		t.Fatalf("exit %d, output:\n%s", code, out.String())
	}
}

func TestSkipReason(t *testing.T) {
	for _, tc := range []struct {
		name   string
		output []string
		want   string
	}{
		{"none", []string{"=== RUN   TestX\n", "--- SKIP: TestX (0.00s)\n"}, "(no reason given)"},
		{"last message wins", []string{"=== RUN   TestX\n", "    x_test.go:3: setting up\n", "    x_test.go:4: no dovecot\n", "--- SKIP: TestX (0.00s)\n"}, "x_test.go:4: no dovecot"},
		{"multi-line", []string{"    x_test.go:4: first\n", "        second\n", "--- SKIP: TestX (0.00s)\n"}, "x_test.go:4: first second"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := skipReason(tc.output); got != tc.want {
				t.Errorf("skipReason = %q, want %q", got, tc.want)
			}
		})
	}
}

// With -count=N every run of a test counts, and the report lists the
// slowest top-level tests and ends with the counts.
func TestRepeatedRunsAndReport(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.5}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"run","Package":"p","Test":"TestB/sub"}
{"Action":"pass","Package":"p","Test":"TestB/sub","Elapsed":3}
{"Action":"pass","Package":"p","Test":"TestB","Elapsed":3.25}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: flaked\n"}
{"Action":"fail","Package":"p","Test":"TestA","Elapsed":1.5}
{"Action":"fail","Package":"p","Elapsed":5}
`
	var out, report bytes.Buffer
	code, err := runReport(strings.NewReader(in), &out, &report)
	if err != nil || code != 1 {
		t.Fatalf("runReport = %d, %v; want 1", code, err)
	}
	if !strings.Contains(out.String(), "a_test.go:9: flaked") || strings.Contains(out.String(), "passed") {
		t.Errorf("stream:\n%s", out.String())
	}
	want := `Slowest tests:
     3.25s p TestB
     1.50s p TestA
     0.50s p TestA
Failures:
  p TestA
3 passed, 1 failed, 0 skipped
`
	if report.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", report.String(), want)
	}
}
