// Command earbench measures Earshot and injects faults into it, on
// private servers it starts and stops itself: a PostgreSQL cluster and a
// Dovecot per scenario, all on 127.0.0.1, plus an SMTP sink of its own.
//
//	earbench bench  -earshot bin/earshot [-n 2000,10000] …   throughput, CPU, memory and idle latency,
//	                                                          PostgreSQL's floor and the n8n peer (-peer)
//	earbench faults -earshot bin/earshot [-n 10000 -k 5] …   crash, restart and replica invariants
//	earbench abuse  -earshot bin/earshot [-strangers 300] …  an outsider's attacks, as a table
//
// Both print their JSON figures and write them under -results. It must
// run as root: PostgreSQL and Dovecot's mail processes run as their own
// users. The `bench`, `faults` and `faults-ci` targets of bench.mk run it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// deployedEnv is what the Dockerfile and deploy/earshot.service add to
// earshot's environment: every earshot process runs with it unless
// -daemon-env says otherwise, so that its memory and CPU are measured as
// deployed.
const deployedEnv = "GOMEMLIMIT=100MiB,GOGC=200"

// deployed is deployedEnv as a list.
func deployed() []string { return strings.Split(deployedEnv, ",") }

// flags are the command line of both subcommands.
type flags struct {
	earshot, dovecot, pgBin, results string
	keep                             bool
	// label names a bench results file that is meant to be committed.
	label     string
	sizes     []int
	daemonEnv []string
	bench     benchOptions
	faults    faultOptions
	abuse     abuseOptions
	ci        bool
}

// parseFlags reads the flags of subcommand cmd.
func parseFlags(cmd string, args []string) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("earbench "+cmd, flag.ContinueOnError)
	fs.StringVar(&f.earshot, "earshot", "bin/earshot", "the earshot `binary` under test")
	fs.StringVar(&f.dovecot, "dovecot", "/usr/sbin/dovecot", "the dovecot `binary`")
	fs.StringVar(&f.pgBin, "pg-bin", "/usr/lib/postgresql/15/bin", "`directory` of initdb and postgres")
	fs.StringVar(&f.results, "results", "bench/results", "`directory` the JSON results go to")
	fs.BoolVar(&f.keep, "keep", false, "keep the run directory (logs, maildirs, database) afterwards")
	sizes := fs.String("n", "", "corpus `sizes`, comma-separated (bench: 2000,10000; faults: one size, 10000)")
	denv := fs.String("daemon-env", deployedEnv, "comma-separated `KEY=VALUE`s added to the environment of every earshot process (empty: none)")
	seed := fs.Uint64("seed", 1, "corpus and kill-point seed")
	items := fs.Int("items", 4, "workers.items of the daemon")
	batch := fs.Int("batch", 20, "workers.batch of the daemon")
	conns := fs.Int("conns", 2, "appending connections per mailbox")
	b := &f.bench
	fs.IntVar(&b.rate, "rate", 10, "bench: idle-latency probe messages per second")
	fs.DurationVar(&b.duration, "duration", time.Minute, "bench: idle-latency probe duration")
	fs.StringVar(&b.profile, "profile", "", "bench: run the profiling build and write CPU, allocation and heap profiles to this `directory` (no latency probe)")
	fs.BoolVar(&b.skipLat, "no-latency", false, "bench: skip the idle-latency probe")
	fs.StringVar(&b.peer, "peer", "n8n", "bench: the peer measured on the same mail, `n8n` or none (faults and abuse have none)")
	fs.StringVar(&b.peerKit, "peer-kit", "../shared/peers/n8n", "bench: `directory` of the n8n kit (n8n-bench.sh, workflow.json, credentials.json)")
	fs.StringVar(&b.peerCache, "peer-cache", defaultPeerCache(), "bench: `directory` the peer is installed into once and reused from")
	fs.BoolVar(&b.pgFloor, "pg-floor", true, "bench: measure PostgreSQL's own rate at storing the same raw mail")
	fs.IntVar(&b.rounds, "rounds", 3, "bench: measure PostgreSQL's floor, the intake alone and the whole pipeline this many times each and report the median (1 under -profile unless given)")
	fs.StringVar(&b.note, "note", "", "bench: a `note` kept in the report (e.g. the machine was busy)")
	fs.StringVar(&f.label, "label", "", "bench: write bench-<time>-`LABEL`.json, a file git keeps (see bench/README.md)")
	fl := &f.faults
	fs.IntVar(&fl.kills, "k", 5, "faults: kill -9 the daemon this many times during ingest")
	fs.DurationVar(&fl.sourceLease, "source-lease", 15*time.Second, "faults: workers.source_lease")
	fs.BoolVar(&f.ci, "ci", false, "faults, abuse: the reduced CI run (faults: -n 600 -k 3 -source-lease 10s; abuse: -strangers 40 -big-mb 10 -slow-for 15s, unless given)")
	ab := &f.abuse
	fs.IntVar(&ab.strangers, "strangers", 300, "abuse: forged senders in the flood")
	fs.IntVar(&ab.bigMB, "big-mb", 50, "abuse: megabytes of the large text-only mail")
	fs.IntVar(&ab.slow.clients, "slow-clients", 300, "abuse: slow clients flooding the dashboard port")
	fs.IntVar(&ab.slow.conns, "slow-conns", 2, "abuse: connections each slow client holds")
	fs.DurationVar(&ab.slow.duration, "slow-for", 30*time.Second, "abuse: how long the slow clients flood")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if f.sizes, err = parseSizes(*sizes); err != nil {
		return nil, err
	}
	if *denv != "" {
		f.daemonEnv = strings.Split(*denv, ",")
	}
	b.conns, b.items, b.batch, b.seed = *conns, *items, *batch, *seed
	fl.conns, fl.items, fl.batch, fl.seed = *conns, *items, *batch, *seed
	if cmd != "bench" {
		b.peer = "none"
	}
	switch cmd {
	case "bench":
		b.sizes = f.sizes
		if len(b.sizes) == 0 {
			b.sizes = []int{2000, 10000}
		}
		if b.profile != "" && !isSet(fs, "peer") {
			b.peer = "none"
		}
		if b.profile != "" && !isSet(fs, "rounds") {
			b.rounds = 1
		}
		if b.rounds < 1 {
			return nil, fmt.Errorf("-rounds %d: want at least 1", b.rounds)
		}
		if b.peer != "n8n" && b.peer != "none" {
			return nil, fmt.Errorf("-peer %q: want n8n or none", b.peer)
		}
		if b.peerKit, err = filepath.Abs(b.peerKit); err != nil {
			return nil, err
		}
		if !validLabel(f.label) {
			return nil, fmt.Errorf("-label %q: want letters, digits and dashes", f.label)
		}
	case "faults":
		fl.n = 10000
		if f.ci {
			fl.n = 600
			if !isSet(fs, "k") {
				fl.kills = 3
			}
			if !isSet(fs, "source-lease") {
				fl.sourceLease = 10 * time.Second
			}
		}
		if len(f.sizes) > 0 {
			fl.n = f.sizes[0]
		}
	case "abuse":
		if f.ci {
			if !isSet(fs, "strangers") {
				ab.strangers = 40
			}
			if !isSet(fs, "big-mb") {
				ab.bigMB = 10
			}
			if !isSet(fs, "slow-for") {
				ab.slow.duration = 15 * time.Second
			}
		}
	}
	return f, nil
}

