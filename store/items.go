package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Item states.
const (
	StateReceived    = "received"
	StateProcessed   = "processed"
	StateQuarantined = "quarantined"
)

// Item is a stored email or voicemail with its processing state.
type Item struct {
	ID            int64          `db:"id"`
	Kind          string         `db:"kind"`
	MessageID     string         `db:"message_id"`
	ContentHash   string         `db:"content_hash"`
	Raw           []byte         `db:"raw"`
	RawSize       int64          `db:"raw_size"`
	RawTruncated  bool           `db:"raw_truncated"`
	Meta          string         `db:"meta"`
	ReceivedAt    time.Time      `db:"received_at"`
	State         string         `db:"state"`
	Attempts      int            `db:"attempts"`
	NextAttemptAt time.Time      `db:"next_attempt_at"`
	ClaimedBy     string         `db:"claimed_by"`
	LastError     string         `db:"last_error"`
	ProcessedAt   sql.NullTime   `db:"processed_at"`
	Sender        string         `db:"sender"`
	RepID         sql.NullInt64  `db:"rep_id"`
	Subject       string         `db:"subject"`
	BodyText      string         `db:"body_text"`
	Transcript    sql.NullString `db:"transcript"`
	AutoReason    string         `db:"auto_reason"`
	Warnings      string         `db:"warnings"`
}

const itemCols = `id, kind, message_id, content_hash, raw, raw_size, raw_truncated, meta, received_at,
	state, attempts, next_attempt_at, claimed_by, last_error, processed_at, sender, rep_id, subject,
	body_text, transcript, auto_reason, warnings`

// InlineRaw is the largest raw item Claim returns with its bytes; a
// larger one has a nil Raw and is read with ReadRaw.
const InlineRaw = 1 << 20

// rawChunk is how much of a raw item one ReadRaw query reads.
const rawChunk = 1 << 20

// ReadRaw returns an item's raw bytes, read in chunks: lib/pq returns a
// bytea as hex text, so one query for a 25 MB message would hold 75 MB;
// chunks hold the message and one chunk. size is the item's RawSize.
func (s *Store) ReadRaw(ctx context.Context, id, size int64) ([]byte, error) {
	buf := make([]byte, 0, size)
	for {
		var chunk []byte
		err := s.db.GetContext(ctx, &chunk, s.rebind(`select substr(raw, ?, ?) from items where id = ?`),
			len(buf)+1, rawChunk, id)
		if err != nil {
			return nil, fmt.Errorf("read item %d: %w", id, err)
		}
		buf = append(buf, chunk...)
		if len(chunk) < rawChunk {
			return buf, nil
		}
	}
}

// Claim leases up to n due items to worker for lease. An item whose worker
// dies becomes due again when the lease ends. Concurrent workers never get
// the same item: PostgreSQL skips rows other transactions locked, SQLite
// has a single writer.
func (s *Store) Claim(ctx context.Context, worker string, n int, lease time.Duration) ([]Item, error) {
	now := ts(s.now())
	lock := ""
	if s.dialect == Postgres {
		lock = " for update skip locked"
	}
	var items []Item
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		items = nil
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, s.rebind(`select id from items
			where state = 'received' and next_attempt_at <= ?
			order by next_attempt_at, id limit ?`+lock), now, n); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		q, args, err := sqlx.In(`update items set claimed_by = ?, next_attempt_at = ?, attempts = attempts + 1
			where id in (?)`, worker, now.Add(lease), ids)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.rebind(q), args...); err != nil {
			return err
		}
		// Large messages are left out and read in chunks by ReadRaw when
		// their turn comes, so a batch holds at most Batch × InlineRaw.
		cols := strings.Replace(itemCols, "raw,", "case when raw_size <= ? then raw end as raw,", 1)
		q, args, err = sqlx.In(`select `+cols+` from items where id in (?) order by id`, InlineRaw, ids)
		if err != nil {
			return err
		}
		return tx.SelectContext(ctx, &items, s.rebind(q), args...)
	})
	if err != nil {
		return nil, fmt.Errorf("claim items: %w", err)
	}
	return items, nil
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

