package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// LedgerEntry is one line of the append-only points ledger.
type LedgerEntry struct {
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

// ReasonAdjust prefixes the reason of a manager's adjustment.
const ReasonAdjust = "adjust:"

const ledgerCols = `id, rep_id, item_id, points, reason, month, actor, created_at`

var monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// writeLedger appends entries for item id; an entry already paid for the
// same (item, reason) is skipped, so retries and replays pay nothing twice.
func (s *Store) writeLedger(ctx context.Context, tx *sqlx.Tx, id int64, entries []LedgerEntry) error {
	rows := make([][]any, 0, len(entries))
	for _, e := range entries {
		actor := e.Actor
		if actor == "" {
			actor = "earshot"
		}
		rows = append(rows, []any{e.RepID, id, e.Points, e.Reason, e.Month, actor, ts(s.now())})
	}
	// One statement: the totals trigger runs once per statement.
	if err := s.insertRows(ctx, tx, "points_ledger", []string{"rep_id", "item_id", "points", "reason", "month", "actor", "created_at"},
		rows, "on conflict (item_id, reason) do nothing"); err != nil {
		return fmt.Errorf("item %d: points: %w", id, err)
	}
	return nil
}

// validAdjustment checks a manager's adjustment and gives its reason the
// ReasonAdjust prefix.
func validAdjustment(e LedgerEntry) (LedgerEntry, error) {
	reason := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(e.Reason), ReasonAdjust))
	switch {
	case reason == "":
		return e, errors.New("adjust points: a reason is required")
	case e.Points == 0:
		return e, errors.New("adjust points: points must not be zero")
	case !monthPattern.MatchString(e.Month):
		return e, fmt.Errorf("adjust points: month %q is not YYYY-MM", e.Month)
	case strings.TrimSpace(e.Actor) == "":
		return e, errors.New("adjust points: the adjusting manager is required")
	}
	e.Reason = ReasonAdjust + reason
	return e, nil
}

// AdjustPoints appends a manager's adjustment: an entry without an item.
// The reason is required and stored as ReasonAdjust + reason.
func (s *Store) AdjustPoints(ctx context.Context, e LedgerEntry) (LedgerEntry, error) {
	e, err := validAdjustment(e)
	if err != nil {
		return e, err
	}
	e.ItemID = sql.NullInt64{}
	e.CreatedAt = ts(s.now())
	err = s.db.GetContext(ctx, &e.ID, s.rebind(`insert into points_ledger
		(rep_id, item_id, points, reason, month, actor, created_at) values (?, null, ?, ?, ?, ?, ?) returning id`),
		e.RepID, e.Points, e.Reason, e.Month, e.Actor, e.CreatedAt)
	if err != nil {
		return e, fmt.Errorf("adjust points of rep %d: %w", e.RepID, err)
	}
	return e, nil
}

// ItemLedger returns the entries paid for an item, oldest first.
func (s *Store) ItemLedger(ctx context.Context, itemID int64) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := s.db.SelectContext(ctx, &out, s.rebind(`select `+ledgerCols+` from points_ledger
		where item_id = ? order by id`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d ledger: %w", itemID, err)
	}
	return out, nil
}

// RepLedger returns a rep's entries of one month, oldest first.
func (s *Store) RepLedger(ctx context.Context, repID int64, month string) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := s.db.SelectContext(ctx, &out, s.rebind(`select `+ledgerCols+` from points_ledger
		where rep_id = ? and month = ? order by id`), repID, month)
	if err != nil {
		return nil, fmt.Errorf("rep %d ledger %s: %w", repID, month, err)
	}
	return out, nil
}

// HasLedgerReason reports whether the rep was paid for reason in month
// for an item other than exceptItem.
func (s *Store) HasLedgerReason(ctx context.Context, repID int64, month, reason string, exceptItem int64) (bool, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.rebind(`select count(*) from points_ledger
		where rep_id = ? and month = ? and reason = ? and (item_id is null or item_id <> ?)`),
		repID, month, reason, exceptItem)
	if err != nil {
		return false, fmt.Errorf("rep %d ledger %s %s: %w", repID, month, reason, err)
	}
	return n > 0, nil
}

