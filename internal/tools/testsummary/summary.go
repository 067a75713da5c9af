package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// event is one record of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build-output and build-fail events
	FailedBuild string // package fail caused by a build failure
}

// test is the state of one test or subtest.
type test struct {
	pkg, name string
	output    []string
	done      bool
}

// skip is a skipped test with its reason.
type skip struct {
	pkg, name, reason string
}

// timing is a top-level test's duration.
type timing struct {
	pkg, name string
	seconds   float64
}

// slowest is how many of the slowest tests the report lists.
const slowest = 10

// summary accumulates the event stream and writes the condensed log: the
// stream of package results and failures to w, the closing report to
// report.
type summary struct {
	w, report io.Writer

	tests       map[string]*test   // by package and test name
	running     map[string][]*test // unfinished tests by package, in start order
	pkgOutput   map[string][]string
	buildOutput map[string][]string // by import path

	passed, failed int
	failedIn       map[string]int // failed tests by package
	skipped        []skip
	failures       []string
	packageResults int
	timings        []timing
}

func newSummary(w, report io.Writer) *summary {
	return &summary{
		w:           w,
		report:      report,
		tests:       map[string]*test{},
		running:     map[string][]*test{},
		pkgOutput:   map[string][]string{},
		buildOutput: map[string][]string{},
		failedIn:    map[string]int{},
	}
}

// run reads events from r, writes the summary to w and returns the exit code.
func run(r io.Reader, w io.Writer) (int, error) {
	return runReport(r, w, w)
}

// runReport is run with the closing report (slowest tests, skips, failures
// and the counts) written to report instead of w.
func runReport(r io.Reader, w, report io.Writer) (int, error) {
	s := newSummary(w, report)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			s.line(line)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read test events: %w", err)
		}
	}
	return s.finish(), nil
}

// line handles one input line; lines that are not JSON events pass through.
func (s *summary) line(line string) {
	var ev event
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &ev) != nil || ev.Action == "" {
		s.print(line)
		return
	}
	s.handle(ev)
}

func (s *summary) handle(ev event) {
	switch ev.Action {
	case "build-output":
		s.buildOutput[ev.ImportPath] = append(s.buildOutput[ev.ImportPath], ev.Output)
	case "build-fail":
		s.printAll(s.buildOutput[ev.ImportPath])
		delete(s.buildOutput, ev.ImportPath)
	case "run":
		if ev.Test != "" {
			// A new run of the test (go test -count=N runs each N times).
			t := &test{pkg: ev.Package, name: ev.Test}
			s.tests[ev.Package+"\x00"+ev.Test] = t
			s.running[ev.Package] = append(s.running[ev.Package], t)
		}
	case "output":
		if ev.Test == "" {
			s.pkgOutput[ev.Package] = append(s.pkgOutput[ev.Package], ev.Output)
		} else {
			t := s.test(ev.Package, ev.Test)
			t.output = append(t.output, ev.Output)
		}
	case "pass", "fail", "skip":
		if ev.Test == "" {
			s.packageDone(ev)
		} else {
			t := s.test(ev.Package, ev.Test)
			if !t.done && !strings.Contains(ev.Test, "/") {
				s.timings = append(s.timings, timing{pkg: ev.Package, name: ev.Test, seconds: ev.Elapsed})
			}
			s.testDone(t, ev.Action)
		}
	}
}

func (s *summary) test(pkg, name string) *test {
	key := pkg + "\x00" + name
	t, ok := s.tests[key]
	if !ok {
		t = &test{pkg: pkg, name: name}
		s.tests[key] = t
	}
	return t
}

func (s *summary) testDone(t *test, action string) {
	if t.done {
		return
	}
	t.done = true
	switch action {
	case "pass":
		s.passed++
	case "skip":
		s.skipped = append(s.skipped, skip{pkg: t.pkg, name: t.name, reason: skipReason(t.output)})
	case "fail":
		s.failed++
		s.failedIn[t.pkg]++
		s.failures = append(s.failures, t.pkg+" "+t.name)
		fmt.Fprintf(s.w, "=== FAIL %s %s\n", t.pkg, t.name)
		s.printAll(t.output)
	}
	t.output = nil
}

