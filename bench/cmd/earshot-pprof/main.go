// Command earshot-pprof is `earshot run` with profiling, for the
// benchmarks only: it wires the daemon exactly as the earshot command does
// and writes a CPU profile (EARSHOT_CPUPROFILE) and an allocation profile
// (EARSHOT_MEMPROFILE) when it shuts down on SIGINT or SIGTERM. With
// EARSHOT_PPROF_ADDR set (a loopback host:port) it also serves
// net/http/pprof there.
//
//	EARSHOT_CPUPROFILE=cpu.pprof earshot-pprof -c earshot.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "earshot-pprof:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "run" {
		args = args[1:] // accept the same command line as `earshot run`
	}
	fs := flag.NewFlagSet("earshot-pprof", flag.ContinueOnError)
	path := fs.String("c", "earshot.yaml", "config `file`")
	intakeOnly := fs.Bool("intake-only", false, "run the sources only, as `earshot run -intake-only`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cpu := os.Getenv("EARSHOT_CPUPROFILE"); cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if mem := os.Getenv("EARSHOT_MEMPROFILE"); mem != "" {
		defer writeAllocs(mem)
	}
	if addr := os.Getenv("EARSHOT_PPROF_ADDR"); addr != "" {
		if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
			return fmt.Errorf("EARSHOT_PPROF_ADDR must be a loopback host:port, got %q", addr)
		}
		srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second}
		go srv.ListenAndServe()
		defer srv.Close()
	}
	c, err := config.Load(*path)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	octx, cancel := context.WithTimeout(ctx, 6*time.Second)
	s, err := store.Open(octx, c.Database.Value(), &store.Options{ConnectTimeout: 5 * time.Second})
	cancel()
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	d, err := pipeline.New(c, s, log, &pipeline.Options{IntakeOnly: *intakeOnly})
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// writeAllocs writes the allocation profile (every allocation since the
// start, by bytes and count) after a last GC.
func writeAllocs(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "earshot-pprof: alloc profile:", err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "earshot-pprof: alloc profile:", err)
	}
}
