package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
)

// TestCloseStopsStatementsPreparedAside: a statement first used in a
// transaction is prepared aside, on a connection of its own, and its
// parse locks the tables it names. Close stops it and waits for it, so
// that nothing of the store's still works on the database afterwards (a
// test's drop of its schema once deadlocked with such a parse).
func TestCloseStopsStatementsPreparedAside(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := context.Background()
	s, err := Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Another session holds search_queue: preparing a statement on it waits.
	other, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, `lock table search_queue in access exclusive mode`); err != nil {
		t.Fatal(err)
	}
	waiting := func() int {
		t.Helper()
		var n int
		if err := lock.QueryRowContext(ctx, `select count(*) from pg_locks
			where not granted and relation = 'search_queue'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.hot.in(ctx, tx, `select count(*) from search_queue`)
	if err != nil || st != nil {
		t.Fatalf("first use in a transaction = %v, %v; want no statement yet, prepared aside", st, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); waiting() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the statement prepared aside never waited for the lock")
		}
	}

	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		closed = true
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return while a statement was being prepared aside")
	}
	if n := waiting(); n != 0 {
		t.Fatalf("after Close, %d of the store's statements still wait on the database", n)
	}
	s.hot.mu.Lock()
	defer s.hot.mu.Unlock()
	if len(s.hot.stmts) != 0 {
		t.Errorf("after Close, %d prepared statements are kept", len(s.hot.stmts))
	}
}