func (s *summary) packageDone(ev event) {
	s.packageResults++
	pkgOut := s.pkgOutput[ev.Package]
	delete(s.pkgOutput, ev.Package)
	running := s.running[ev.Package]
	delete(s.running, ev.Package)
	switch {
	case ev.Action == "skip":
		// no test files: nothing worth a line
	case ev.Action == "pass":
		fmt.Fprintf(s.w, "ok   %s\t%.2fs\n", ev.Package, ev.Elapsed)
	case ev.FailedBuild != "":
		s.failures = append(s.failures, ev.Package+" [build failed]")
		fmt.Fprintf(s.w, "FAIL %s\t[build failed]\n", ev.Package)
	default:
		// Tests still running when the package failed (a panic or a timeout)
		// get no result event of their own.
		for _, t := range running {
			s.testDone(t, "fail")
		}
		for _, line := range pkgOut {
			if !isPackageResult(line, ev.Package) {
				s.print(line)
			}
		}
		if s.failedIn[ev.Package] == 0 {
			s.failures = append(s.failures, ev.Package+" [package failed outside any test]")
		}
		fmt.Fprintf(s.w, "FAIL %s\t%.2fs\n", ev.Package, ev.Elapsed)
	}
	for _, t := range running {
		delete(s.tests, t.pkg+"\x00"+t.name)
	}
}

// finish prints the closing report and returns the exit code: the slowest
// tests, the skipped ones with their reasons, the failures, and the counts
// as the last line.
func (s *summary) finish() int {
	for _, pkg := range slices.Sorted(maps.Keys(s.pkgOutput)) {
		// A package without a result event: the stream was cut short.
		s.printAll(s.pkgOutput[pkg])
		s.failures = append(s.failures, pkg+" [no result]")
	}
	if s.packageResults == 0 {
		s.failures = append(s.failures, "(no package results in the input)")
	}
	r := s.report
	if len(s.timings) > 0 {
		slices.SortStableFunc(s.timings, func(a, b timing) int { return cmp.Compare(b.seconds, a.seconds) })
		fmt.Fprintln(r, "Slowest tests:")
		for _, t := range s.timings[:min(slowest, len(s.timings))] {
			fmt.Fprintf(r, "  %7.2fs %s %s\n", t.seconds, t.pkg, t.name)
		}
	}
	if len(s.skipped) > 0 {
		fmt.Fprintln(r, "Skipped:")
		for _, sk := range s.skipped {
			fmt.Fprintf(r, "  %s %s: %s\n", sk.pkg, sk.name, sk.reason)
		}
	}
	if len(s.failures) > 0 {
		fmt.Fprintln(r, "Failures:")
		for _, f := range s.failures {
			fmt.Fprintf(r, "  %s\n", f)
		}
	}
	fmt.Fprintf(r, "%d passed, %d failed, %d skipped\n", s.passed, s.failed, len(s.skipped))
	if len(s.failures) > 0 {
		return 1
	}
	return 0
}

func (s *summary) print(line string) {
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	io.WriteString(s.w, line)
}

func (s *summary) printAll(lines []string) {
	for _, l := range lines {
		s.print(l)
	}
}

// isPackageResult matches the "FAIL" and "FAIL\tpkg\t1.2s" lines that the
// summary's own package line replaces.
func isPackageResult(line, pkg string) bool {
	line = strings.TrimRight(line, "\n")
	return line == "FAIL" || strings.HasPrefix(line, "FAIL\t"+pkg+"\t") || line == "FAIL\t"+pkg
}

var (
	// logHeader matches the start of a t.Log or t.Skip message.
	logHeader = regexp.MustCompile(`^\s+\S+\.go:\d+: `)
	// framing matches the lines the testing package writes around tests.
	framing = regexp.MustCompile(`^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|FAIL|SKIP):)`)
)

// skipReason extracts the last logged message before a skip (the argument of
// t.Skip), including its continuation lines.
func skipReason(output []string) string {
	var reason []string
	for _, line := range output {
		line = strings.TrimRight(line, "\n")
		switch {
		case framing.MatchString(line):
		case logHeader.MatchString(line):
			reason = []string{strings.TrimSpace(line)}
		case len(reason) > 0 && strings.TrimSpace(line) != "":
			reason = append(reason, strings.TrimSpace(line))
		}
	}
	if len(reason) == 0 {
		return "(no reason given)"
	}
	return strings.Join(reason, " ")
}