// CompetitorReported reports whether a processed item other than
// exceptItem, received between from and to (inclusive), is tagged with
// the competitor.
func (s *Store) CompetitorReported(ctx context.Context, competitor string, from, to time.Time, exceptItem int64) (bool, error) {
	return s.competitorReported(ctx, s.db, competitor, from, to, exceptItem)
}

// competitorReported is CompetitorReported through q: the database, or a
// transaction that must see its own state.
func (s *Store) competitorReported(ctx context.Context, q sqlx.QueryerContext, competitor string, from, to time.Time, exceptItem int64) (bool, error) {
	// exists stops at the first report; a count grew with every report.
	var found bool
	err := sqlx.GetContext(ctx, q, &found, s.rebind(`select exists (select 1 from tags t join items i on i.id = t.item_id
		where t.kind = 'competitor' and t.value = ? and i.state = 'processed' and i.id <> ?
		and i.received_at >= ? and i.received_at <= ?)`), competitor, exceptItem, ts(from), ts(to))
	if err != nil {
		return false, fmt.Errorf("competitor %s reported: %w", competitor, err)
	}
	return found, nil
}

// ItemDuplicateOf returns the item an item duplicates, or 0.
func (s *Store) ItemDuplicateOf(ctx context.Context, itemID int64) (int64, error) {
	var dup sql.NullInt64
	err := s.db.GetContext(ctx, &dup, s.rebind(`select duplicate_of from items where id = ?`), itemID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("item %d: %w", itemID, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("item %d duplicate: %w", itemID, err)
	}
	return dup.Int64, nil
}

// ReleaseWaitingPoints makes processed items due again whose sender was
// unregistered when they were processed and is now a rep's contact, so
// that processing pays their points. Call it after importing reps. It
// returns how many items were queued.
func (s *Store) ReleaseWaitingPoints(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`update items set state = 'received', attempts = 0,
		claimed_by = '', next_attempt_at = ?
		where state = 'processed' and rep_id is null and sender <> ''
		and sender in (select value from rep_contacts)`), ts(s.now()))
	if err != nil {
		return 0, fmt.Errorf("release waiting points: %w", err)
	}
	return res.RowsAffected()
}

