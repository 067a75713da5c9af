package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The dashboard's reads and a manager's edits: the monthly leaderboard, the
// inbox, one item in full, the outbox and quarantine lists, and the
// dashboard's sessions.

// BoardQuery asks for one month's leaderboard.
type BoardQuery struct {
	// Month is YYYY-MM in the configured time zone.
	Month string
	// Team keeps the reps of one team and ranks them among themselves;
	// empty means every rep.
	Team string
	// Limit keeps the first rows (all when <= 0).
	Limit int
}

// BoardRow is one rep's line on a monthly leaderboard.
type BoardRow struct {
	// Rank is standard competition ranking by points: 1, 2, 2, 4.
	Rank   int
	RepID  int64
	Name   string
	Team   string
	Points int
	// Intel and Feedback count the month's paid items per category.
	Intel    int
	Feedback int
	// Voicemails counts the month's paid voicemails.
	Voicemails int
	// PrevPoints are the rep's points the month before; HadPrev is false
	// when the rep had no entry then.
	PrevPoints int
	HadPrev    bool
}

// Change is the points gained against the month before.
func (r BoardRow) Change() int { return r.Points - r.PrevPoints }

// MonthlyLeaderboard ranks the reps with ledger entries in q.Month, best
// first, with their contributions and last month's points. It reads the
// per-month totals that a trigger keeps from the ledger.
//
// The monthly digest shows last month's board with
// MonthlyLeaderboard(ctx, BoardQuery{Month: MonthBefore(thisMonth)}).
func (s *Store) MonthlyLeaderboard(ctx context.Context, q BoardQuery) ([]BoardRow, error) {
	prev, err := MonthBefore(q.Month)
	if err != nil {
		return nil, fmt.Errorf("leaderboard: %w", err)
	}
	query := `select c.rep_id, r.name, r.team, c.points, c.intel, c.feedback, c.voicemails,
			coalesce(p.points, 0), p.rep_id is not null
		from rep_month_totals c
		join reps r on r.id = c.rep_id
		left join rep_month_totals p on p.month = ? and p.rep_id = c.rep_id
		where c.month = ? and (? = '' or r.team = ?)
		order by c.points desc, r.name, c.rep_id`
	args := []any{prev, q.Month, q.Team, q.Team}
	if q.Limit > 0 {
		query += ` limit ?`
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("leaderboard %s: %w", q.Month, err)
	}
	defer rows.Close()
	var out []BoardRow
	for rows.Next() {
		var b BoardRow
		if err := rows.Scan(&b.RepID, &b.Name, &b.Team, &b.Points, &b.Intel, &b.Feedback, &b.Voicemails,
			&b.PrevPoints, &b.HadPrev); err != nil {
			return nil, fmt.Errorf("leaderboard %s: %w", q.Month, err)
		}
		// Standard competition ranking: a tie shares the rank of its
		// first row, and the next rank counts the tied rows (1, 2, 2, 4).
		b.Rank = len(out) + 1
		if n := len(out); n > 0 && out[n-1].Points == b.Points {
			b.Rank = out[n-1].Rank
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("leaderboard %s: %w", q.Month, err)
	}
	return out, nil
}

// MonthBefore returns the month before a YYYY-MM month.
func MonthBefore(month string) (string, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil || !monthPattern.MatchString(month) {
		return "", fmt.Errorf("month %q is not YYYY-MM", month)
	}
	return t.AddDate(0, -1, 0).Format("2006-01"), nil
}

// MonthTotals sums one month's contributions and points.
type MonthTotals struct {
	Month      string `db:"month"`
	Points     int    `db:"points"`
	Intel      int    `db:"intel"`
	Feedback   int    `db:"feedback"`
	Voicemails int    `db:"voicemails"`
}

// Contributions returns the totals of every month from first to last
// (YYYY-MM, inclusive) that has entries, oldest first, for one team or
// (team empty) for everyone.
func (s *Store) Contributions(ctx context.Context, first, last, team string) ([]MonthTotals, error) {
	var out []MonthTotals
	err := s.db.SelectContext(ctx, &out, s.rebind(`select t.month, sum(t.points) as points, sum(t.intel) as intel,
			sum(t.feedback) as feedback, sum(t.voicemails) as voicemails
		from rep_month_totals t join reps r on r.id = t.rep_id
		where t.month >= ? and t.month <= ? and (? = '' or r.team = ?)
		group by t.month order by t.month`), first, last, team, team)
	if err != nil {
		return nil, fmt.Errorf("contributions %s..%s: %w", first, last, err)
	}
	return out, nil
}

// RepMonths returns a rep's totals per month, newest first.
func (s *Store) RepMonths(ctx context.Context, repID int64) ([]MonthTotals, error) {
	var out []MonthTotals
	err := s.db.SelectContext(ctx, &out, s.rebind(`select month, points, intel, feedback, voicemails
		from rep_month_totals where rep_id = ? order by month desc`), repID)
	if err != nil {
		return nil, fmt.Errorf("rep %d months: %w", repID, err)
	}
	return out, nil
}

// Teams lists the teams reps belong to, in order.
func (s *Store) Teams(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db.SelectContext(ctx, &out, `select distinct team from reps where team <> '' order by team`); err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return out, nil
}

// RepEntry is a ledger entry with the item it pays for.
type RepEntry struct {
	LedgerEntry
	ItemSubject string `db:"item_subject"`
	ItemKind    string `db:"item_kind"`
}

// RepEntries returns a rep's latest ledger entries, newest first, at most
// limit of them.
func (s *Store) RepEntries(ctx context.Context, repID int64, limit int) ([]RepEntry, error) {
	var out []RepEntry
	err := s.db.SelectContext(ctx, &out, s.rebind(`select l.id, l.rep_id, l.item_id, l.points, l.reason, l.month,
			l.actor, l.created_at, coalesce(i.subject, '') as item_subject, coalesce(i.kind, '') as item_kind
		from points_ledger l left join items i on i.id = l.item_id
		where l.rep_id = ? order by l.id desc limit ?`), repID, limit)
	if err != nil {
		return nil, fmt.Errorf("rep %d entries: %w", repID, err)
	}
	return out, nil
}

// InboxQuery filters and pages the item inbox. Empty fields match all.
type InboxQuery struct {
	// Category, Competitor, Product and Topic match tags of that kind.
	Category, Competitor, Product, Topic string
	// Owner matches items assigned to that owner.
	Owner string
	// State is received, processed or quarantined.
	State string
	// Unregistered keeps items whose sender is no registered rep.
	Unregistered bool
	// Text searches subject, text and transcript: PostgreSQL full-text
	// search (web search syntax: "phrases", or, -word); a substring match
	// on SQLite.
	Text string
	// After continues a listing after the last item of the previous page.
	After *InboxCursor
	// Limit is the page size (50 when <= 0).
	Limit int
}

// InboxCursor is the position of an item in the inbox order: newest
// first by received time, then by id.
type InboxCursor struct {
	ReceivedAt time.Time
	ID         int64
}

// InboxItem is one line of the inbox.
type InboxItem struct {
	ID         int64          `db:"id"`
	Kind       string         `db:"kind"`
	State      string         `db:"state"`
	ReceivedAt time.Time      `db:"received_at"`
	Sender     string         `db:"sender"`
	RepID      sql.NullInt64  `db:"rep_id"`
	RepName    sql.NullString `db:"rep_name"`
	Subject    string         `db:"subject"`
	// Snippet is the start of the text or transcript.
	Snippet    string `db:"snippet"`
	AutoReason string `db:"auto_reason"`
	Points     int    `db:"points"`
	Tags       []Tag  `db:"-"`
	// Owners are the assigned owners; Untriaged counts those who have not
	// triaged the item yet.
	Owners    []string `db:"-"`
	Untriaged int      `db:"-"`
}

// Inbox lists items matching q, newest first, and the cursor of the next
// page (nil on the last page).
func (s *Store) Inbox(ctx context.Context, q InboxQuery) ([]InboxItem, *InboxCursor, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	where, args := s.inboxWhere(q)
	query := `select i.id, i.kind, i.state, i.received_at, i.sender, i.rep_id, r.name as rep_name, i.subject,
			substr(case when i.body_text <> '' then i.body_text else coalesce(i.transcript, '') end, 1, 160) as snippet,
			i.auto_reason, (select coalesce(sum(l.points), 0) from points_ledger l where l.item_id = i.id) as points
		from items i left join reps r on r.id = i.rep_id
		where ` + where + ` order by i.received_at desc, i.id desc limit ?`
	var items []InboxItem
	if err := s.db.SelectContext(ctx, &items, s.rebind(query), append(args, limit+1)...); err != nil {
		return nil, nil, fmt.Errorf("inbox: %w", err)
	}
	var next *InboxCursor
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = &InboxCursor{ReceivedAt: last.ReceivedAt, ID: last.ID}
	}
	if err := s.addInboxDetails(ctx, items); err != nil {
		return nil, nil, err
	}
	return items, next, nil
}

