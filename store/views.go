package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Views for owners and reps: an owner's queue, a product's or a
// competitor's items and trend, a rep's own contributions.

// QueueItem is an assignment in an owner's queue with the item's status.
type QueueItem struct {
	ItemID     int64        `db:"item_id"`
	Subject    string       `db:"subject"`
	Kind       string       `db:"kind"`
	RepName    string       `db:"rep_name"`
	AssignedAt time.Time    `db:"assigned_at"`
	TriagedAt  sql.NullTime `db:"triaged_at"`
	Status     string       `db:"status"`
	Note       string       `db:"note"`
}

// OwnerQueue lists an owner's assignments: untriaged (new) first, oldest
// first, then the rest by their latest decision.
func (s *Store) OwnerQueue(ctx context.Context, owner string, limit int) ([]QueueItem, error) {
	var out []QueueItem
	err := s.db.SelectContext(ctx, &out, s.rebind(`select a.item_id, i.subject, i.kind, coalesce(r.name, '') as rep_name,
			a.created_at as assigned_at, a.triaged_at,
			coalesce(st.status, case when a.triaged_at is not null then 'triaged' else 'new' end) as status,
			coalesce(st.note, '') as note
		from assignments a join items i on i.id = a.item_id
		left join reps r on r.id = i.rep_id
		left join item_status st on st.item_id = a.item_id
		where a.owner = ?
		order by case when st.status is null and a.triaged_at is null then 0
			when coalesce(st.status, 'triaged') = 'triaged' then 1 else 2 end,
			a.created_at, a.item_id
		limit ?`), owner, limitOr(limit, 500))
	if err != nil {
		return nil, fmt.Errorf("queue of %s: %w", owner, err)
	}
	return out, nil
}

// TagItem is an item carrying a tag.
type TagItem struct {
	ID         int64     `db:"id"`
	Subject    string    `db:"subject"`
	Kind       string    `db:"kind"`
	ReceivedAt time.Time `db:"received_at"`
	RepName    string    `db:"rep_name"`
	Status     string    `db:"status"`
	Text       string    `db:"body_text"`
}

// TagItems lists the processed items tagged kind=value received in [from,
// to), newest first.
func (s *Store) TagItems(ctx context.Context, kind, value string, from, to time.Time, limit int) ([]TagItem, error) {
	var out []TagItem
	err := s.db.SelectContext(ctx, &out, s.rebind(`select i.id, i.subject, i.kind, i.received_at, coalesce(r.name, '') as rep_name,
			coalesce(st.status, 'new') as status, `+bodyTextOfI+` as body_text
		from tags t join items i on i.id = t.item_id
		left join reps r on r.id = i.rep_id
		left join item_status st on st.item_id = i.id
		where t.kind = ? and lower(t.value) = lower(?) and i.state = 'processed' and i.received_at >= ? and i.received_at < ?
		order by i.received_at desc, i.id desc limit ?`), kind, value, ts(from), ts(to), limitOr(limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("items of %s %s: %w", kind, value, err)
	}
	return out, nil
}

// TagTimes returns the received times of the processed items tagged
// kind=value since from, for a trend.
func (s *Store) TagTimes(ctx context.Context, kind, value string, from time.Time) ([]time.Time, error) {
	var out []time.Time
	err := s.db.SelectContext(ctx, &out, s.rebind(`select i.received_at from tags t join items i on i.id = t.item_id
		where t.kind = ? and lower(t.value) = lower(?) and i.state = 'processed' and i.received_at >= ?`), kind, value, ts(from))
	if err != nil {
		return nil, fmt.Errorf("trend of %s %s: %w", kind, value, err)
	}
	return out, nil
}

// TopicCount is a topic and how many items carry it.
type TopicCount struct {
	Topic string `db:"value"`
	N     int    `db:"n"`
}

// TopTopics counts the topics of the items tagged kind=value received in
// [from, to), most frequent first.
func (s *Store) TopTopics(ctx context.Context, kind, value string, from, to time.Time, limit int) ([]TopicCount, error) {
	var out []TopicCount
	err := s.db.SelectContext(ctx, &out, s.rebind(`select t2.value, count(*) as n
		from tags t join items i on i.id = t.item_id join tags t2 on t2.item_id = i.id and t2.kind = 'topic'
		where t.kind = ? and lower(t.value) = lower(?) and i.state = 'processed' and i.received_at >= ? and i.received_at < ?
		group by t2.value order by n desc, t2.value limit ?`), kind, value, ts(from), ts(to), limitOr(limit, 10))
	if err != nil {
		return nil, fmt.Errorf("topics of %s %s: %w", kind, value, err)
	}
	return out, nil
}

// RepItem is one of a rep's contributions as the rep's own page shows it.
type RepItem struct {
	ID          int64         `db:"id"`
	Subject     string        `db:"subject"`
	Kind        string        `db:"kind"`
	ReceivedAt  time.Time     `db:"received_at"`
	Status      string        `db:"status"`
	Note        string        `db:"note"`
	DuplicateOf sql.NullInt64 `db:"duplicate_of"`
	Points      int           `db:"points"`
}

// RepItems lists a rep's processed items, newest first, with their
// status and points.
func (s *Store) RepItems(ctx context.Context, repID int64, limit int) ([]RepItem, error) {
	var out []RepItem
	err := s.db.SelectContext(ctx, &out, s.rebind(`select i.id, i.subject, i.kind, i.received_at,
			coalesce(st.status, 'new') as status, coalesce(st.note, '') as note, st.duplicate_of,
			coalesce((select sum(l.points) from points_ledger l where l.item_id = i.id and l.rep_id = i.rep_id), 0) as points
		from items i left join item_status st on st.item_id = i.id
		where i.rep_id = ? and i.state = 'processed'
		order by i.received_at desc, i.id desc limit ?`), repID, limitOr(limit, 200))
	if err != nil {
		return nil, fmt.Errorf("items of rep %d: %w", repID, err)
	}
	return out, nil
}

// RevokeRepLinks makes every link to the rep's page issued until now stop
// opening.
func (s *Store) RevokeRepLinks(ctx context.Context, repID int64, actor string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`insert into rep_link_revocations (rep_id, revoked_before, actor) values (?, ?, ?)
		on conflict (rep_id) do update set revoked_before = excluded.revoked_before, actor = excluded.actor`),
		repID, ts(s.now()), actor)
	if isForeignKey(err) {
		return fmt.Errorf("rep %d: %w", repID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke links of rep %d: %w", repID, err)
	}
	return nil
}

// RepLinksRevokedBefore returns the time before which the rep's links
// were revoked; zero when they never were.
func (s *Store) RepLinksRevokedBefore(ctx context.Context, repID int64) (time.Time, error) {
	var t time.Time
	err := s.db.GetContext(ctx, &t, s.rebind(`select revoked_before from rep_link_revocations where rep_id = ?`), repID)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("links of rep %d: %w", repID, err)
	}
	return t, nil
}
