package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/model"
)

// Source is the stored state of one configured mailbox or Twilio account;
// its times are zero until they happen.
type Source struct {
	ID             int64
	Name           string
	Kind           string
	Cursor         string
	LeaseHolder    string
	LeaseUntil     time.Time
	LastSuccessAt  time.Time
	LastError      string
	LastErrorAt    time.Time
	DisabledReason string
	// Items counts what the source received.
	Items int64
}

// sourceRow is a sources row as the database holds it.
type sourceRow struct {
	ID             int64        `db:"id"`
	Name           string       `db:"name"`
	Kind           string       `db:"kind"`
	Cursor         string       `db:"cursor"`
	LeaseHolder    string       `db:"lease_holder"`
	LeaseUntil     sql.NullTime `db:"lease_until"`
	LastSuccessAt  sql.NullTime `db:"last_success_at"`
	LastError      string       `db:"last_error"`
	LastErrorAt    sql.NullTime `db:"last_error_at"`
	DisabledReason string       `db:"disabled_reason"`
	Items          int64        `db:"items"`
}

func (r sourceRow) source() Source {
	return Source{ID: r.ID, Name: r.Name, Kind: r.Kind, Cursor: r.Cursor, LeaseHolder: r.LeaseHolder,
		LeaseUntil: r.LeaseUntil.Time, LastSuccessAt: r.LastSuccessAt.Time, LastError: r.LastError,
		LastErrorAt: r.LastErrorAt.Time, DisabledReason: r.DisabledReason, Items: r.Items}
}

const sourceCols = `s.id, s.name, s.kind, s.cursor, s.lease_holder, s.lease_until, s.last_success_at,
	s.last_error, s.last_error_at, s.disabled_reason`

// EnsureSource creates the source row if it does not exist yet.
func (s *Store) EnsureSource(ctx context.Context, name, kind string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(
		`insert into sources (name, kind) values (?, ?) on conflict (name) do nothing`), name, kind)
	if err != nil {
		return fmt.Errorf("ensure source %s: %w", name, err)
	}
	return nil
}

// Source returns one source by name.
func (s *Store) Source(ctx context.Context, name string) (Source, error) {
	var src sourceRow
	err := s.db.GetContext(ctx, &src, s.rebind(`select `+sourceCols+`,
		(select count(*) from receipts r where r.source_id = s.id) as items
		from sources s where s.name = ?`), name)
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, fmt.Errorf("source %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Source{}, fmt.Errorf("source %s: %w", name, err)
	}
	return src.source(), nil
}

// Sources lists every source with how many items it received.
func (s *Store) Sources(ctx context.Context) ([]Source, error) {
	var rows []sourceRow
	err := s.db.SelectContext(ctx, &rows, `select `+sourceCols+`,
		(select count(*) from receipts r where r.source_id = s.id) as items
		from sources s order by s.name`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out := make([]Source, len(rows))
	for i, r := range rows {
		out[i] = r.source()
	}
	return out, nil
}

// SourceCursor returns the stored cursor of a source ("{}" when new).
func (s *Store) SourceCursor(ctx context.Context, name string) (json.RawMessage, error) {
	var c string
	err := s.db.GetContext(ctx, &c, s.rebind(`select cursor from sources where name = ?`), name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("source %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("source %s cursor: %w", name, err)
	}
	return json.RawMessage(c), nil
}

// RecordSourceError stores the last error of a source; a non-empty
// disabled reason marks the source disabled until it succeeds again.
func (s *Store) RecordSourceError(ctx context.Context, name, msg, disabledReason string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`update sources set last_error = ?, last_error_at = ?,
		disabled_reason = ? where name = ?`), cleanText(msg), ts(s.now()), cleanText(disabledReason), name)
	if err != nil {
		return fmt.Errorf("source %s: record error: %w", name, err)
	}
	return nil
}

// RecordSourceSuccess marks a successful poll and clears a disabled reason.
func (s *Store) RecordSourceSuccess(ctx context.Context, name string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`update sources set last_success_at = ?,
		disabled_reason = '' where name = ?`), ts(s.now()), name)
	if err != nil {
		return fmt.Errorf("source %s: record success: %w", name, err)
	}
	return nil
}

// AcquireLease makes holder the owner of the source for ttl if the source
// is free, its lease expired, or holder already owns it. It reports
// whether holder owns the lease afterwards. Renewing is acquiring again.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := ts(s.now())
	res, err := s.db.ExecContext(ctx, s.rebind(`update sources set lease_holder = ?, lease_until = ?
		where name = ? and (lease_holder = '' or lease_holder = ? or lease_until is null or lease_until < ?)`),
		holder, now.Add(ttl), name, holder, now)
	if err != nil {
		return false, fmt.Errorf("source %s: acquire lease: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("source %s: acquire lease: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease gives up holder's lease so another replica can take the
// source at once.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`update sources set lease_holder = '', lease_until = null
		where name = ? and lease_holder = ?`), name, holder)
	if err != nil {
		return fmt.Errorf("source %s: release lease: %w", name, err)
	}
	return nil
}

// holdsLease checks inside tx that holder still owns the source. An empty
// holder skips the check (single-process tools).
func (s *Store) holdsLease(ctx context.Context, tx *sqlx.Tx, name, holder string) (int64, error) {
	var row struct {
		ID     int64        `db:"id"`
		Holder string       `db:"lease_holder"`
		Until  sql.NullTime `db:"lease_until"`
	}
	q := `select id, lease_holder, lease_until from sources where name = ?`
	if s.dialect == Postgres {
		q += ` for update`
	}
	err := tx.GetContext(ctx, &row, s.rebind(q), name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("source %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("source %s: %w", name, err)
	}
	if holder == "" {
		return row.ID, nil
	}
	if row.Holder != holder || !row.Until.Valid || row.Until.Time.Before(s.now()) {
		return 0, fmt.Errorf("source %s: %w", name, ErrLeaseLost)
	}
	return row.ID, nil
}

// Errors the store returns (model's, named here for its callers).
var (
	ErrNotFound  = model.ErrNotFound
	ErrLeaseLost = model.ErrLeaseLost
)

// LastReceived returns, per source name, when the newest item it received
// was received (the message's time for IMAP and Slack, the recording's
// for Twilio); sources that received nothing are left out.
func (s *Store) LastReceived(ctx context.Context) (map[string]time.Time, error) {
	var rows []struct {
		Name string    `db:"name"`
		At   time.Time `db:"received_at"`
	}
	err := s.db.SelectContext(ctx, &rows, `select s.name, r.received_at from sources s
		join receipts r on r.source_id = s.id
		where r.received_at = (select max(r2.received_at) from receipts r2 where r2.source_id = s.id)`)
	if err != nil {
		return nil, fmt.Errorf("sources' last items: %w", err)
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.Name] = r.At
	}
	return out, nil
}
