package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/model"
)

// The dashboard's reads: the inbox, one item in full, the outbox and the
// quarantine.

// InboxQuery filters and pages the item inbox. Empty fields match all.
type InboxQuery struct {
	// Category, Competitor, Product and Topic match tags of that kind.
	Category, Competitor, Product, Topic string
	// Owner matches items assigned to that owner.
	Owner string
	// State keeps items in one state.
	State model.ItemState
	// Unregistered keeps the items that wait for a manager: from a
	// stranger or a sender whose claim to be a rep did not verify, not
	// machine-generated, and not reviewed yet.
	Unregistered bool
	// Trust keeps the items of one trust (spam, say).
	Trust model.Trust
	// Listen keeps the listen queue: items whose transcript may be wrong,
	// until a manager corrects it.
	Listen bool
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

// InboxItem is one line of the inbox: the item (without its bytes and
// text) and what the line shows of it.
type InboxItem struct {
	model.Item
	// RepName is the contributing rep's name; empty for no rep.
	RepName string
	// Snippet is the start of the text or transcript.
	Snippet string
	Points  int
	Tags    []model.Tag
	// Owners are the assigned owners; Untriaged counts those who have not
	// triaged the item yet.
	Owners    []string
	Untriaged int
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
			substr(coalesce(nullif(` + bodyTextOfI + `, ''), i.transcript, ''), 1, 160) as snippet,
			i.auto_reason, i.trust, i.trust_reason, i.transcript_unreliable,
			(select coalesce(sum(l.points), 0) from points_ledger l where l.item_id = i.id) as points
		from items i left join reps r on r.id = i.rep_id
		where ` + where + ` order by i.received_at desc, i.id desc limit ?`
	var rows []struct {
		itemRow
		RepName sql.NullString `db:"rep_name"`
		Snippet string         `db:"snippet"`
		Points  int            `db:"points"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(query), append(args, limit+1)...); err != nil {
		return nil, nil, fmt.Errorf("inbox: %w", err)
	}
	items := make([]InboxItem, len(rows))
	for i, r := range rows {
		items[i] = InboxItem{Item: r.item(), RepName: r.RepName.String, Snippet: r.Snippet, Points: r.Points}
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
		// Items processed before trust was kept have none: a sender who
		// is no rep waits as well.
		conds = append(conds, `(i.trust in ('stranger', 'unverified') or (i.trust = '' and i.rep_id is null and i.sender <> ''))
			and i.auto_reason = '' and not exists (select 1 from item_reviews v where v.item_id = i.id)`)
	}
	if q.Listen {
		conds = append(conds, `i.transcript_unreliable <> ''`)
	}
	if q.Trust != "" {
		conds = append(conds, `i.trust = ?`)
		args = append(args, string(q.Trust))
	}
	if text := strings.TrimSpace(q.Text); text != "" {
		if s.dialect == Postgres {
			// The vectors the search indexer wrote, matched by a query
			// built by the same tokenizer (textsearch.go). A search of
			// nothing but stop words finds nothing.
			if tq := tsqueryOf(text); tq == "" {
				conds = append(conds, `false`)
			} else {
				conds = append(conds, `i.id in (select item_id from item_search where doc @@ ?::tsquery)`)
				args = append(args, tq)
			}
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
	var tags []tagRow
	if err := s.db.SelectContext(ctx, &tags, s.rebind(q), args...); err != nil {
		return fmt.Errorf("inbox tags: %w", err)
	}
	for _, t := range tags {
		items[idx[t.ItemID]].Tags = append(items[idx[t.ItemID]].Tags, t.tag())
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

// ItemDetail is one item as the dashboard shows it, without its raw
// bytes: the item (with the item it duplicates), its rep's name, what
// processing understood of it, and its transcript's details.
type ItemDetail struct {
	model.Item
	RepName string
	Message model.Message
	// Transcription describes the transcript (its text is Item.Transcript).
	Transcription model.Transcript
}

// ItemDetail returns one item for the dashboard.
func (s *Store) ItemDetail(ctx context.Context, id int64) (ItemDetail, error) {
	var r struct {
		itemRow
		RepName    sql.NullString `db:"rep_name"`
		Normalized string         `db:"normalized"`
		Engine     string         `db:"transcript_engine"`
		Note       string         `db:"transcript_note"`
		Confidence float64        `db:"transcript_confidence"`
		Awaiting   bool           `db:"awaiting_transcript"`
	}
	err := s.db.GetContext(ctx, &r, s.rebind(`select i.id, i.kind, i.message_id, i.raw_size, i.raw_truncated, i.meta,
			i.received_at, i.state, i.attempts, i.last_error, i.processed_at, i.sender, i.rep_id, r.name as rep_name,
			i.subject, `+bodyTextOfI+` as body_text, i.duplicate_of, i.auto_reason, i.warnings, i.normalized, i.transcript,
			i.transcript_engine, i.transcript_note, i.transcript_confidence, i.transcript_unreliable,
			i.awaiting_transcript, i.trust, i.trust_reason
		from items i left join reps r on r.id = i.rep_id where i.id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return ItemDetail{}, fmt.Errorf("item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return ItemDetail{}, fmt.Errorf("item %d: %w", id, err)
	}
	d := ItemDetail{Item: r.item(), RepName: r.RepName.String,
		Transcription: model.Transcript{Text: r.Transcript.String, Engine: r.Engine, Note: r.Note,
			Confidence: r.Confidence, Unreliable: r.Unreliable, Awaiting: r.Awaiting}}
	if r.Normalized != "" {
		// A message stored before its shape changed shows what still reads.
		_ = json.Unmarshal([]byte(r.Normalized), &d.Message)
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

// AssignmentState is an assignment with its notice and triage; the times
// are zero until they happen.
type AssignmentState struct {
	Owner      string
	Route      string
	NotifiedAt time.Time
	TriagedAt  time.Time
	TriagedBy  string
}

// ItemAssignments returns an item's assignments with their triage state.
func (s *Store) ItemAssignments(ctx context.Context, itemID int64) ([]AssignmentState, error) {
	var rows []struct {
		Owner      string       `db:"owner"`
		Route      string       `db:"route"`
		NotifiedAt sql.NullTime `db:"notified_at"`
		TriagedAt  sql.NullTime `db:"triaged_at"`
		TriagedBy  string       `db:"triaged_by"`
	}
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select owner, route, notified_at, triaged_at, triaged_by
		from assignments where item_id = ? order by id`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d assignments: %w", itemID, err)
	}
	out := make([]AssignmentState, len(rows))
	for i, r := range rows {
		out[i] = AssignmentState{Owner: r.Owner, Route: r.Route, NotifiedAt: r.NotifiedAt.Time,
			TriagedAt: r.TriagedAt.Time, TriagedBy: r.TriagedBy}
	}
	return out, nil
}

// OutboxQuery pages the outbox, newest first.
type OutboxQuery struct {
	// State keeps one state.
	State model.OutboxState
	// BeforeID continues below the last id of the previous page.
	BeforeID int64
	// Limit is the page size (100 when <= 0).
	Limit int
}

// OutboxList lists outbox messages without their bodies.
func (s *Store) OutboxList(ctx context.Context, q OutboxQuery) ([]model.OutboxMessage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var rows []outboxRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select id, item_id, kind, channel, recipient, subject, state,
			reason, attempts, next_attempt_at, claimed_by, last_error, provider_id, created_at, sent_at
		from outbox where (? = '' or state = ?) and (? = 0 or id < ?) order by id desc limit ?`),
		q.State, q.State, q.BeforeID, q.BeforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return messages(rows), nil
}

// Quarantined lists quarantined items, newest first, at most limit.
func (s *Store) Quarantined(ctx context.Context, limit int) ([]model.Item, error) {
	var rows []itemRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select id, kind, message_id, received_at, state, attempts,
			next_attempt_at, last_error, sender, subject
		from items where state = 'quarantined' order by id desc limit ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	return items(rows), nil
}
