// Command testsummary condenses `go test -json` output for CI logs.
//
// It reads the JSON event stream on stdin and prints one line per tested
// package (ok or FAIL with its time), the full output of failed tests and of
// packages that failed to build, then the names of the failures, a line
// "N passed, N failed, N skipped" (tests and subtests) and each skipped test
// with its reason. It exits with status 1 when a test or a package failed.
//
// Usage:
//
//	go test -json ./... | go run ./internal/tools/testsummary
package main

import (
	"fmt"
	"os"
)

func main() {
	code, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
		os.Exit(2)
	}
	os.Exit(code)
}
