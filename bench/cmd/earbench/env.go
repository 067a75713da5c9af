package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// environment is what every scenario shares: a private run directory,
// the binaries, and a private PostgreSQL server.
type environment struct {
	dir        string
	earshot    string // the earshot binary under test
	dovecotBin string
	pgBin      string
	pg         *postgres
	// daemonEnv is added to the environment of every earshot process
	// (e.g. GOMEMLIMIT=100MiB for an experiment).
	daemonEnv []string
}

// newEnvironment creates the run directory (traversable by the servers'
// unprivileged users) and starts PostgreSQL in it, with
// pg_stat_statements when pgStats is set.
func newEnvironment(ctx context.Context, earshot, dovecotBin, pgBin string, pgStats bool) (*environment, error) {
	dir, err := os.MkdirTemp("", "earbench-")
	if err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("run dir: %w", err)
	}
	env := &environment{dir: dir, earshot: earshot, dovecotBin: dovecotBin, pgBin: pgBin}
	if env.pg, err = startPostgres(ctx, pgBin, filepath.Join(dir, "pg"), pgStats); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return env, nil
}

// Close stops PostgreSQL and removes the run directory unless keep is set.
func (e *environment) Close(keep bool) {
	if e.pg != nil {
		e.pg.Stop()
	}
	if !keep {
		os.RemoveAll(e.dir)
	}
}

// prepareDaemon creates the configuration of one replica on database
// dbName, migrates the database, imports the corpus's roster, and starts
// `earshot run`. With profile set it runs the profiling build instead,
// writing CPU and allocation profiles into that directory on exit and
// serving net/http/pprof on a free loopback port (an intake-only
// replica's profiles are prefixed "ingest-"). It
// returns the daemon and an observer of its database.
func (e *environment) prepareDaemon(ctx context.Context, dir, name, dbName, imapAddr, smtpAddr string,
	c *corpus, s settings, profile string, n int) (*daemon, *observer, error) {
	s.Database = e.pg.URL(dbName)
	s.IMAPAddr, s.SMTPAddr = imapAddr, smtpAddr
	cfg, err := writeConfig(dir, name, s)
	if err != nil {
		return nil, nil, err
	}
	log := filepath.Join(dir, name+".log")
	if err := earshotCmd(ctx, e.earshot, cfg, log, "migrate", "up"); err != nil {
		return nil, nil, err
	}
	roster, err := c.rosterCSV()
	if err != nil {
		return nil, nil, err
	}
	rosterPath := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(rosterPath, roster, 0o644); err != nil {
		return nil, nil, err
	}
	if err := earshotCmd(ctx, e.earshot, cfg, log, "reps", "import", rosterPath); err != nil {
		return nil, nil, err
	}
	obs, err := openObserver(ctx, s.Database)
	if err != nil {
		return nil, nil, err
	}
	if e.pg.stats {
		// Count only the daemon's own statements.
		if _, err := obs.db.ExecContext(ctx, `create extension if not exists pg_stat_statements`); err != nil {
			return nil, nil, fmt.Errorf("pg_stat_statements: %w", err)
		}
		if _, err := obs.db.ExecContext(ctx, `select pg_stat_statements_reset()`); err != nil {
			return nil, nil, fmt.Errorf("pg_stat_statements: %w", err)
		}
	}
	bin, env, pprofAddr := e.earshot, append([]string(nil), e.daemonEnv...), ""
	if profile != "" {
		port, err := freePort()
		if err != nil {
			obs.Close()
			return nil, nil, err
		}
		pprofAddr = fmt.Sprintf("127.0.0.1:%d", port)
		bin = filepath.Join(filepath.Dir(e.earshot), "earshot-pprof")
		prefix := ""
		if s.IntakeOnly {
			prefix = "ingest-"
		}
		env = append(env,
			"EARSHOT_CPUPROFILE="+filepath.Join(profile, fmt.Sprintf("%scpu-%d.pprof", prefix, n)),
			"EARSHOT_MEMPROFILE="+filepath.Join(profile, fmt.Sprintf("%sallocs-%d.pprof", prefix, n)),
			"EARSHOT_PPROF_ADDR="+pprofAddr)
	}
	d, err := startDaemon(bin, cfg, log, s.IntakeOnly, env...)
	if err != nil {
		obs.Close()
		return nil, nil, err
	}
	d.pprofAddr = pprofAddr
	return d, obs, nil
}

// hostInfo describes the machine a run was measured on.
type hostInfo struct {
	CPUs int    `json:"cpus"`
	Go   string `json:"go"`
	OS   string `json:"os"`
}

func host() hostInfo {
	return hostInfo{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// printLogTails writes the last lines of every daemon log of the run, so
// that a failed run explains itself even though its directory is removed.
func (e *environment) printLogTails(w io.Writer) {
	logs, _ := filepath.Glob(filepath.Join(e.dir, "*", "*.log"))
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Fprintf(w, "--- last lines of %s ---\n%s\n", path, strings.Join(lines, "\n"))
	}
}