// RepByID returns one rep with contacts.
func (s *Store) RepByID(ctx context.Context, id int64) (Rep, error) {
	var r Rep
	err := s.db.GetContext(ctx, &r, s.rebind(`select id, name, team, manager from reps where id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("rep %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("rep %d: %w", id, err)
	}
	return r, s.addContacts(ctx, &r)
}

// FindRep finds a rep by name (case-insensitive) or by a folded email
// address, with contacts.
func (s *Store) FindRep(ctx context.Context, nameOrEmail string) (Rep, error) {
	who := strings.TrimSpace(nameOrEmail)
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.rebind(`select id from reps where lower(name) = lower(?)
		union select rep_id from rep_contacts where kind = 'email' and value = lower(?)`), who, who)
	if err != nil {
		return Rep{}, fmt.Errorf("find rep %q: %w", who, err)
	}
	switch len(ids) {
	case 0:
		return Rep{}, fmt.Errorf("rep %q: %w", who, ErrNotFound)
	case 1:
		return s.RepByID(ctx, ids[0])
	}
	return Rep{}, fmt.Errorf("rep %q is ambiguous: %d reps match", who, len(ids))
}

func (s *Store) addContacts(ctx context.Context, r *Rep) error {
	var cs []struct {
		Kind  string `db:"kind"`
		Value string `db:"value"`
	}
	if err := s.db.SelectContext(ctx, &cs, s.rebind(`select kind, value from rep_contacts
		where rep_id = ? order by value`), r.ID); err != nil {
		return fmt.Errorf("rep %d contacts: %w", r.ID, err)
	}
	for _, c := range cs {
		if c.Kind == "email" {
			r.Emails = append(r.Emails, c.Value)
		} else {
			r.Phones = append(r.Phones, c.Value)
		}
	}
	return nil
}

// TallyQuery asks for one rep's standing in one month.
type TallyQuery struct {
	RepID int64
	Month string
	// Pending points are about to be written for this rep in Month (an
	// item being processed): they count as if already in the ledger.
	Pending int
	// Reasons are counted for goal progress, e.g. "category:intel".
	Reasons []string
}

// Tally is a rep's standing: the month's points and rank among the reps
// with entries that month, the all-time total and per-reason counts.
type Tally struct {
	MonthPoints int
	// Rank is standard competition ranking (1, 2, 2, 4); 0 when the rep
	// has no entry this month.
	Rank int
	// Ranked is how many reps have entries this month.
	Ranked  int
	AllTime int
	// Counts holds, per requested reason, how many entries the rep has
	// this month (one per item).
	Counts map[string]int
}

// Tally computes a rep's standing. The month's totals are aggregated per
// rep and ranked with a window function over the (month, rep_id) index.
func (s *Store) Tally(ctx context.Context, q TallyQuery) (Tally, error) {
	var t Tally
	// rep_month_totals holds each rep's month total (a trigger keeps it in
	// step with the ledger), so a tally reads one row per rep, not the
	// month's ledger. Pending points of the item being processed count for
	// the rep as if paid.
	var mine struct {
		Points int64 `db:"points"`
		Found  bool  `db:"found"`
	}
	if err := s.db.GetContext(ctx, &mine, s.rebind(`select coalesce(max(points), 0) as points, count(*) > 0 as found
		from rep_month_totals where month = ? and rep_id = ?`), q.Month, q.RepID); err != nil {
		return t, fmt.Errorf("tally rep %d %s: %w", q.RepID, q.Month, err)
	}
	total := mine.Points + int64(q.Pending)
	var row struct {
		Above  int64 `db:"above"`
		Others int64 `db:"others"`
	}
	if err := s.db.GetContext(ctx, &row, s.rebind(`select coalesce(sum(case when points > ? then 1 else 0 end), 0) as above,
		count(*) as others from rep_month_totals where month = ? and rep_id <> ?`), total, q.Month, q.RepID); err != nil {
		return t, fmt.Errorf("tally rep %d %s: %w", q.RepID, q.Month, err)
	}
	t.MonthPoints, t.Ranked = int(total), int(row.Others)
	if mine.Found || q.Pending != 0 {
		t.Rank, t.Ranked = int(row.Above)+1, t.Ranked+1
	}

	var all int64
	if err := s.db.GetContext(ctx, &all, s.rebind(`select coalesce(sum(points), 0) from rep_month_totals
		where rep_id = ?`), q.RepID); err != nil {
		return t, fmt.Errorf("tally rep %d all time: %w", q.RepID, err)
	}
	t.AllTime = int(all) + q.Pending

	t.Counts = map[string]int{}
	if len(q.Reasons) == 0 {
		return t, nil
	}
	query, cargs, err := sqlx.In(`select reason, count(*) as n from points_ledger
		where rep_id = ? and month = ? and reason in (?) group by reason`, q.RepID, q.Month, q.Reasons)
	if err != nil {
		return t, err
	}
	var counts []struct {
		Reason string `db:"reason"`
		N      int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &counts, s.rebind(query), cargs...); err != nil {
		return t, fmt.Errorf("tally rep %d goals: %w", q.RepID, err)
	}
	for _, c := range counts {
		t.Counts[c.Reason] = c.N
	}
	return t, nil
}

// Standing is one rep's line on a monthly leaderboard.
type Standing struct {
	RepID  int64  `db:"rep_id"`
	Name   string `db:"name"`
	Team   string `db:"team"`
	Points int    `db:"points"`
	// Rank is standard competition ranking: ties share a rank (1, 2, 2, 4).
	Rank int `db:"place"`
}

// Leaderboard ranks the reps with entries in month, best first, at most
// limit of them (all when limit <= 0).
func (s *Store) Leaderboard(ctx context.Context, month string, limit int) ([]Standing, error) {
	q := `select t.rep_id, r.name, r.team, t.points, t.place from (
			select rep_id, sum(points) as points, rank() over (order by sum(points) desc) as place
			from points_ledger where month = ? group by rep_id
		) t join reps r on r.id = t.rep_id order by t.place, r.name, t.rep_id`
	args := []any{month}
	if limit > 0 {
		q += ` limit ?`
		args = append(args, limit)
	}
	var out []Standing
	if err := s.db.SelectContext(ctx, &out, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("leaderboard %s: %w", month, err)
	}
	return out, nil
}
