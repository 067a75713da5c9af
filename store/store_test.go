package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/store"
)

// dialects runs fn once on a fresh SQLite file and once on a fresh
// PostgreSQL schema, so every store case holds on both databases.
func dialects(t *testing.T, fn func(t *testing.T, s *store.Store, clk *testenv.Clock)) {
	t.Helper()
	databases(t, func(t *testing.T, url string) {
		clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		s := open(t, url, clk)
		fn(t, s, clk)
	})
}

// databases runs fn once with the URL of a fresh SQLite file and once
// with that of a fresh PostgreSQL schema, for cases that open the
// database themselves (twice, as two replicas, or in a child process).
func databases(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			url := "sqlite:" + filepath.Join(t.TempDir(), "earshot.db")
			if d == "postgres" {
				url = testenv.Postgres(t)
			}
			fn(t, url)
		})
	}
}

func open(t testing.TB, url string, clk *testenv.Clock) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, url, &store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// awaitBlocked waits until another connection waits for a lock that tx
// holds, and fails if done reports first: that side did not wait.
func awaitBlocked(t *testing.T, s *store.Store, tx *sqlx.Tx, done <-chan error) {
	t.Helper()
	ctx := context.Background()
	var pid int
	if err := tx.GetContext(ctx, &pid, `select pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	for blocked := 0; blocked == 0; {
		select {
		case err := <-done:
			t.Fatalf("returned %v without waiting for the transaction's locks", err)
		case <-time.After(10 * time.Millisecond):
		}
		if err := s.DB().GetContext(ctx, &blocked, `select count(*) from pg_stat_activity
			where $1 = any(pg_blocking_pids(pid))`, pid); err != nil {
			t.Fatal(err)
		}
	}
}
