package imap

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// Environment of the child process that the crash test starts and kills.
const (
	envChild     = "EARSHOT_IMAP_CRASH_CHILD" // "1" in the child
	envChildDB   = "EARSHOT_IMAP_CRASH_DB"
	envChildAddr = "EARSHOT_IMAP_CRASH_ADDR"
	envChildMode = "EARSHOT_IMAP_CRASH_AFTER_INGEST"
	envChildUser = "EARSHOT_IMAP_CRASH_USER"
	envChildPass = "EARSHOT_IMAP_CRASH_PASSWORD"
	envChildHang = "EARSHOT_IMAP_CRASH_HANG_AFTER" // commits before hanging; 0 never
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// hangingSink is the real store, except that after a number of commits it
// reports "hang" on stdout and blocks: the parent kills the process between
// a commit and the after_ingest step of that batch.
type hangingSink struct {
	*store.Store
	after, commits int
}

func (h *hangingSink) Receive(ctx context.Context, b model.Batch) (model.ReceiveResult, error) {
	res, err := h.Store.Receive(ctx, b)
	if err == nil && len(b.Items) > 0 {
		h.commits++
		if h.commits == h.after {
			fmt.Println("hang")
			select {}
		}
	}
	return res, err
}

// crashChild ingests the folder once, as configured by the environment.
func crashChild() int {
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv(envChildDB), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	hang, _ := strconv.Atoi(os.Getenv(envChildHang))
	addr := os.Getenv(envChildAddr)
	host, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	user := os.Getenv(envChildUser)
	cfg := Config{Host: host, Port: p, TLS: TLSNone, Username: user, Password: os.Getenv(envChildPass),
		BatchSize: 10, AfterIngest: os.Getenv(envChildMode)}
	if cfg.AfterIngest == AfterMove {
		cfg.MoveTo = "Earshot"
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := New("feedback", user, cfg, &hangingSink{Store: st, after: hang}, &Options{Options: source.Options{Logger: log}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	res, err := s.SyncOnce(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("done %d\n", res.Fetched)
	return 0
}

// startChild runs the test binary as a crash child.
func startChild(t *testing.T, dbURL, addr, mode, user, pass string, hangAfter int) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1", envChildDB+"="+dbURL, envChildAddr+"="+addr,
		envChildMode+"="+mode, envChildUser+"="+user, envChildPass+"="+pass, envChildHang+"="+strconv.Itoa(hangAfter))
	cmd.Stderr = t.Output()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, bufio.NewScanner(out)
}

// crashDB returns a store URL shared with the child: PostgreSQL when the
// shared server is configured, else a SQLite file.
func crashDB(t *testing.T) (string, *store.Store) {
	if os.Getenv(testenv.EnvPostgres) != "" {
		url := testenv.Postgres(t)
		return url, openStore(t, url)
	}
	url := "sqlite:" + filepath.Join(t.TempDir(), "crash.db")
	return url, openStore(t, url)
}

// A process killed between a commit and the after_ingest step, and
// restarted, stores every message exactly once and finishes the step.
func TestCrashRestart(t *testing.T) {
	t.Parallel()
	d := testenv.Dovecot(t)
	for _, tc := range []struct{ mode, user string }{
		{AfterKeep, feedbackUser},
		{AfterMove, intelUser},
	} {
		t.Run(tc.mode, func(t *testing.T) { crashAndRestart(t, d, tc.mode, tc.user) })
	}
}

func crashAndRestart(t *testing.T, d *testenv.DovecotServer, mode, user string) {
	const total, hangAfter = 300, 7 // hang after 7 batches of 10
	pw := d.Password(user)
	start := time.Now()
	uids := appendMany(t, d.Addr, user, pw, "INBOX", dovecotMessages(0, total))
	t.Logf("appended %d messages in %s", total, time.Since(start).Round(time.Millisecond))
	dbURL, st := crashDB(t)

	cmd, out := startChild(t, dbURL, d.Addr, mode, user, pw, hangAfter)
	if !out.Scan() || out.Text() != "hang" {
		t.Fatalf("child said %q (%v), want hang", out.Text(), out.Err())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if n := countItems(t, st); n != hangAfter*10 {
		t.Fatalf("%d items stored before the kill, want %d", n, hangAfter*10)
	}
	if mode == AfterMove {
		// The last committed batch was never moved.
		if inbox := inspect(t, d.Addr, user, pw, "INBOX"); len(inbox.uids) != total-(hangAfter-1)*10 {
			t.Fatalf("INBOX has %d messages after the kill, want %d", len(inbox.uids), total-(hangAfter-1)*10)
		}
	}

	start = time.Now()
	cmd, out = startChild(t, dbURL, d.Addr, mode, user, pw, 0)
	for out.Scan() {
		t.Logf("child: %s", out.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("restarted child: %v", err)
	}
	t.Logf("restarted child finished in %s", time.Since(start).Round(time.Millisecond))
	if n := countItems(t, st); n != total {
		t.Fatalf("%d items, want %d", n, total)
	}
	if n := countReceipts(t, st, "feedback"); n != total {
		t.Fatalf("%d receipts, want %d", n, total)
	}
	if c := storedCursor(t, st, "feedback"); c.LastUID != uids[total-1] {
		t.Fatalf("cursor %+v, want last uid %d", c, uids[total-1])
	}
	if mode == AfterMove {
		if inbox := inspect(t, d.Addr, user, pw, "INBOX"); len(inbox.uids) != 0 {
			t.Fatalf("INBOX keeps %d messages", len(inbox.uids))
		}
		if done := inspect(t, d.Addr, user, pw, "Earshot"); len(done.uids) != total {
			t.Fatalf("Earshot has %d messages, want %d", len(done.uids), total)
		}
	}
}
