package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// prepared runs the hot statements (those of every item and every
// outbox message) as prepared statements: each is parsed and planned
// once per connection instead of at every call. Statements are prepared
// on first use and kept for the store's life; their text must not
// depend on the arguments' number.
type prepared struct {
	s     *Store
	mu    sync.Mutex
	stmts map[string]*sqlx.Stmt
	// preparing are the statements being prepared aside, by goroutines
	// that aside counts and that stop cancels. Once closed, none starts.
	preparing map[string]bool
	aside     sync.WaitGroup
	stop      context.CancelFunc
	stopCtx   context.Context
	closed    bool
}

// stmt returns the prepared statement of q (with ? placeholders).
func (p *prepared) stmt(ctx context.Context, q string) (*sqlx.Stmt, error) {
	p.mu.Lock()
	st, ok := p.stmts[q]
	p.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := p.s.db.PreparexContext(ctx, p.s.rebind(q))
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = st.Close()
		return nil, errors.New("store: closed")
	}
	if prev, ok := p.stmts[q]; ok {
		_ = st.Close()
		return prev, nil
	}
	if p.stmts == nil {
		p.stmts = map[string]*sqlx.Stmt{}
	}
	p.stmts[q] = st
	return st, nil
}

// in returns q's prepared statement for use in tx, or on the database
// when tx is nil. In a transaction it is nil while q was never prepared:
// preparing takes a connection of the pool, which a transaction must not
// wait for (SQLite has one), so q is prepared aside for the next time and
// runs unprepared in tx this time.
func (p *prepared) in(ctx context.Context, tx *sqlx.Tx, q string) (*sqlx.Stmt, error) {
	if tx == nil {
		return p.stmt(ctx, q)
	}
	p.mu.Lock()
	st, ok := p.stmts[q]
	start := !ok && !p.preparing[q] && !p.closed
	if start {
		if p.preparing == nil {
			p.preparing = map[string]bool{}
		}
		if p.stop == nil {
			p.stopCtx, p.stop = context.WithCancel(context.Background())
		}
		p.preparing[q] = true
		p.aside.Add(1)
	}
	base := p.stopCtx
	p.mu.Unlock()
	if ok {
		return tx.StmtxContext(ctx, st), nil
	}
	if start {
		go func() {
			defer p.aside.Done()
			pctx, cancel := context.WithTimeout(base, time.Minute)
			defer cancel()
			_, _ = p.stmt(pctx, q)
			p.mu.Lock()
			delete(p.preparing, q)
			p.mu.Unlock()
		}()
	}
	return nil, nil
}

// Get runs q (with ? placeholders) in tx or on the database, into dest.
func (p *prepared) Get(ctx context.Context, tx *sqlx.Tx, dest any, q string, args ...any) error {
	st, err := p.in(ctx, tx, q)
	if err != nil {
		return err
	}
	if st == nil {
		return tx.GetContext(ctx, dest, p.s.rebind(q), args...)
	}
	return st.GetContext(ctx, dest, args...)
}

// Select runs q in tx or on the database, into the slice dest.
func (p *prepared) Select(ctx context.Context, tx *sqlx.Tx, dest any, q string, args ...any) error {
	st, err := p.in(ctx, tx, q)
	if err != nil {
		return err
	}
	if st == nil {
		return tx.SelectContext(ctx, dest, p.s.rebind(q), args...)
	}
	return st.SelectContext(ctx, dest, args...)
}

// Exec runs q in tx or on the database.
func (p *prepared) Exec(ctx context.Context, tx *sqlx.Tx, q string, args ...any) (sql.Result, error) {
	st, err := p.in(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return tx.ExecContext(ctx, p.s.rebind(q), args...)
	}
	return st.ExecContext(ctx, args...)
}

// close closes the prepared statements, once those being prepared aside
// are done: a statement still being parsed holds locks on its tables
// after the store is closed (and a test's drop of its schema, waiting for
// them, deadlocked with it).
func (p *prepared) close() {
	p.mu.Lock()
	p.closed = true
	if p.stop != nil {
		p.stop()
	}
	p.mu.Unlock()
	p.aside.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.stmts {
		_ = st.Close()
	}
	p.stmts = nil
}

// selectIDs runs q, whose first argument is a list of ids written
// "in (?)", in tx or on the database when tx is nil: on PostgreSQL with
// the ids as one array (= any), on SQLite with the list expanded. It is
// not prepared: a generic plan, which knows neither the ids nor the other
// arguments, can read a whole month's ledger where the plan made for
// them reads the batch's rows.
func (s *Store) selectIDs(ctx context.Context, tx *sqlx.Tx, dest any, q string, ids []int64, args ...any) error {
	q, all, err := s.idsQuery(q, ids, args)
	if err != nil {
		return err
	}
	if tx != nil {
		return tx.SelectContext(ctx, dest, q, all...)
	}
	return s.db.SelectContext(ctx, dest, q, all...)
}

// execIDs is selectIDs for a statement that returns no rows, in tx.
func (s *Store) execIDs(ctx context.Context, tx *sqlx.Tx, q string, ids []int64, args ...any) error {
	q, all, err := s.idsQuery(q, ids, args)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, q, all...)
	return err
}

// idsQuery is q of selectIDs and its arguments, as the dialect runs them.
func (s *Store) idsQuery(q string, ids []int64, args []any) (string, []any, error) {
	return s.listQuery(q, ids, "bigint", args)
}

// listQuery is q, whose first argument is a list written "in (?)", and
// its arguments, as the dialect runs them: on PostgreSQL the list goes as
// one array of the SQL type elem (= any), on SQLite it is expanded.
func (s *Store) listQuery(q string, list any, elem string, args []any) (string, []any, error) {
	if s.dialect == Postgres {
		q = strings.Replace(q, " in (?)", " = any(?::"+elem+"[])", 1)
		return s.rebind(q), append([]any{pq.Array(list)}, args...), nil
	}
	q, all, err := sqlx.In(q, append([]any{list}, args...)...)
	return s.rebind(q), all, err
}