// inboxWhere builds the condition of an inbox query.
func (s *Store) inboxWhere(q InboxQuery) (string, []any) {
	conds := []string{"1 = 1"}
	var args []any
	for _, t := range [][2]string{{"category", q.Category}, {"competitor", q.Competitor}, {"product", q.Product}, {"topic", q.Topic}} {
		if t[1] != "" {
			conds = append(conds, `exists (select 1 from tags t where t.item_id = i.id and t.kind = ? and t.value = ?)`)
			args = append(args, t[0], t[1])
		}
	}
	if q.Owner != "" {
		conds = append(conds, `exists (select 1 from assignments a where a.item_id = i.id and a.owner = ?)`)
		args = append(args, q.Owner)
	}
	if q.State != "" {
		conds = append(conds, `i.state = ?`)
		args = append(args, q.State)
	}
	if q.Unregistered {
		conds = append(conds, `i.rep_id is null and i.sender <> '' and i.auto_reason = ''`)
	}
	if text := strings.TrimSpace(q.Text); text != "" {
		if s.dialect == Postgres {
			// The vectors the search indexer wrote.
			conds = append(conds, `i.id in (select item_id from item_search
				where doc @@ websearch_to_tsquery('english', ?))`)
			args = append(args, text)
		} else {
			// A substring match; quotes that mark a phrase in the
			// PostgreSQL syntax are dropped.
			text = strings.TrimSpace(strings.ReplaceAll(text, `"`, ""))
			like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text) + "%"
			conds = append(conds, `(i.subject like ? escape '\' or i.full_text like ? escape '\'
				or i.transcript like ? escape '\')`)
			args = append(args, like, like, like)
		}
	}
	if q.After != nil {
		conds = append(conds, `(i.received_at < ? or (i.received_at = ? and i.id < ?))`)
		at := ts(q.After.ReceivedAt)
		args = append(args, at, at, q.After.ID)
	}
	return strings.Join(conds, " and "), args
}

