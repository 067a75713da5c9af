package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/store"
)

// dialects runs fn once on a fresh SQLite file and once on a fresh
// PostgreSQL schema, so every store case holds on both databases.
func dialects(t *testing.T, fn func(t *testing.T, s *store.Store, clk *testenv.Clock)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			var url string
			if d == "sqlite" {
				url = "sqlite:" + filepath.Join(t.TempDir(), "earshot.db")
			} else {
				url = testenv.Postgres(t)
			}
			clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			s := open(t, url, clk)
			fn(t, s, clk)
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
