package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

// postgres is a private PostgreSQL server: its own data directory and
// loopback port, run as the postgres user, configured like the shared
// test server (no fsync: a test machine, not a durability test).
type postgres struct {
	Port int
	bin  string // directory of initdb and postgres
	dir  string
	cred *syscall.Credential
	p    *proc
	// stats preloads pg_stat_statements (profiling runs).
	stats bool
}

// startPostgres initialises a cluster under dir and starts it.
func startPostgres(ctx context.Context, bin, dir string, stats bool) (*postgres, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres: look up user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pg := &postgres{Port: port, bin: bin, dir: dir, cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, stats: stats}
	for _, sub := range []string{"", "data", "run"} {
		path := filepath.Join(dir, sub)
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if err := os.Chown(path, uid, gid); err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "-N")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("postgres: initdb: %w\n%s", err, out)
	}
	return pg, pg.Start(ctx)
}

// Start runs the server and waits until it accepts connections.
func (pg *postgres) Start(ctx context.Context) error {
	args := []string{"-D", filepath.Join(pg.dir, "data"), "-k", filepath.Join(pg.dir, "run"), "-p", strconv.Itoa(pg.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200"}
	if pg.stats {
		args = append(args, "-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all")
	}
	cmd := exec.Command(filepath.Join(pg.bin, "postgres"), args...)
	cmd.Dir = pg.dir
	p, err := startProc(cmd, filepath.Join(pg.dir, "run", "postgres.log"), pg.cred)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	pg.p = p
	err = waitFor(p, 60*time.Second, func() error {
		db, err := sql.Open("postgres", pg.URL("postgres"))
		if err != nil {
			return err
		}
		defer db.Close()
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return db.PingContext(cctx)
	})
	if err != nil {
		pg.Stop()
		return fmt.Errorf("postgres on port %d: %w", pg.Port, err)
	}
	return nil
}

// Stop shuts the server down fast (clients are disconnected, the data
// is consistent) and waits for it.
func (pg *postgres) Stop() {
	if pg.p != nil {
		pg.p.Stop(syscall.SIGINT, 30*time.Second)
	}
}

// URL is the lib/pq URL of a database on this server.
func (pg *postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.Port, db)
}

// CreateDB creates a fresh database, dropping an old one of that name.
func (pg *postgres) CreateDB(ctx context.Context, name string) error {
	if err := pg.DropDB(ctx, name); err != nil {
		return err
	}
	return pg.exec(ctx, "create database "+name)
}

// DropDB drops a database, disconnecting its clients.
func (pg *postgres) DropDB(ctx context.Context, name string) error {
	return pg.exec(ctx, "drop database if exists "+name+" with (force)")
}

// Checkpoint writes every dirty buffer out, so that a measured phase
// does not pay for what an earlier one left.
func (pg *postgres) Checkpoint(ctx context.Context) error {
	return pg.exec(ctx, "checkpoint")
}

// exec runs one statement on the server's postgres database.
func (pg *postgres) exec(ctx context.Context, q string) error {
	db, err := sql.Open("postgres", pg.URL("postgres"))
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("postgres: %s: %w", q, err)
	}
	return nil
}