// ErrNotClaimed means the item is no longer claimed by this worker: its
// lease ran out and another worker took it.
var ErrNotClaimed = errors.New("item is not claimed by this worker")

// Processed is what processing an item found, stored when it completes.
type Processed struct {
	Sender     string
	RepID      int64 // 0 when the sender is not a registered rep
	Subject    string
	BodyText   string
	FullText   string
	AutoReason string
	Warnings   []string
	// Normalized is the JSON of the normalized message.
	Normalized string
	// Tags replace the item's rule tags; tags a manager set are kept.
	Tags []Tag
	// Assignments are added; existing ones (and their triage) are kept.
	Assignments []Assignment
	// Ledger entries are appended once per (item, reason).
	Ledger []LedgerEntry
	// Outbox messages are enqueued once per (item, kind, recipient).
	Outbox []OutboxMessage
	// FirstReports are the competitors this result pays a first-report
	// bonus for. Complete refuses the result with ErrConflict when another
	// item named one of them meanwhile, so that it is scored again.
	FirstReports []FirstReport
	// AckCap, when set, is the daily cap the ack in Outbox was let through
	// under. Complete refuses the result with ErrConflict when other acks
	// to the recipient filled the cap meanwhile, so that it is suppressed.
	AckCap *AckCap
}

// AckCap is a daily cap on acks to one recipient: at most Max acks that
// were not suppressed since Since.
type AckCap struct {
	Recipient string
	Since     time.Time
	Max       int
}

// FirstReport claims that no other processed item received between Since
// and Until named Competitor.
type FirstReport struct {
	Competitor   string
	Since, Until time.Time
}

// Tag is a label on an item with the evidence that set it.
type Tag struct {
	ItemID int64  `db:"item_id"`
	Kind   string `db:"kind"`
	Value  string `db:"value"`
	// Evidence is a JSON array of the phrases that set the tag.
	Evidence string `db:"evidence"`
	// Origin is the rule that set it, or "manager:NAME".
	Origin string `db:"origin"`
}

// Assignment routes an item to an owner.
type Assignment struct {
	ItemID int64  `db:"item_id"`
	Owner  string `db:"owner"`
	// Route is the path through the route tree that chose the owner.
	Route string `db:"route"`
}

// Complete marks a claimed item processed and stores what processing
// found, all in one transaction.
func (s *Store) Complete(ctx context.Context, id int64, worker string, p Processed) error {
	p, err := p.clean()
	if err != nil {
		return fmt.Errorf("complete item %d: %w", id, err)
	}
	warn, err := jsonText(p.Warnings)
	if err != nil {
		return err
	}
	norm := p.Normalized
	if norm == "" {
		norm = "{}"
	}
	var rep any
	if p.RepID != 0 {
		rep = p.RepID
	}
	return conflict(s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`update items set state = 'processed', processed_at = ?,
			claimed_by = '', last_error = '', sender = ?, rep_id = ?, subject = ?, body_text = ?, full_text = ?,
			auto_reason = ?, warnings = ?, normalized = ?
			where id = ? and claimed_by = ? and state = 'received'`),
			ts(s.now()), p.Sender, rep, p.Subject, p.BodyText, p.FullText, p.AutoReason, warn, norm, id, worker)
		if err != nil {
			return fmt.Errorf("complete item %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("complete item %d: %w", id, ErrNotClaimed)
		}
		// Locks in one order (competitors by name, then the recipient):
		// two items never wait for each other's.
		reports := slices.Clone(p.FirstReports)
		slices.SortFunc(reports, func(a, b FirstReport) int {
			return strings.Compare(strings.ToLower(a.Competitor), strings.ToLower(b.Competitor))
		})
		for _, fr := range reports {
			if err := s.checkFirstReport(ctx, tx, id, fr); err != nil {
				return err
			}
		}
		if p.AckCap != nil {
			if err := s.checkAckCap(ctx, tx, id, *p.AckCap); err != nil {
				return err
			}
		}
		if err := s.queueSearch(ctx, tx, id); err != nil {
			return err
		}
		return s.writeResults(ctx, tx, id, p)
	}))
}

