package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/model"
)

// Scheduled mail and triage: an owner's hourly or daily digest, the SLA
// reminder, the monthly manager digest, and marking assignments triaged.
// Each scheduled message is enqueued in the transaction that records it
// (notified_at, reminded_at, a schedule_runs row), so no replica and no
// restart sends one twice, and a crash never marks one it did not enqueue.

// Compose renders the one message about a list of assignments. It runs
// inside the store's transaction and must not use the store.
type Compose func(due []model.DueAssignment) (model.OutboxMessage, error)

// DigestRun is one owner digest.
type DigestRun struct {
	// Owner is the owner's name.
	Owner string
	// Email is where the digest goes: an item whose owner notice was
	// already enqueued to it counts as notified.
	Email string
	// Period keys the run, e.g. "2026-03-03" or "2026-03-03T17:00Z": an
	// owner gets one digest per period.
	Period string
	// Limit caps the items of one digest (200 when <= 0); the others wait
	// for the next period.
	Limit int
}

// ScheduleDigest is the schedule_runs name of an owner's digests.
func ScheduleDigest(owner string) string { return "digest:" + owner }

// EnqueueDigest runs an owner's digest for run.Period unless that period
// ran already: it takes the owner's assignments that are neither notified
// nor triaged, oldest first, enqueues compose's message about them and
// marks them notified, all in one transaction. A period with nothing to
// say is recorded too, so an item arriving later waits for the next
// period. It returns how many assignments the digest holds.
func (s *Store) EnqueueDigest(ctx context.Context, run DigestRun, compose Compose) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		n = 0
		first, err := s.recordRun(ctx, tx, ScheduleDigest(run.Owner), run.Period)
		if err != nil || !first {
			return err
		}
		// Plain FOR UPDATE: a reminder holding some of these rows is
		// waited for, not skipped, so the digest misses none.
		lock := ""
		if s.dialect == Postgres {
			lock = " for update"
		}
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, s.rebind(`select a.id from assignments a
			where a.owner = ? and a.triaged_at is null and a.notified_at is null
			and not exists (select 1 from outbox o where o.item_id = a.item_id
				and o.kind = 'owner_notice' and o.recipient = ?)
			order by a.created_at, a.id limit ?`+lock), run.Owner, run.Email, limitOr(run.Limit, 200)); err != nil {
			return fmt.Errorf("select: %w", err)
		}
		n = len(ids)
		return s.enqueueAbout(ctx, tx, ids, "notified_at", compose)
	})
	if err != nil {
		return 0, fmt.Errorf("digest %s %s: %w", run.Owner, run.Period, err)
	}
	return n, nil
}

// EnqueueReminder reminds an owner once of the assignments made at or
// before due that are neither triaged nor reminded yet (at most limit,
// 200 when <= 0, oldest first): it enqueues compose's message about them
// and marks them reminded in one transaction. On PostgreSQL rows another
// transaction holds are skipped, so two replicas never remind of the
// same assignment. It returns how many assignments the reminder holds.
func (s *Store) EnqueueReminder(ctx context.Context, owner string, due time.Time, limit int, compose Compose) (int, error) {
	lock := ""
	if s.dialect == Postgres {
		lock = " for update skip locked"
	}
	var n int
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, s.rebind(`select id from assignments
			where owner = ? and triaged_at is null and reminded_at is null and created_at <= ?
			order by created_at, id limit ?`+lock), owner, ts(due), limitOr(limit, 200)); err != nil {
			return fmt.Errorf("select: %w", err)
		}
		n = len(ids)
		return s.enqueueAbout(ctx, tx, ids, "reminded_at", compose)
	})
	if err != nil {
		return 0, fmt.Errorf("reminder to %s: %w", owner, err)
	}
	return n, nil
}

