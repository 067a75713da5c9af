package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/model"
)

// Decisions: an owner's status on an item, its history, and what a change
// pays and sends. A change is one transaction: the event, the current
// status, the quality points (once per item and status, through the
// ledger's unique (item, reason)), the rep's status note under the daily
// cap shared with acks, and the webhook deliveries.

// StatusEffects is what a status change pays and sends, decided by the
// caller before the change and written with it.
type StatusEffects struct {
	// Ledger entries are appended once per (item, reason).
	Ledger []model.LedgerEntry
	// Outbox messages (the rep's note, webhook deliveries) are enqueued
	// with the change.
	Outbox []model.OutboxMessage
	// NoteCap, when set, is the daily cap the rep's note is held to: a
	// note over it is stored suppressed with the reason.
	NoteCap *model.AckCap
}

// ErrStatusChanged is returned when the item's status is no longer the
// one the change was planned against: plan it again.
var ErrStatusChanged = fmt.Errorf("%w: the item's status changed meanwhile", ErrConflict)

// ItemStatus returns an item's current decision. An item without one is
// triaged when an owner marked an assignment triaged, else new.
func (s *Store) ItemStatus(ctx context.Context, itemID int64) (model.ItemStatus, error) {
	out, err := s.itemStatuses(ctx, s.db, []int64{itemID})
	if err != nil {
		return model.ItemStatus{}, err
	}
	return out[itemID], nil
}

// ItemStatuses returns the current decision of each of ids.
func (s *Store) ItemStatuses(ctx context.Context, ids []int64) (map[int64]model.ItemStatus, error) {
	return s.itemStatuses(ctx, s.db, ids)
}

func (s *Store) itemStatuses(ctx context.Context, q sqlx.QueryerContext, ids []int64) (map[int64]model.ItemStatus, error) {
	out := make(map[int64]model.ItemStatus, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	for _, id := range ids {
		out[id] = model.ItemStatus{Status: model.StatusNew}
	}
	var rows []struct {
		ItemID      int64         `db:"item_id"`
		Status      string        `db:"status"`
		DuplicateOf sql.NullInt64 `db:"duplicate_of"`
		Note        string        `db:"note"`
		Actor       string        `db:"actor"`
		Via         string        `db:"via"`
		ChangedAt   time.Time     `db:"changed_at"`
	}
	query, args, err := sqlx.In(`select item_id, status, duplicate_of, note, actor, via, changed_at
		from item_status where item_id in (?)
		union all
		select a.item_id, 'triaged', null, '', max(a.triaged_by), 'dashboard', max(a.triaged_at)
		from assignments a where a.item_id in (?) and a.triaged_at is not null
			and not exists (select 1 from item_status x where x.item_id = a.item_id)
		group by a.item_id`, ids, ids)
	if err != nil {
		return nil, err
	}
	if err := sqlx.SelectContext(ctx, q, &rows, s.rebind(query), args...); err != nil {
		return nil, fmt.Errorf("item statuses: %w", err)
	}
	for _, r := range rows {
		out[r.ItemID] = model.ItemStatus{Status: model.Status(r.Status), DuplicateOf: r.DuplicateOf.Int64, Note: r.Note,
			Actor: r.Actor, Via: r.Via, ChangedAt: r.ChangedAt}
	}
	return out, nil
}

// StatusHistory returns an item's status changes, oldest first.
func (s *Store) StatusHistory(ctx context.Context, itemID int64) ([]model.StatusEvent, error) {
	var rows []statusEventRow
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`select `+statusEventCols+` from status_events
		where item_id = ? order by id`), itemID); err != nil {
		return nil, fmt.Errorf("item %d status history: %w", itemID, err)
	}
	out := make([]model.StatusEvent, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, nil
}

// StatusFromSource reports whether the reply mail sourceItemID already
// changed a status.
func (s *Store) StatusFromSource(ctx context.Context, sourceItemID int64) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, s.rebind(`select count(*) from status_events where source_item_id = ?`), sourceItemID); err != nil {
		return false, fmt.Errorf("status from item %d: %w", sourceItemID, err)
	}
	return n > 0, nil
}

const statusEventCols = `id, item_id, status, previous, duplicate_of, note, actor, via, created_at`