// lockName takes a PostgreSQL advisory lock on name until tx ends. SQLite
// needs none: it has one writer, and tx has written already.
func (s *Store) lockName(ctx context.Context, tx *sqlx.Tx, name string) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `select pg_advisory_xact_lock(hashtext($1))`, "earshot:"+name); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// checkFirstReport returns ErrConflict when an item other than id,
// processed and received within fr's window, names fr.Competitor. Items
// naming the same competitor complete one at a time (an advisory lock on
// PostgreSQL; SQLite has one writer), so of two first reports racing, the
// second sees the first.
func (s *Store) checkFirstReport(ctx context.Context, tx *sqlx.Tx, id int64, fr FirstReport) error {
	if err := s.lockName(ctx, tx, "first-report:"+strings.ToLower(fr.Competitor)); err != nil {
		return fmt.Errorf("item %d: %w", id, err)
	}
	found, err := s.competitorReported(ctx, tx, fr.Competitor, fr.Since, fr.Until, id)
	if err != nil {
		return fmt.Errorf("item %d: %w", id, err)
	}
	if found {
		return fmt.Errorf("item %d: %w: another item reported %s meanwhile", id, ErrConflict, fr.Competitor)
	}
	return nil
}

// checkAckCap returns ErrConflict when acks to c.Recipient from items
// other than id, not suppressed, already fill the cap. Items acking one
// recipient complete one at a time (an advisory lock on PostgreSQL; SQLite
// has one writer).
func (s *Store) checkAckCap(ctx context.Context, tx *sqlx.Tx, id int64, c AckCap) error {
	if err := s.lockName(ctx, tx, "ack-cap:"+strings.ToLower(c.Recipient)); err != nil {
		return fmt.Errorf("item %d: %w", id, err)
	}
	n, err := s.acksSince(ctx, tx, c.Recipient, c.Since, id)
	if err != nil {
		return fmt.Errorf("item %d: %w", id, err)
	}
	if n >= c.Max {
		return fmt.Errorf("item %d: %w: acks to %s reached the daily cap of %d meanwhile", id, ErrConflict, c.Recipient, c.Max)
	}
	return nil
}

func (s *Store) writeResults(ctx context.Context, tx *sqlx.Tx, id int64, p Processed) error {
	if _, err := tx.ExecContext(ctx, s.rebind(`delete from tags where item_id = ? and origin not like 'manager%'`), id); err != nil {
		return fmt.Errorf("item %d: replace tags: %w", id, err)
	}
	removed, err := s.removals(ctx, tx, id)
	if err != nil {
		return err
	}
	tags := make([][]any, 0, len(p.Tags))
	for _, t := range p.Tags {
		if removed[removal{"tag", t.Kind, t.Value}] {
			continue
		}
		ev := t.Evidence
		if ev == "" {
			ev = "[]"
		}
		tags = append(tags, []any{id, t.Kind, t.Value, ev, t.Origin})
	}
	if err := s.insertRows(ctx, tx, "tags", []string{"item_id", "kind", "value", "evidence", "origin"}, tags,
		"on conflict (item_id, kind, value) do nothing"); err != nil {
		return fmt.Errorf("item %d: tags: %w", id, err)
	}
	assigned := make([][]any, 0, len(p.Assignments))
	for _, a := range p.Assignments {
		if removed[removal{"owner", "", a.Owner}] {
			continue
		}
		assigned = append(assigned, []any{id, a.Owner, a.Route, ts(s.now())})
	}
	if len(removed) > 0 {
		// No notice to an owner a manager took off the item.
		kept := p.Outbox[:0:0]
		for _, m := range p.Outbox {
			if m.Kind == "owner_notice" && removed[removal{"owner", "", m.Owner}] {
				continue
			}
			kept = append(kept, m)
		}
		p.Outbox = kept
	}
	if err := s.insertRows(ctx, tx, "assignments", []string{"item_id", "owner", "route", "created_at"}, assigned,
		"on conflict (item_id, owner) do nothing"); err != nil {
		return fmt.Errorf("item %d: assignments: %w", id, err)
	}
	if err := s.writeOutbox(ctx, tx, id, p.Outbox); err != nil {
		return err
	}
	// An owner told at once through an immediate notice is notified.
	var notified []string
	for _, m := range p.Outbox {
		if m.Kind == "owner_notice" && m.Owner != "" {
			notified = append(notified, m.Owner)
		}
	}
	if len(notified) > 0 {
		q, args, err := sqlx.In(`update assignments set notified_at = ?
			where item_id = ? and owner in (?) and notified_at is null`, ts(s.now()), id, notified)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.rebind(q), args...); err != nil {
			return fmt.Errorf("item %d: mark %s notified: %w", id, strings.Join(notified, ", "), err)
		}
	}
	// Last: the ledger's trigger locks the rep's month totals until the
	// commit, and items of one busy rep wait for each other on that lock.
	return s.writeLedger(ctx, tx, id, p.Ledger)
}