// enqueueAbout loads the assignments ids, enqueues compose's message
// about them and sets their column mark (notified_at or reminded_at).
func (s *Store) enqueueAbout(ctx context.Context, tx *sqlx.Tx, ids []int64, mark string, compose Compose) error {
	if len(ids) == 0 {
		return nil
	}
	q, args, err := sqlx.In(`select a.id as assignment_id, a.owner, a.created_at as assigned_at,
			i.id, i.kind, i.received_at, i.subject, `+bodyTextOfI+` as body_text, i.transcript, i.transcript_unreliable
		from assignments a join items i on i.id = a.item_id
		where a.id in (?) order by a.created_at, a.id`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		AssignmentID int64     `db:"assignment_id"`
		Owner        string    `db:"owner"`
		AssignedAt   time.Time `db:"assigned_at"`
		itemRow
	}
	if err := tx.SelectContext(ctx, &rows, s.rebind(q), args...); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	due := make([]model.DueAssignment, len(rows))
	items := make([]*model.TaggedItem, len(rows))
	for i, r := range rows {
		due[i] = model.DueAssignment{AssignmentID: r.AssignmentID, Owner: r.Owner, AssignedAt: r.AssignedAt,
			TaggedItem: model.TaggedItem{Item: r.item()}}
		items[i] = &due[i].TaggedItem
	}
	if err := s.loadTags(ctx, tx, items); err != nil {
		return err
	}
	m, err := compose(due)
	if err != nil {
		return err
	}
	if err := s.writeOutbox(ctx, tx, 0, []model.OutboxMessage{m}); err != nil {
		return err
	}
	q, args, err = sqlx.In(`update assignments set `+mark+` = ? where id in (?)`, ts(s.now()), ids)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(q), args...); err != nil {
		return fmt.Errorf("mark %s: %w", mark, err)
	}
	return nil
}

// loadTags fills the tags of items.
func (s *Store) loadTags(ctx context.Context, q sqlx.QueryerContext, items []*model.TaggedItem) error {
	if len(items) == 0 {
		return nil
	}
	byID := map[int64][]*model.TaggedItem{}
	var ids []int64
	for _, it := range items {
		if byID[it.ID] == nil {
			ids = append(ids, it.ID)
		}
		byID[it.ID] = append(byID[it.ID], it)
	}
	query, args, err := sqlx.In(`select item_id, kind, value, evidence, origin from tags
		where item_id in (?) order by item_id, kind, value`, ids)
	if err != nil {
		return err
	}
	var tags []tagRow
	if err := sqlx.SelectContext(ctx, q, &tags, s.rebind(query), args...); err != nil {
		return fmt.Errorf("load tags: %w", err)
	}
	for _, t := range tags {
		for _, it := range byID[t.ItemID] {
			it.Tags = append(it.Tags, t.tag())
		}
	}
	return nil
}

// recordRun records the run of name for period and reports whether this
// transaction is the first to: on PostgreSQL a concurrent transaction
// recording the same run waits for this one and then finds it recorded.
func (s *Store) recordRun(ctx context.Context, tx *sqlx.Tx, name, period string) (bool, error) {
	res, err := tx.ExecContext(ctx, s.rebind(`insert into schedule_runs (name, period, ran_at) values (?, ?, ?)
		on conflict (name, period) do nothing`), name, period, ts(s.now()))
	if err != nil {
		return false, fmt.Errorf("record run: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record run: %w", err)
	}
	return n == 1, nil
}

// EnqueueOnce enqueues msgs as the run of name for period, e.g.
// ("manager-digest", "2026-02"), unless that run happened already on this
// or another replica: then it enqueues nothing and returns false.
func (s *Store) EnqueueOnce(ctx context.Context, name, period string, msgs []model.OutboxMessage) (bool, error) {
	var first bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if first, err = s.recordRun(ctx, tx, name, period); err != nil || !first {
			return err
		}
		return s.writeOutbox(ctx, tx, 0, msgs)
	})
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", name, period, err)
	}
	return first, nil
}

// ScheduleRan reports whether the run of name for period happened.
func (s *Store) ScheduleRan(ctx context.Context, name, period string) (bool, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.rebind(`select count(*) from schedule_runs where name = ? and period = ?`),
		name, period)
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", name, period, err)
	}
	return n > 0, nil
}

// PruneScheduleRuns forgets the runs recorded before a time and returns
// how many it deleted.
func (s *Store) PruneScheduleRuns(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`delete from schedule_runs where ran_at < ?`), ts(before))
	if err != nil {
		return 0, fmt.Errorf("prune schedule runs: %w", err)
	}
	return res.RowsAffected()
}