type statusEventRow struct {
	ID          int64         `db:"id"`
	ItemID      int64         `db:"item_id"`
	Status      string        `db:"status"`
	Previous    string        `db:"previous"`
	DuplicateOf sql.NullInt64 `db:"duplicate_of"`
	Note        string        `db:"note"`
	Actor       string        `db:"actor"`
	Via         string        `db:"via"`
	CreatedAt   time.Time     `db:"created_at"`
}

func (r statusEventRow) event() model.StatusEvent {
	return model.StatusEvent{ID: r.ID, ItemID: r.ItemID, Status: model.Status(r.Status), Previous: model.Status(r.Previous),
		DuplicateOf: r.DuplicateOf.Int64, Note: r.Note, Actor: r.Actor, Via: r.Via, CreatedAt: r.CreatedAt}
}

// SetStatus records a status change planned against the status prev,
// with its effects, in one transaction. It returns ErrStatusChanged when
// the item's status is no longer prev, ErrNotFound for an unknown item or
// duplicate, and (zero event, false) when the change's reply mail already
// made a change.
func (s *Store) SetStatus(ctx context.Context, c model.StatusChange, prev model.Status, fx StatusEffects) (model.StatusEvent, bool, error) {
	if !c.Status.Valid() {
		return model.StatusEvent{}, false, fmt.Errorf("unknown status %q", c.Status)
	}
	if c.Status == model.StatusDuplicate && (c.DuplicateOf == 0 || c.DuplicateOf == c.ItemID) {
		return model.StatusEvent{}, false, fmt.Errorf("item %d: a duplicate names another item", c.ItemID)
	}
	if c.Status != model.StatusDuplicate {
		c.DuplicateOf = 0
	}
	var ev model.StatusEvent
	applied := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.itemStatuses(ctx, tx, []int64{c.ItemID})
		if err != nil {
			return err
		}
		if cur[c.ItemID].Status != prev {
			return ErrStatusChanged
		}
		now := ts(s.now())
		var id int64
		err = tx.GetContext(ctx, &id, s.rebind(`insert into status_events (item_id, status, previous, duplicate_of, note,
				actor, via, source_item_id, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)
			on conflict (source_item_id) do nothing returning id`),
			c.ItemID, string(c.Status), string(prev), nullID(c.DuplicateOf), c.Note, c.Actor, c.Via, nullID(c.SourceItemID), now)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the reply made its change before
		}
		if err != nil {
			if isForeignKey(err) {
				return fmt.Errorf("item %d or %d: %w", c.ItemID, c.DuplicateOf, ErrNotFound)
			}
			return fmt.Errorf("item %d: record status: %w", c.ItemID, err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`insert into item_status (item_id, status, duplicate_of, note, actor, via, changed_at)
			values (?, ?, ?, ?, ?, ?, ?)
			on conflict (item_id) do update set status = excluded.status, duplicate_of = excluded.duplicate_of,
				note = excluded.note, actor = excluded.actor, via = excluded.via, changed_at = excluded.changed_at`),
			c.ItemID, string(c.Status), nullID(c.DuplicateOf), c.Note, c.Actor, c.Via, now); err != nil {
			return fmt.Errorf("item %d: set status: %w", c.ItemID, err)
		}
		ev = model.StatusEvent{ID: id, ItemID: c.ItemID, Status: c.Status, Previous: prev, DuplicateOf: c.DuplicateOf,
			Note: c.Note, Actor: c.Actor, Via: c.Via, CreatedAt: now}
		applied = true
		if err := s.enqueueStatus(ctx, tx, id, fx); err != nil {
			return err
		}
		// Last, as in completion: the totals trigger locks the rep's month.
		if len(fx.Ledger) > 0 {
			return s.writeLedger(ctx, tx, c.ItemID, fx.Ledger)
		}
		return nil
	})
	if err != nil {
		return model.StatusEvent{}, false, err
	}
	return ev, applied, nil
}