// addInboxDetails fills the tags and owners of a page of items.
func (s *Store) addInboxDetails(ctx context.Context, items []InboxItem) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	idx := make(map[int64]int, len(items))
	for i, it := range items {
		ids[i], idx[it.ID] = it.ID, i
	}
	q, args, err := sqlx.In(`select item_id, kind, value, evidence, origin from tags
		where item_id in (?) order by kind, value`, ids)
	if err != nil {
		return err
	}
	var tags []Tag
	if err := s.db.SelectContext(ctx, &tags, s.rebind(q), args...); err != nil {
		return fmt.Errorf("inbox tags: %w", err)
	}
	for _, t := range tags {
		items[idx[t.ItemID]].Tags = append(items[idx[t.ItemID]].Tags, t)
	}
	q, args, err = sqlx.In(`select item_id, owner, triaged_at from assignments where item_id in (?) order by id`, ids)
	if err != nil {
		return err
	}
	var owners []struct {
		ItemID    int64        `db:"item_id"`
		Owner     string       `db:"owner"`
		TriagedAt sql.NullTime `db:"triaged_at"`
	}
	if err := s.db.SelectContext(ctx, &owners, s.rebind(q), args...); err != nil {
		return fmt.Errorf("inbox owners: %w", err)
	}
	for _, o := range owners {
		it := &items[idx[o.ItemID]]
		it.Owners = append(it.Owners, o.Owner)
		if !o.TriagedAt.Valid {
			it.Untriaged++
		}
	}
	return nil
}

// TagValues lists the values in use per tag kind, for filters.
func (s *Store) TagValues(ctx context.Context) (map[string][]string, error) {
	var rows []struct {
		Kind  string `db:"kind"`
		Value string `db:"value"`
	}
	if err := s.db.SelectContext(ctx, &rows, `select distinct kind, value from tags order by kind, value`); err != nil {
		return nil, fmt.Errorf("tag values: %w", err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Kind] = append(out[r.Kind], r.Value)
	}
	return out, nil
}