func run(ctx context.Context, args []string) int {
	if len(args) == 0 || (args[0] != "bench" && args[0] != "faults" && args[0] != "abuse") {
		fmt.Fprintln(os.Stderr, "usage: earbench bench|faults|abuse [flags]  (earbench bench -h)")
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "earbench: must run as root (private PostgreSQL and Dovecot run as their own users)")
		return 2
	}
	f, err := parseFlags(args[0], args[1:])
	if err != nil {
		return 2
	}
	if f.bench.profile != "" {
		if err := os.MkdirAll(f.bench.profile, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "earbench:", err)
			return 1
		}
	}
	env, err := newEnvironment(ctx, f.earshot, f.dovecot, f.pgBin, f.bench.profile != "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "earbench:", err)
		return 1
	}
	env.daemonEnv = f.daemonEnv
	var (
		report  any
		failed  bool
		prefix  = args[0]
		summary func()
	)
	switch args[0] {
	case "bench":
		var br *benchReport
		br, err = runBench(ctx, env, f.bench)
		report = br
		summary = func() { br.printSummary(os.Stdout) }
	case "abuse":
		if f.ci {
			prefix = "abuse-ci"
		}
		var ar *abuseReport
		ar, err = runAbuse(ctx, env, f.abuse)
		report, failed = ar, ar.Failed > 0
		summary = func() { ar.printTable(os.Stdout) }
	default:
		if f.ci {
			prefix = "faults-ci"
		}
		var fr *faultReport
		fr, err = runFaults(ctx, env, f.faults)
		report, failed = fr, fr.Failed > 0
		summary = func() { fr.printSummary(os.Stdout) }
	}
	if (err != nil || failed) && !f.keep {
		env.printLogTails(os.Stderr)
	}
	env.Close(f.keep)
	if f.keep {
		fmt.Fprintln(os.Stderr, "earbench: run directory kept:", env.dir)
	}
	// A run that did not finish is no figure to commit: its partial
	// report goes to an unlabeled file, which bench/results/.gitignore
	// keeps out of the repository.
	label := f.label
	if err != nil && label != "" {
		fmt.Fprintf(os.Stderr, "earbench: the run did not finish: its report is written without the label %q\n", label)
		label = ""
	}
	// The CI run's report goes to its file only; its summary follows.
	if werr := writeReport(f.results, prefix, label, report, !f.ci); werr != nil {
		fmt.Fprintln(os.Stderr, "earbench:", werr)
		err = errors.Join(err, werr)
	}
	if summary != nil {
		summary()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "earbench:", err)
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

// parseSizes reads "2000,10000".
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// validLabel accepts "" and names of letters, digits and dashes.
func validLabel(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return !strings.HasPrefix(s, "-")
}

// writeReport writes the report as JSON to dir/PREFIX-<timestamp>.json,
// or dir/PREFIX-<timestamp>-LABEL.json with a label, and prints it when
// print is set.
func writeReport(dir, prefix, label string, report any, print bool) error {
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if print {
		fmt.Println(string(data))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	name := prefix + "-" + time.Now().UTC().Format("20060102T150405Z")
	if label != "" {
		name += "-" + label
	}
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintln(os.Stderr, "earbench: results written to", path)
	return nil
}
