package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// dialects runs fn once on a fresh SQLite file and once on a fresh
// PostgreSQL schema, so every store case holds on both databases.
func dialects(t *testing.T, fn func(t *testing.T, s *store.Store, clk *clock)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			var url string
			if d == "sqlite" {
				url = "sqlite:" + filepath.Join(t.TempDir(), "earshot.db")
			} else {
				url = testenv.Postgres(t)
			}
			clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			s := open(t, url, clk)
			fn(t, s, clk)
		})
	}
}

func open(t testing.TB, url string, clk *clock) *store.Store {
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