// AssignedOwners lists the owners items are assigned to.
func (s *Store) AssignedOwners(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db.SelectContext(ctx, &out, `select distinct owner from assignments order by owner`); err != nil {
		return nil, fmt.Errorf("assigned owners: %w", err)
	}
	return out, nil
}

// ItemDetail is one item as the dashboard shows it, without its raw bytes.
type ItemDetail struct {
	ID             int64          `db:"id"`
	Kind           string         `db:"kind"`
	MessageID      string         `db:"message_id"`
	RawSize        int64          `db:"raw_size"`
	RawTruncated   bool           `db:"raw_truncated"`
	Meta           string         `db:"meta"`
	ReceivedAt     time.Time      `db:"received_at"`
	State          string         `db:"state"`
	Attempts       int            `db:"attempts"`
	LastError      string         `db:"last_error"`
	ProcessedAt    sql.NullTime   `db:"processed_at"`
	Sender         string         `db:"sender"`
	RepID          sql.NullInt64  `db:"rep_id"`
	RepName        sql.NullString `db:"rep_name"`
	Subject        string         `db:"subject"`
	BodyText       string         `db:"body_text"`
	DuplicateOf    sql.NullInt64  `db:"duplicate_of"`
	AutoReason     string         `db:"auto_reason"`
	Warnings       string         `db:"warnings"`
	Normalized     string         `db:"normalized"`
	Transcript     sql.NullString `db:"transcript"`
	Engine         string         `db:"transcript_engine"`
	TranscriptNote string         `db:"transcript_note"`
	Confidence     float64        `db:"transcript_confidence"`
	Awaiting       bool           `db:"awaiting_transcript"`
}

// ItemDetail returns one item for the dashboard.
func (s *Store) ItemDetail(ctx context.Context, id int64) (ItemDetail, error) {
	var d ItemDetail
	err := s.db.GetContext(ctx, &d, s.rebind(`select i.id, i.kind, i.message_id, i.raw_size, i.raw_truncated, i.meta,
			i.received_at, i.state, i.attempts, i.last_error, i.processed_at, i.sender, i.rep_id, r.name as rep_name,
			i.subject, i.body_text, i.duplicate_of, i.auto_reason, i.warnings, i.normalized, i.transcript,
			i.transcript_engine, i.transcript_note, i.transcript_confidence, i.awaiting_transcript
		from items i left join reps r on r.id = i.rep_id where i.id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("item %d: %w", id, err)
	}
	return d, nil
}

// RawSource is an item's bytes as received: an RFC 822 message or audio.
type RawSource struct {
	Kind       string    `db:"kind"`
	Meta       string    `db:"meta"`
	Raw        []byte    `db:"raw"`
	ReceivedAt time.Time `db:"received_at"`
}

// ItemRaw returns an item's raw bytes.
func (s *Store) ItemRaw(ctx context.Context, id int64) (RawSource, error) {
	var r RawSource
	err := s.db.GetContext(ctx, &r, s.rebind(`select kind, meta, raw, received_at from items where id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("item %d raw: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("item %d raw: %w", id, err)
	}
	return r, nil
}

// AssignmentState is an assignment with its notice and triage.
type AssignmentState struct {
	Owner      string       `db:"owner"`
	Route      string       `db:"route"`
	NotifiedAt sql.NullTime `db:"notified_at"`
	TriagedAt  sql.NullTime `db:"triaged_at"`
	TriagedBy  string       `db:"triaged_by"`
}

// ItemAssignments returns an item's assignments with their triage state.
func (s *Store) ItemAssignments(ctx context.Context, itemID int64) ([]AssignmentState, error) {
	var out []AssignmentState
	err := s.db.SelectContext(ctx, &out, s.rebind(`select owner, route, notified_at, triaged_at, triaged_by
		from assignments where item_id = ? order by id`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d assignments: %w", itemID, err)
	}
	return out, nil
}

// SetManagerTag tags an item on a manager's word (origin "manager:NAME"),
// or confirms a rule's tag so that processing again keeps it; it undoes
// an earlier removal of the same tag.
func (s *Store) SetManagerTag(ctx context.Context, itemID int64, kind, value, manager string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`insert into tags (item_id, kind, value, evidence, origin)
			values (?, ?, ?, '[]', ?) on conflict (item_id, kind, value) do update set origin = excluded.origin`),
			itemID, kind, value, "manager:"+manager)
		if err != nil {
			return fmt.Errorf("item %d: tag %s=%s: %w", itemID, kind, value, err)
		}
		return s.forgetRemoval(ctx, tx, itemID, "tag", kind, value)
	})
}

