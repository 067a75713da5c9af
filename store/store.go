// Package store keeps every SQL statement of Earshot. It runs the same
// operations on PostgreSQL (lib/pq) and on an embedded SQLite file
// (modernc.org/sqlite, pure Go), chosen by the database URL.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // PostgreSQL driver "postgres"
	_ "modernc.org/sqlite" // SQLite driver "sqlite"

	"github.com/earshot-dev/earshot/internal/backoff"
)

// Dialect names the SQL database behind a Store.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store is the database of Earshot. It is safe for concurrent use.
type Store struct {
	db      *sqlx.DB
	dialect Dialect
	now     func() time.Time
	backoff func(attempts int) time.Duration
	// hot runs the statements of every item as prepared statements.
	hot *prepared
	// originals are raw messages that notices this store enqueued attach.
	originals *originals
	// minutesPurged and quartersPurged are the ack tallies' oldest
	// buckets kept, as this store last deleted the older ones (tallyAcks).
	minutesPurged, quartersPurged atomic.Int64

	// beforeCommit, when set by a test, runs in Receive after the inserts
	// and before the commit.
	beforeCommit func()
}

// Options tunes Open. A nil *Options means the defaults.
type Options struct {
	// Now is the clock; time.Now when nil. Tests set it to control time.
	Now func() time.Time
	// Backoff is how long a failed item or outbox message waits after
	// attempts tries; by default 15–30 s after the first, doubling to
	// 30–60 min.
	Backoff func(attempts int) time.Duration
	// ConnectTimeout bounds the first connection; 10 s when zero.
	ConnectTimeout time.Duration
	// Logger receives what opening changed (an SQLite file's mode made
	// private); slog.Default() when nil.
	Logger *slog.Logger
}

// ErrBadURL reports a database URL that names no supported database.
var ErrBadURL = errors.New("database url must start with postgres://, postgresql:// or sqlite:")

// Open connects to the database named by rawURL: "postgres://…" or
// "postgresql://…" for PostgreSQL, "sqlite:PATH" for an embedded file.
// It fails within the connect timeout when the database is unreachable.
func Open(ctx context.Context, rawURL string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Backoff == nil {
		o.Backoff = func(attempts int) time.Duration {
			return backoff.Delay(attempts-1, 30*time.Second, time.Hour)
		}
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	dialect, dsn, err := parseURL(rawURL, o.ConnectTimeout)
	if err != nil {
		return nil, err
	}
	if dialect == SQLite {
		if err := secureSQLiteFiles(sqlitePath(rawURL), o.Logger); err != nil {
			return nil, err
		}
	}
	db, err := sqlx.Open(string(dialect), dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		// One connection: SQLite has a single writer, and one connection
		// serialises the store's transactions without SQLITE_BUSY retries.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, cleanErr(err, pctx))
	}
	s := &Store{db: db, dialect: dialect, now: o.Now, backoff: o.Backoff, originals: newOriginals(originalsBudget)}
	s.hot = &prepared{s: s}
	return s, nil
}

func cleanErr(err error, ctx context.Context) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no answer within the connect timeout: %w", err)
	}
	return err
}

// parseURL turns the configured URL into a driver name and DSN.
func parseURL(raw string, timeout time.Duration) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", fmt.Errorf("database url: %w", err)
		}
		if u.Host == "" {
			return "", "", fmt.Errorf("database url: no host in %q", redact(raw))
		}
		q := u.Query()
		if q.Get("connect_timeout") == "" {
			q.Set("connect_timeout", fmt.Sprint(int(timeout.Seconds())))
		}
		// Binary parameters send bytea as raw bytes instead of hex text,
		// which matters for the raw message column, and the store's text
		// arrays in the binary array format (textArray), which the server
		// would read as a malformed literal in text mode.
		switch q.Get("binary_parameters") {
		case "", "yes":
			q.Set("binary_parameters", "yes")
		default:
			return "", "", fmt.Errorf("database url: binary_parameters=%s: the store needs binary parameters; leave it out",
				q.Get("binary_parameters"))
		}
		u.RawQuery = q.Encode()
		return Postgres, u.String(), nil
	case strings.HasPrefix(raw, "sqlite:"):
		path := sqlitePath(raw)
		if path == "" {
			return "", "", fmt.Errorf("database url: sqlite: needs a file path, e.g. sqlite:earshot.db")
		}
		dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		return SQLite, dsn, nil
	}
	return "", "", fmt.Errorf("%w (got %q)", ErrBadURL, redact(raw))
}

// sqlitePath is the file of a "sqlite:PATH" URL, without a query.
func sqlitePath(raw string) string {
	path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

// redact hides a password in a URL for error messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if len(raw) > 60 {
			return raw[:60] + "…"
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.String()
}

// Redact returns the database URL with any password replaced by ***.
func Redact(rawURL string) string { return redact(rawURL) }

// Dialect reports which database the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the handle for tests and benchmarks in this module.
func (s *Store) DB() *sqlx.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *Store) Close() error {
	s.hot.close()
	return s.db.Close()
}

// rebind turns ? placeholders into the dialect's.
func (s *Store) rebind(q string) string { return s.db.Rebind(q) }

// ts normalises a time for the database: UTC, so that SQLite's text times
// compare in order.
func ts(t time.Time) time.Time { return t.UTC() }

// inTx runs fn in a transaction and commits it, or rolls it back on error.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
