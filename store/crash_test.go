package store_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

const crashChildEnv = "EARSHOT_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if url := os.Getenv(crashChildEnv); url != "" {
		crashChild(url)
		return
	}
	os.Exit(m.Run())
}

const crashItems = 200

func crashBatch() model.Batch {
	b := model.Batch{Source: "feedback", Cursor: `{"uidvalidity":7,"last_uid":200}`}
	for i := 1; i <= crashItems; i++ {
		b.Items = append(b.Items, raw(i))
	}
	return b
}

// crashChild receives a batch and stops for good between the inserts and
// the commit, so that the parent can kill it there.
func crashChild(url string) {
	ctx := context.Background()
	s, err := store.Open(ctx, url, nil)
	if err != nil {
		panic(err)
	}
	store.SetBeforeCommit(s, func() {
		os.Stdout.WriteString("inserted, not committed\n")
		select {}
	})
	s.Receive(ctx, crashBatch())
	os.Stdout.WriteString("committed\n")
}

// A process killed (SIGKILL) between the inserts and the commit of a
// batch stores nothing; the retry stores everything exactly once.
func TestReceiveCrash(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		s := open(t, url, testenv.NewClock(time.Now()))
		ctx := context.Background()
		if err := s.EnsureSource(ctx, "feedback", "imap"); err != nil {
			t.Fatal(err)
		}

		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+url)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "inserted, not committed" {
			cmd.Process.Kill()
			t.Fatalf("child said %q, %v", line, err)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child did not die by SIGKILL: %v", err)
		}

		counts, err := s.StateCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 0 {
			t.Fatalf("killed before commit, yet items are stored: %v", counts)
		}
		c, _ := s.SourceCursor(ctx, "feedback")
		if string(c) != "{}" {
			t.Fatalf("killed before commit, yet the cursor moved: %s", c)
		}

		res, err := s.Receive(ctx, crashBatch())
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != crashItems {
			t.Fatalf("retry = %+v; want %d inserted", res, crashItems)
		}
		res, err = s.Receive(ctx, crashBatch())
		if err != nil || res.Repeated != crashItems {
			t.Fatalf("second retry = %+v, %v; want all repeated", res, err)
		}
		counts, _ = s.StateCounts(ctx)
		if counts[model.StateReceived] != crashItems {
			t.Fatalf("items = %v; want %d", counts, crashItems)
		}
	})
}