// RemoveTag removes a tag from an item on a manager's word. The removal
// is recorded: processing the item again does not bring the tag back.
func (s *Store) RemoveTag(ctx context.Context, itemID int64, kind, value, manager string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`delete from tags where item_id = ? and kind = ? and value = ?`),
			itemID, kind, value)
		if err != nil {
			return fmt.Errorf("item %d: remove tag %s=%s: %w", itemID, kind, value, err)
		}
		return s.recordRemoval(ctx, tx, itemID, "tag", kind, value, manager)
	})
}

// Assign adds an owner to an item on a manager's word; the route records
// who assigned it. It undoes an earlier removal of that owner.
func (s *Store) Assign(ctx context.Context, itemID int64, owner, manager string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`insert into assignments (item_id, owner, route, created_at)
			values (?, ?, ?, ?) on conflict (item_id, owner) do nothing`), itemID, owner, "manager:"+manager, ts(s.now()))
		if err != nil {
			return fmt.Errorf("item %d: assign %s: %w", itemID, owner, err)
		}
		return s.forgetRemoval(ctx, tx, itemID, "owner", "", owner)
	})
}

// Unassign removes an owner from an item on a manager's word. The removal
// is recorded: routing the item again does not assign that owner.
func (s *Store) Unassign(ctx context.Context, itemID int64, owner, manager string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`delete from assignments where item_id = ? and owner = ?`), itemID, owner)
		if err != nil {
			return fmt.Errorf("item %d: unassign %s: %w", itemID, owner, err)
		}
		return s.recordRemoval(ctx, tx, itemID, "owner", "", owner, manager)
	})
}

// recordRemoval remembers that manager removed a tag (what "tag", kind and
// value) or an owner (what "owner", value) from an item.
func (s *Store) recordRemoval(ctx context.Context, tx *sqlx.Tx, itemID int64, what, kind, value, manager string) error {
	_, err := tx.ExecContext(ctx, s.rebind(`insert into manager_removals (item_id, what, kind, value, actor, removed_at)
		values (?, ?, ?, ?, ?, ?) on conflict (item_id, what, kind, value) do update
		set actor = excluded.actor, removed_at = excluded.removed_at`),
		itemID, what, kind, value, manager, ts(s.now()))
	if err != nil {
		return fmt.Errorf("item %d: record the removal of %s %s: %w", itemID, what, value, err)
	}
	return nil
}

// forgetRemoval deletes the record of a removal that a manager undid.
func (s *Store) forgetRemoval(ctx context.Context, tx *sqlx.Tx, itemID int64, what, kind, value string) error {
	_, err := tx.ExecContext(ctx, s.rebind(`delete from manager_removals
		where item_id = ? and what = ? and kind = ? and value = ?`), itemID, what, kind, value)
	if err != nil {
		return fmt.Errorf("item %d: forget the removal of %s %s: %w", itemID, what, value, err)
	}
	return nil
}

// MarkTriaged records that manager triaged the item for owner, or for
// every owner not triaged yet when owner is empty. It returns how many
// assignments it marked.
func (s *Store) MarkTriaged(ctx context.Context, itemID int64, owner, manager string) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`update assignments set triaged_at = ?, triaged_by = ?
		where item_id = ? and triaged_at is null and (? = '' or owner = ?)`), ts(s.now()), manager, itemID, owner, owner)
	if err != nil {
		return 0, fmt.Errorf("item %d: mark triaged: %w", itemID, err)
	}
	return res.RowsAffected()
}

// ErrDuplicateAdjustment means the item already has an adjustment with the
// same reason.
var ErrDuplicateAdjustment = errors.New("the item already has an adjustment with this reason")

