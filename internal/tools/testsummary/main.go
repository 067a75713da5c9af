// Command testsummary condenses `go test -json` output for CI logs.
//
// It reads the JSON event stream on stdin and prints one line per tested
// package (ok or FAIL with its time), the full output of failed tests and of
// packages that failed to build, then a closing report: the ten slowest
// tests, each skipped test with its reason, the names of the failures and,
// as the last line, "N passed, N failed, N skipped" (tests and subtests).
// It exits with status 1 when a test or a package failed.
//
// Usage:
//
//	go test -json ./... | go run ./internal/tools/testsummary [-report FILE]
//
// With -report the closing report goes to FILE instead of standard output,
// for a caller that prints it last (make check does, after stopping the
// services).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	report := flag.String("report", "", "write the closing report to this `file` instead of standard output")
	flag.Parse()
	var rw io.Writer = os.Stdout
	if *report != "" {
		f, err := os.Create(*report)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
			os.Exit(2)
		}
		rw = f
	}
	code, err := runReport(os.Stdin, os.Stdout, rw)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
		os.Exit(2)
	}
	if f, ok := rw.(*os.File); ok && f != os.Stdout {
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
			os.Exit(2)
		}
	}
	os.Exit(code)
}
