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

// ledgerRow is a points_ledger row as the database holds it.
type ledgerRow struct {
	ID     int64         `db:"id"`
	RepID  int64         `db:"rep_id"`
	ItemID sql.NullInt64 `db:"item_id"`
	Points int           `db:"points"`
	// Reason says why, e.g. "category:intel", "bonus:first-intel-of-month",
	// or "adjust:" and a manager's words. With ItemID it is unique, so no
	// item pays twice for the same reason.
	Reason string `db:"reason"`
	// Month is YYYY-MM in the configured time zone.
	Month string `db:"month"`
	// Actor is "earshot" or the manager who adjusted.
	Actor string `db:"actor"`
	// CreatedAt is when the entry was written (UTC).
	CreatedAt time.Time `db:"created_at"`
}

func (r ledgerRow) entry() model.LedgerEntry {
	return model.LedgerEntry{ID: r.ID, RepID: r.RepID, ItemID: r.ItemID.Int64, Points: r.Points, Reason: r.Reason,
		Month: model.Month(r.Month), Actor: r.Actor, CreatedAt: r.CreatedAt}
}

func entries(rows []ledgerRow) []model.LedgerEntry {
	out := make([]model.LedgerEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out
}

const ledgerCols = `id, rep_id, item_id, points, reason, month, actor, created_at`

// ledgerRows appends the ledger rows of item id's entries to rows.
func (s *Store) ledgerRows(rows [][]any, id int64, paid []model.LedgerEntry) [][]any {
	now := ts(s.now())
	for _, e := range paid {
		actor := e.Actor
		if actor == "" {
			actor = "earshot"
		}
		rows = append(rows, []any{e.RepID, id, e.Points, e.Reason, string(e.Month), actor, now})
	}
	return rows
}

// insertLedger appends ledger rows made by ledgerRows; an entry already
// paid for the same (item, reason) is skipped, so retries and replays pay
// nothing twice. One statement for all of them on PostgreSQL (for up to
// 500 rows on SQLite): the totals trigger runs once per statement.
func (s *Store) insertLedger(ctx context.Context, tx *sqlx.Tx, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if s.dialect == Postgres {
		// Prepared, each column an array (insertOutboxPostgres).
		n := len(rows)
		reps, items, pts := make([]int64, n), make([]int64, n), make([]int64, n)
		reasons, months, actors, created := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, r := range rows {
			reps[i], items[i], pts[i] = r[0].(int64), r[1].(int64), int64(r[2].(int))
			reasons[i], months[i], actors[i] = r[3].(string), r[4].(string), r[5].(string)
			created[i] = r[6].(time.Time).Format(time.RFC3339Nano)
		}
		_, err := s.hot.Exec(ctx, tx, `insert into points_ledger (rep_id, item_id, points, reason, month, actor, created_at)
			select v.rep_id, v.item_id, v.points, v.reason, v.month, v.actor, v.created_at
			from unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
				with ordinality as v(rep_id, item_id, points, reason, month, actor, created_at, n)
			order by v.n
			on conflict (item_id, reason) do nothing`,
			pq.Array(reps), pq.Array(items), pq.Array(pts), textArray(reasons), textArray(months), textArray(actors),
			pq.Array(created))
		return err
	}
	return s.insertRows(ctx, tx, "points_ledger", []string{"rep_id", "item_id", "points", "reason", "month", "actor", "created_at"},
		rows, "on conflict (item_id, reason) do nothing")
}

// validAdjustment checks a manager's adjustment and gives its reason the
// model.ReasonAdjust prefix.
func validAdjustment(e model.LedgerEntry) (model.LedgerEntry, error) {
	reason := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(e.Reason), model.ReasonAdjust))
	switch {
	case reason == "":
		return e, errors.New("adjust points: a reason is required")
	case e.Points == 0:
		return e, errors.New("adjust points: points must not be zero")
	case !e.Month.Valid():
		return e, fmt.Errorf("adjust points: month %q is not YYYY-MM", e.Month)
	case strings.TrimSpace(e.Actor) == "":
		return e, errors.New("adjust points: the adjusting manager is required")
	}
	e.Reason = model.ReasonAdjust + reason
	return e, nil
}