// AdjustItemPoints appends a manager's adjustment of an item's points to
// the ledger of the item's rep. It validates like AdjustPoints; an item
// takes one adjustment per reason, so a form sent twice pays once.
func (s *Store) AdjustItemPoints(ctx context.Context, itemID int64, e LedgerEntry) (LedgerEntry, error) {
	e, err := validAdjustment(e)
	if err != nil {
		return e, err
	}
	e.ItemID = sql.NullInt64{Int64: itemID, Valid: true}
	e.CreatedAt = ts(s.now())
	var rep sql.NullInt64
	if err := s.db.GetContext(ctx, &rep, s.rebind(`select rep_id from items where id = ?`), itemID); errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("adjust item %d: %w", itemID, ErrNotFound)
	} else if err != nil {
		return e, fmt.Errorf("adjust item %d: %w", itemID, err)
	}
	if !rep.Valid {
		return e, fmt.Errorf("adjust item %d: the sender is not a registered rep", itemID)
	}
	e.RepID = rep.Int64
	err = s.db.GetContext(ctx, &e.ID, s.rebind(`insert into points_ledger
		(rep_id, item_id, points, reason, month, actor, created_at) values (?, ?, ?, ?, ?, ?, ?)
		on conflict (item_id, reason) do nothing returning id`),
		e.RepID, itemID, e.Points, e.Reason, e.Month, e.Actor, e.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("adjust item %d: %w", itemID, ErrDuplicateAdjustment)
	}
	if err != nil {
		return e, fmt.Errorf("adjust item %d: %w", itemID, err)
	}
	return e, nil
}

// OutboxQuery pages the outbox, newest first.
type OutboxQuery struct {
	// State keeps one state (pending, sent, failed, suppressed).
	State string
	// BeforeID continues below the last id of the previous page.
	BeforeID int64
	// Limit is the page size (100 when <= 0).
	Limit int
}

// OutboxList lists outbox messages without their bodies.
func (s *Store) OutboxList(ctx context.Context, q OutboxQuery) ([]OutboxMessage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []OutboxMessage
	err := s.db.SelectContext(ctx, &out, s.rebind(`select id, item_id, kind, channel, recipient, subject, state,
			reason, attempts, next_attempt_at, claimed_by, last_error, provider_id, created_at, sent_at
		from outbox where (? = '' or state = ?) and (? = 0 or id < ?) order by id desc limit ?`),
		q.State, q.State, q.BeforeID, q.BeforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}

// Quarantined lists quarantined items, newest first, at most limit.
func (s *Store) Quarantined(ctx context.Context, limit int) ([]Item, error) {
	var out []Item
	err := s.db.SelectContext(ctx, &out, s.rebind(`select id, kind, message_id, received_at, state, attempts,
			next_attempt_at, last_error, sender, subject
		from items where state = 'quarantined' order by id desc limit ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	return out, nil
}

// WebSession is a signed-in dashboard user.
type WebSession struct {
	// TokenHash is the SHA-256 of the cookie's token, hex-encoded.
	TokenHash string `db:"token_hash"`
	Username  string `db:"username"`
	// CSRFToken is the session's form token.
	CSRFToken string `db:"csrf_token"`
	// Via is "password" or "header" (a trusted SSO proxy).
	Via       string    `db:"via"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// CreateSession stores a session and deletes expired ones.
func (s *Store) CreateSession(ctx context.Context, w WebSession) error {
	now := ts(s.now())
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.rebind(`delete from web_sessions where expires_at < ?`), now); err != nil {
			return fmt.Errorf("purge sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`insert into web_sessions
			(token_hash, username, csrf_token, via, created_at, expires_at) values (?, ?, ?, ?, ?, ?)`),
			w.TokenHash, w.Username, w.CSRFToken, w.Via, now, ts(w.ExpiresAt)); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return nil
	})
}

// Session returns the unexpired session with the token hash.
func (s *Store) Session(ctx context.Context, tokenHash string) (WebSession, error) {
	var w WebSession
	err := s.db.GetContext(ctx, &w, s.rebind(`select token_hash, username, csrf_token, via, created_at, expires_at
		from web_sessions where token_hash = ? and expires_at > ?`), tokenHash, ts(s.now()))
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("session: %w", err)
	}
	return w, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`delete from web_sessions where token_hash = ?`), tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
