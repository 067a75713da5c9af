package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/earshot-dev/earshot/model"
)

// The work queue of items: workers claim due items in batches under a
// lease, and a failed attempt makes the item due again after a backoff,
// or quarantines it.

// InlineRaw is the largest raw item Claim returns with its bytes; a
// larger one has a nil Raw and is read with ReadRaw.
const InlineRaw = 1 << 20

// rawChunk is how much of a raw item the first ReadRaw query reads; each
// next query reads twice as much as the one before, up to maxRawChunk.
const (
	rawChunk    = 1 << 20
	maxRawChunk = 4 << 20
)

// ReadRaw returns an item's raw bytes, read in chunks, so that a 25 MB
// message is never held twice over in the driver's buffers: chunks hold
// the message and one chunk. size is the item's RawSize.
func (s *Store) ReadRaw(ctx context.Context, id, size int64) ([]byte, error) {
	return s.readRaw(ctx, nil, id, make([]byte, 0, size))
}

// readRaw appends item id's raw bytes to buf, read in chunks in tx, or
// on the database when tx is nil. The statement is prepared: lib/pq
// returns a prepared statement's bytea as bytes, an unprepared one's as
// hex text, twice the size, that both ends encode and decode.
//
// The chunks grow, because a chunk can cost as much as all the bytes
// before it: SQLite follows a value's overflow pages from its start, and
// PostgreSQL decompresses a compressed value from its start (it reads a
// slice of an uncompressed one directly). Chunks of 1, 2 and then 4 MB
// read a 25 MB message in 8 queries that reach 104 MB in all; chunks of
// 1 MB took 26 queries (the last one finding the end) that reached 350 MB
// (BenchmarkReadRaw).
func (s *Store) readRaw(ctx context.Context, tx *sqlx.Tx, id int64, buf []byte) ([]byte, error) {
	for n := rawChunk; ; n = min(2*n, maxRawChunk) {
		var chunk []byte
		err := s.hot.Get(ctx, tx, &chunk, `select substr(raw, ?, ?) from items where id = ?`,
			len(buf)+1, n, id)
		if err != nil {
			return nil, fmt.Errorf("read item %d: %w", id, err)
		}
		buf = append(buf, chunk...)
		if len(chunk) < n {
			return buf, nil
		}
	}
}

// Claim leases up to n due items to worker for lease. An item whose worker
// dies becomes due again when the lease ends. Concurrent workers never get
// the same item: PostgreSQL skips rows other transactions locked, SQLite
// has a single writer.
func (s *Store) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]model.Item, error) {
	var rows []itemRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		rows = nil
		// Large messages are left out and read in chunks by ReadRaw when
		// their turn comes, so a batch holds at most Batch × InlineRaw.
		if err := s.claimRows(ctx, tx, "items", claimReceived, worker, n, lease, &rows, claimItemCols, InlineRaw); err != nil {
			return err
		}
		return s.claimReads(ctx, tx, rows)
	})
	if err != nil {
		return nil, fmt.Errorf("claim items: %w", err)
	}
	return items(rows), nil
}

// claimReads reads, in the claim's transaction, what the claimed items
// carry beside their rows: the mailboxes each was received in
// (Item.Mailboxes; as Mailboxes reads them) and any manager's review
// (Item.Review; as ItemReview reads it). On PostgreSQL it takes one
// prepared statement for each, for the whole batch; SQLite's claim reads
// neither, and the processor asks the store.
func (s *Store) claimReads(ctx context.Context, tx *sqlx.Tx, rows []itemRow) error {
	if s.dialect != Postgres || len(rows) == 0 {
		return nil
	}
	ids := make([]int64, len(rows))
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		ids[i], at[r.ID] = r.ID, i
		rows[i].mailboxes, rows[i].reviewRead = []string{}, true
	}
	var boxes []struct {
		ItemID  int64  `db:"item_id"`
		Mailbox string `db:"mailbox"`
	}
	if err := s.hot.Select(ctx, tx, &boxes, `select distinct item_id, mailbox from receipts
		where item_id = any(?::bigint[]) and mailbox <> '' order by item_id, mailbox`, pq.Array(ids)); err != nil {
		return fmt.Errorf("mailboxes: %w", err)
	}
	for _, b := range boxes {
		i := at[b.ItemID]
		rows[i].mailboxes = append(rows[i].mailboxes, b.Mailbox)
	}
	var reviews []reviewRow
	if err := s.hot.Select(ctx, tx, &reviews, `select `+reviewCols+` from item_reviews
		where item_id = any(?::bigint[])`, pq.Array(ids)); err != nil {
		return fmt.Errorf("reviews: %w", err)
	}
	for _, r := range reviews {
		rv := r.review()
		rows[at[r.ItemID]].review = &rv
	}
	return nil
}

// ExtendClaim renews worker's claim on an item for lease from now, when a
// worker starts on it: a batch's later items keep a full lease.
func (s *Store) ExtendClaim(ctx context.Context, id int64, worker string, lease time.Duration) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`update items set next_attempt_at = ?
		where id = ? and claimed_by = ? and state = 'received'`), ts(s.now().Add(lease)), id, worker)
	if err != nil {
		return fmt.Errorf("extend claim on item %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("extend claim on item %d: %w", id, ErrNotClaimed)
	}
	return nil
}