// NotableIntel returns the processed intel received in [from, to) that is
// no duplicate nor machine-generated, the items that earned the most
// points first (then the earliest), at most limit (10 when <= 0).
func (s *Store) NotableIntel(ctx context.Context, from, to time.Time, limit int) ([]model.TaggedItem, error) {
	var rows []itemRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select i.id, i.kind, i.received_at, i.subject,
			`+bodyTextOfI+` as body_text, i.transcript
		from items i
		where i.received_at >= ? and i.received_at < ? and i.state = 'processed'
		and i.duplicate_of is null and i.auto_reason = ''
		and exists (select 1 from tags t where t.item_id = i.id and t.kind = 'category' and t.value = 'intel')
		order by coalesce((select sum(l.points) from points_ledger l where l.item_id = i.id), 0) desc,
			i.received_at, i.id
		limit ?`), ts(from), ts(to), limitOr(limit, 10))
	if err != nil {
		return nil, fmt.Errorf("notable intel: %w", err)
	}
	out := make([]model.TaggedItem, len(rows))
	items := make([]*model.TaggedItem, len(rows))
	for i, r := range rows {
		out[i] = model.TaggedItem{Item: r.item()}
		items[i] = &out[i]
	}
	if err := s.loadTags(ctx, s.db, items); err != nil {
		return nil, fmt.Errorf("notable intel: %w", err)
	}
	return out, nil
}

// Triaged is one assignment marked triaged.
type Triaged struct {
	ItemID int64  `db:"item_id"`
	Owner  string `db:"owner"`
}

// TriageAssignments marks the untriaged assignments of the items triaged
// by who, only those of owner when owner is not empty, and returns the
// ones it marked by item and owner. Assignments triaged before keep their
// time and triager.
func (s *Store) TriageAssignments(ctx context.Context, itemIDs []int64, owner, who string) ([]Triaged, error) {
	if len(itemIDs) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`update assignments set triaged_at = ?, triaged_by = ?
		where item_id in (?) and triaged_at is null and (? = '' or owner = ?)
		returning item_id, owner`, ts(s.now()), who, itemIDs, owner, owner)
	if err != nil {
		return nil, err
	}
	var out []Triaged
	if err := s.db.SelectContext(ctx, &out, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("triage: %w", err)
	}
	slices.SortFunc(out, func(a, b Triaged) int {
		return cmp.Or(cmp.Compare(a.ItemID, b.ItemID), strings.Compare(a.Owner, b.Owner))
	})
	return out, nil
}

// OpenAssignment is an assignment waiting for triage; NotifiedAt and
// RemindedAt are zero until the owner is told or reminded.
type OpenAssignment struct {
	ItemID     int64
	Owner      string
	Route      string
	AssignedAt time.Time
	NotifiedAt time.Time
	RemindedAt time.Time
	Kind       model.ItemKind
	Subject    string
	ReceivedAt time.Time
}

// UntriagedAssignments lists the assignments not triaged yet, of one owner
// when owner is not empty, oldest first, at most limit (all when <= 0).
func (s *Store) UntriagedAssignments(ctx context.Context, owner string, limit int) ([]OpenAssignment, error) {
	q := `select a.item_id, a.owner, a.route, a.created_at as assigned_at, a.notified_at, a.reminded_at,
			i.kind, i.subject, i.received_at
		from assignments a join items i on i.id = a.item_id
		where a.triaged_at is null and (? = '' or a.owner = ?)
		order by a.created_at, a.id`
	args := []any{owner, owner}
	if limit > 0 {
		q += ` limit ?`
		args = append(args, limit)
	}
	var rows []struct {
		ItemID     int64        `db:"item_id"`
		Owner      string       `db:"owner"`
		Route      string       `db:"route"`
		AssignedAt time.Time    `db:"assigned_at"`
		NotifiedAt sql.NullTime `db:"notified_at"`
		RemindedAt sql.NullTime `db:"reminded_at"`
		Kind       string       `db:"kind"`
		Subject    string       `db:"subject"`
		ReceivedAt time.Time    `db:"received_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("untriaged assignments: %w", err)
	}
	out := make([]OpenAssignment, len(rows))
	for i, r := range rows {
		out[i] = OpenAssignment{ItemID: r.ItemID, Owner: r.Owner, Route: r.Route, AssignedAt: r.AssignedAt,
			NotifiedAt: r.NotifiedAt.Time, RemindedAt: r.RemindedAt.Time, Kind: model.ItemKind(r.Kind),
			Subject: r.Subject, ReceivedAt: r.ReceivedAt}
	}
	return out, nil
}

func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