// enqueueStatus writes a change's outbox messages, tied to its event. The
// rep's note is held to the daily cap it shares with acks: items and
// changes acking one recipient write one at a time (the same lock as
// completion's on PostgreSQL; SQLite has one writer).
func (s *Store) enqueueStatus(ctx context.Context, tx *sqlx.Tx, eventID int64, fx StatusEffects) error {
	for _, m := range fx.Outbox {
		state, reason := m.State, m.Reason
		if state == "" {
			state = model.OutboxPending
		}
		key := m.RecipientKey
		if key == "" {
			key = strings.ToLower(strings.TrimSpace(m.Recipient))
		}
		if m.Kind == model.OutboxStatusNote && state == model.OutboxPending && fx.NoteCap != nil {
			if err := s.lockName(ctx, tx, "ack-cap:"+strings.ToLower(key)); err != nil {
				return err
			}
			var n int
			if err := tx.GetContext(ctx, &n, s.rebind(`select count(*) from outbox
				where kind in ('ack', 'status_note') and recipient_key = ? and created_at >= ? and state <> 'suppressed'`),
				key, ts(fx.NoteCap.Since)); err != nil {
				return fmt.Errorf("count messages to %s: %w", key, err)
			}
			if n >= fx.NoteCap.Max {
				state, reason = model.OutboxSuppressed, fmt.Sprintf("daily cap of %d reached", fx.NoteCap.Max)
			}
		}
		_, domain, _ := strings.Cut(key, "@")
		body := m.Body
		if body == nil {
			body = []byte{}
		}
		now := ts(s.now())
		if _, err := tx.ExecContext(ctx, s.rebind(`insert into outbox (item_id, kind, channel, recipient, recipient_key,
				recipient_domain, subject, body, state, reason, next_attempt_at, created_at, status_event_id)
			values (null, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			string(m.Kind), string(m.Channel), m.Recipient, key, domain, m.Subject, body, string(state), reason,
			now, now, eventID); err != nil {
			return fmt.Errorf("enqueue %s to %s: %w", m.Kind, m.Recipient, err)
		}
	}
	return nil
}

// StatusOutbox returns the messages enqueued for an item's status
// changes, in order.
func (s *Store) StatusOutbox(ctx context.Context, itemID int64) ([]model.OutboxMessage, error) {
	var rows []outboxRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select `+prefixed("o.", outboxCols)+` from outbox o
		join status_events e on e.id = o.status_event_id where e.item_id = ? order by o.id`), itemID)
	if err != nil {
		return nil, fmt.Errorf("item %d status messages: %w", itemID, err)
	}
	return messages(rows), nil
}

// prefixed qualifies a comma-separated column list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// RepStatusCounts counts a rep's items per current status whose decision
// was made since a time (e.g. shipped this quarter).
func (s *Store) RepStatusCounts(ctx context.Context, repID int64, since time.Time) (map[model.Status]int, error) {
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`select st.status, count(*) as n from item_status st
		join items i on i.id = st.item_id where i.rep_id = ? and st.changed_at >= ? group by st.status`),
		repID, ts(since)); err != nil {
		return nil, fmt.Errorf("rep %d statuses: %w", repID, err)
	}
	out := map[model.Status]int{}
	for _, r := range rows {
		out[model.Status(r.Status)] = r.N
	}
	return out, nil
}

// QualityPoints returns each rep's quality points (ledger reasons
// starting with prefix) in a month.
func (s *Store) QualityPoints(ctx context.Context, month model.Month, prefix string) (map[int64]int, error) {
	var rows []struct {
		RepID  int64 `db:"rep_id"`
		Points int   `db:"points"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`select rep_id, sum(points) as points from points_ledger
		where month = ? and reason like ? group by rep_id`), string(month), prefix+"%"); err != nil {
		return nil, fmt.Errorf("quality points of %s: %w", month, err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.RepID] = r.Points
	}
	return out, nil
}

// AppSecret returns the secret named name, made of n random bytes by
// gen the first time any replica asks.
func (s *Store) AppSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := s.db.GetContext(ctx, &v, s.rebind(`select value from app_secrets where name = ?`), name)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	fresh, err := gen()
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(`insert into app_secrets (name, value) values (?, ?)
		on conflict (name) do nothing`), name, fresh); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	// Another replica may have won the insert: read what is stored.
	if err := s.db.GetContext(ctx, &v, s.rebind(`select value from app_secrets where name = ?`), name); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return v, nil
}

// ReplayOutbox makes a failed message (a dead letter) pending again, due
// now, with its attempts counted from zero.
func (s *Store) ReplayOutbox(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`update outbox set state = 'pending', attempts = 0, claimed_by = '',
		next_attempt_at = ? where id = ? and state = 'failed'`), ts(s.now()), id)
	if err != nil {
		return fmt.Errorf("replay outbox %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("replay outbox %d: %w", id, ErrNotFound)
	}
	return nil
}