// ErrNotClaimed is model.ErrNotClaimed.
var ErrNotClaimed = model.ErrNotClaimed

// Fail records a failed attempt on a claimed item. After maxAttempts the
// item is quarantined; otherwise it is due again after Backoff.
func (s *Store) Fail(ctx context.Context, id int64, worker string, cause error, maxAttempts int) (quarantined bool, err error) {
	msg := cutText(cleanText(strings.TrimSpace(cause.Error())), 2000)
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var attempts int
		err := tx.GetContext(ctx, &attempts, s.rebind(
			`select attempts from items where id = ? and claimed_by = ? and state = 'received'`), id, worker)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("fail item %d: %w", id, ErrNotClaimed)
		}
		if err != nil {
			return err
		}
		state := model.StateReceived
		if attempts >= maxAttempts {
			state = model.StateQuarantined
			quarantined = true
		}
		_, err = tx.ExecContext(ctx, s.rebind(`update items set state = ?, claimed_by = '', last_error = ?,
			next_attempt_at = ? where id = ?`), state, msg, ts(s.now().Add(s.backoff(attempts))), id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("fail item %d: %w", id, err)
	}
	return quarantined, nil
}

// Reprocess makes items due again at once with a fresh attempt count:
// quarantined ones, or the given ids whatever their state.
func (s *Store) Reprocess(ctx context.Context, ids []int64) (int64, error) {
	var (
		q    = `update items set state = 'received', attempts = 0, claimed_by = '', next_attempt_at = ? where state = 'quarantined'`
		args = []any{ts(s.now())}
	)
	if len(ids) > 0 {
		var err error
		q, args, err = sqlx.In(`update items set state = 'received', attempts = 0, claimed_by = '', next_attempt_at = ?
			where id in (?)`, ts(s.now()), ids)
		if err != nil {
			return 0, err
		}
	}
	res, err := s.db.ExecContext(ctx, s.rebind(q), args...)
	if err != nil {
		return 0, fmt.Errorf("reprocess: %w", err)
	}
	return res.RowsAffected()
}

// StateCounts counts items per state.
func (s *Store) StateCounts(ctx context.Context) (map[model.ItemState]int64, error) {
	var rows []struct {
		State string `db:"state"`
		N     int64  `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, `select state, count(*) as n from items group by state`); err != nil {
		return nil, fmt.Errorf("count items: %w", err)
	}
	out := map[model.ItemState]int64{}
	for _, r := range rows {
		out[model.ItemState(r.State)] = r.N
	}
	return out, nil
}

// claimQuery is the claim of rows of table in state on PostgreSQL. Its
// arguments are the worker, the lease's end, the time now, the number of
// rows, then those of cols.
func claimQuery(table string, state claimState, cols string) string {
	return `with claimed as (
		update ` + table + ` set claimed_by = ?, next_attempt_at = ?, attempts = attempts + 1
		where id in (select id from ` + table + ` where state = '` + string(state) + `' and next_attempt_at <= ?
			order by next_attempt_at, id limit ? for update skip locked)
		returning ` + cols + `)
		select * from claimed order by id`
}

// claimItemCols are the columns a claim of items reads: a large item's
// bytes are left out (one argument: InlineRaw).
var claimItemCols = strings.Replace(itemCols, "raw,", "case when raw_size <= ? then raw end as raw,", 1)

// claimState is the state of the rows a claim takes: a constant, as it
// is written into the statement.
type claimState string

// The states claims take.
const (
	claimReceived claimState = "received" // items
	claimPending  claimState = "pending"  // outbox messages
)

// claimRows leases up to n due rows of table (items or outbox) in state
// to worker for lease, oldest due first, and reads their cols (a list in
// which ? are colArgs) into dest, in id order. PostgreSQL skips rows that
// other transactions locked, in one prepared statement (lib/pq returns a
// prepared statement's bytea as bytes, an unprepared one's as hex text);
// SQLite has a single writer.
//
// The state is written into the statement, not passed as a parameter:
// the due rows are found through a partial index on that state
// (items_due, outbox_due), which PostgreSQL can use in the generic plan
// it settles on for a prepared statement only when the state is in its
// text. With a parameter, the generic plan scans the whole table twice.
func (s *Store) claimRows(ctx context.Context, tx *sqlx.Tx, table string, state claimState, worker string, n int, lease time.Duration,
	dest any, cols string, colArgs ...any) error {
	now := ts(s.now())
	if s.dialect == Postgres {
		return s.hot.Select(ctx, tx, dest, claimQuery(table, state, cols),
			append([]any{worker, now.Add(lease), now, n}, colArgs...)...)
	}
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, s.rebind(`select id from `+table+`
		where state = ? and next_attempt_at <= ?
		order by next_attempt_at, id limit ?`), string(state), now, n); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqlx.In(`update `+table+` set claimed_by = ?, next_attempt_at = ?, attempts = attempts + 1
		where id in (?)`, worker, now.Add(lease), ids)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(q), args...); err != nil {
		return err
	}
	if q, args, err = sqlx.In(`select `+cols+` from `+table+` where id in (?) order by id`, append(colArgs, ids)...); err != nil {
		return err
	}
	return tx.SelectContext(ctx, dest, s.rebind(q), args...)
}