// removal is what a manager removed from an item: a tag (kind, value) or
// an owner (value).
type removal struct{ what, kind, value string }

// removals returns what managers removed from item id.
func (s *Store) removals(ctx context.Context, tx *sqlx.Tx, id int64) (map[removal]bool, error) {
	var rows []struct {
		What  string `db:"what"`
		Kind  string `db:"kind"`
		Value string `db:"value"`
	}
	if err := tx.SelectContext(ctx, &rows, s.rebind(`select what, kind, value from manager_removals where item_id = ?`), id); err != nil {
		return nil, fmt.Errorf("item %d: removals: %w", id, err)
	}
	out := make(map[removal]bool, len(rows))
	for _, r := range rows {
		out[removal{r.What, r.Kind, r.Value}] = true
	}
	return out, nil
}

// Tags returns an item's tags.
func (s *Store) Tags(ctx context.Context, itemID int64) ([]Tag, error) {
	var out []Tag
	err := s.db.SelectContext(ctx, &out, s.rebind(`select item_id, kind, value, evidence, origin from tags
		where item_id = ? order by kind, value`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d tags: %w", itemID, err)
	}
	return out, nil
}

// Assignments returns an item's assignments.
func (s *Store) Assignments(ctx context.Context, itemID int64) ([]Assignment, error) {
	var out []Assignment
	err := s.db.SelectContext(ctx, &out, s.rebind(`select item_id, owner, route from assignments
		where item_id = ? order by id`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d assignments: %w", itemID, err)
	}
	return out, nil
}

// Mailboxes returns the addresses of the mailboxes an item arrived in.
func (s *Store) Mailboxes(ctx context.Context, itemID int64) ([]string, error) {
	var out []string
	err := s.db.SelectContext(ctx, &out, s.rebind(`select distinct mailbox from receipts
		where item_id = ? and mailbox <> '' order by mailbox`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d mailboxes: %w", itemID, err)
	}
	return out, nil
}

// Backoff is the delay before attempt n+1 after n failed attempts: 30 s
// doubling to at most 1 h, with ±20% jitter.
func Backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	j := time.Duration(rand.Int64N(int64(d) / 5 * 2))
	return d - d/5 + j
}

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
		state := StateReceived
		if attempts >= maxAttempts {
			state = StateQuarantined
			quarantined = true
		}
		_, err = tx.ExecContext(ctx, s.rebind(`update items set state = ?, claimed_by = '', last_error = ?,
			next_attempt_at = ? where id = ?`), state, msg, ts(s.now().Add(Backoff(attempts))), id)
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

// Item returns one item by id.
func (s *Store) Item(ctx context.Context, id int64) (Item, error) {
	var it Item
	err := s.db.GetContext(ctx, &it, s.rebind(`select `+itemCols+` from items where id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return it, fmt.Errorf("item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return it, fmt.Errorf("item %d: %w", id, err)
	}
	return it, nil
}

// StateCounts counts items per state.
func (s *Store) StateCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		State string `db:"state"`
		N     int64  `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, `select state, count(*) as n from items group by state`); err != nil {
		return nil, fmt.Errorf("count items: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}