// AdjustPoints appends a manager's adjustment: an entry without an item.
// The reason is required and stored as model.ReasonAdjust + reason.
func (s *Store) AdjustPoints(ctx context.Context, e model.LedgerEntry) (model.LedgerEntry, error) {
	e, err := validAdjustment(e)
	if err != nil {
		return e, err
	}
	e.ItemID = 0
	e.CreatedAt = ts(s.now())
	err = s.db.GetContext(ctx, &e.ID, s.rebind(`insert into points_ledger
		(rep_id, item_id, points, reason, month, actor, created_at) values (?, null, ?, ?, ?, ?, ?) returning id`),
		e.RepID, e.Points, e.Reason, string(e.Month), e.Actor, e.CreatedAt)
	if err != nil {
		return e, fmt.Errorf("adjust points of rep %d: %w", e.RepID, err)
	}
	return e, nil
}

// ItemLedger returns the entries paid for an item, oldest first.
func (s *Store) ItemLedger(ctx context.Context, itemID int64) ([]model.LedgerEntry, error) {
	var rows []ledgerRow
	err := s.hot.Select(ctx, nil, &rows, `select `+ledgerCols+` from points_ledger
		where item_id = ? order by id`, itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d ledger: %w", itemID, err)
	}
	return entries(rows), nil
}

// RepLedger returns a rep's entries of one month, oldest first.
func (s *Store) RepLedger(ctx context.Context, repID int64, month model.Month) ([]model.LedgerEntry, error) {
	var rows []ledgerRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select `+ledgerCols+` from points_ledger
		where rep_id = ? and month = ? order by id`), repID, string(month))
	if err != nil {
		return nil, fmt.Errorf("rep %d ledger %s: %w", repID, month, err)
	}
	return entries(rows), nil
}

// HasLedgerReason reports whether the rep was paid for reason in month
// for an item other than exceptItem.
func (s *Store) HasLedgerReason(ctx context.Context, repID int64, month model.Month, reason string, exceptItem int64) (bool, error) {
	var n int
	err := s.hot.Get(ctx, nil, &n, `select count(*) from points_ledger
		where rep_id = ? and month = ? and reason = ? and (item_id is null or item_id <> ?)`,
		repID, string(month), reason, exceptItem)
	if err != nil {
		return false, fmt.Errorf("rep %d ledger %s %s: %w", repID, month, reason, err)
	}
	return n > 0, nil
}

// CompetitorReported reports whether a processed item other than
// exceptItem, received between from and to (inclusive), is tagged with
// the competitor.
func (s *Store) CompetitorReported(ctx context.Context, competitor string, from, to time.Time, exceptItem int64) (bool, error) {
	return s.competitorReported(ctx, nil, competitor, from, to, exceptItem)
}

// competitorReported is CompetitorReported in tx, a transaction that must
// see its own state, or on the database when tx is nil.
func (s *Store) competitorReported(ctx context.Context, tx *sqlx.Tx, competitor string, from, to time.Time, exceptItem int64) (bool, error) {
	// The first report found ends it; a count grew with every report.
	var found bool
	q := sqlx.QueryerContext(s.db)
	if tx != nil {
		q = tx
	}
	err := sqlx.GetContext(ctx, q, &found, s.rebind(competitorReportedQuery), competitor, ts(from), ts(to), exceptItem)
	if err != nil {
		return false, fmt.Errorf("competitor %s reported: %w", competitor, err)
	}
	return found, nil
}

// competitorReportedQuery asks whether a processed item other than $4,
// received from $2 to $3, names competitor $1. It reads the competitor's
// tags of the window, newest first, by their own copy of their item's
// received_at (tags_competitor_received), and stops at the first whose
// item is processed. Newest first, it finds a competitor named lately at
// once; its order and limit keep the index from losing to a scan that
// hopes to meet a match early, which, the tags being stored oldest first,
// read a year of them. Each tag probes its item by key in a subquery
// PostgreSQL runs per tag and never turns into a join: as a join, its
// plan followed the items' statistics, and those taken while a backlog
// was all 'received' made it scan every item, for every check, in search
// of a 'processed' one. It is not prepared: a generic plan of it scans far
// more than the plan made for its competitor and window.
const competitorReportedQuery = `select coalesce((select true from tags t
	where t.kind = 'competitor' and t.value = ? and t.received_at >= ? and t.received_at <= ? and t.item_id <> ?
	and (select i.state = 'processed' from items i where i.id = t.item_id)
	order by t.received_at desc limit 1), false)`

// writeLedger appends entries for item id; an entry already paid for the
// same (item, reason) is skipped.
func (s *Store) writeLedger(ctx context.Context, tx *sqlx.Tx, id int64, paid []model.LedgerEntry) error {
	if err := s.insertLedger(ctx, tx, s.ledgerRows(nil, id, paid)); err != nil {
		return fmt.Errorf("item %d: points: %w", id, err)
	}
	return nil
}
