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

// A manager's edits of an item: tags, owners, triage and points. What a
// manager removes is recorded, so that processing the item again keeps it
// removed (see complete.go).

// SetManagerTag tags an item on a manager's word (origin "manager:NAME"),
// or confirms a rule's tag so that processing again keeps it; it undoes
// an earlier removal of the same tag.
func (s *Store) SetManagerTag(ctx context.Context, itemID int64, kind, value, manager string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`insert into tags (item_id, kind, value, evidence, origin, received_at)
			values (?, ?, ?, '[]', ?, (select received_at from items where id = ?))
			on conflict (item_id, kind, value) do update set origin = excluded.origin`),
			itemID, kind, value, "manager:"+manager, itemID)
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
		if err := s.waitForCompletion(ctx, tx, itemID); err != nil {
			return err
		}
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
		if err := s.waitForCompletion(ctx, tx, itemID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.rebind(`delete from assignments where item_id = ? and owner = ?`), itemID, owner)
		if err != nil {
			return fmt.Errorf("item %d: unassign %s: %w", itemID, owner, err)
		}
		return s.recordRemoval(ctx, tx, itemID, "owner", "", owner, manager)
	})
}

// waitForCompletion waits, on PostgreSQL, for a completion of the item
// that holds it (complete.go locks a batch's items for update) before a
// removal touches the item's tags or owners. The removal's record would
// wait for it anyway, for its foreign key check, but by then the removal
// holds the row it deleted, which the completion's replacement of the
// tags and owners must lock: each would wait for the other. Locked first,
// the item makes the removal follow the completion (and undo what it set
// again), or the completion follow the removal (and read its record).
func (s *Store) waitForCompletion(ctx context.Context, tx *sqlx.Tx, itemID int64) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `select id from items where id = $1 for key share`, itemID); err != nil {
		return fmt.Errorf("item %d: %w", itemID, err)
	}
	return nil
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
func (s *Store) AdjustItemPoints(ctx context.Context, itemID int64, e model.LedgerEntry) (model.LedgerEntry, error) {
	e, err := validAdjustment(e)
	if err != nil {
		return e, err
	}
	e.ItemID = itemID
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
		e.RepID, itemID, e.Points, e.Reason, string(e.Month), e.Actor, e.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("adjust item %d: %w", itemID, ErrDuplicateAdjustment)
	}
	if err != nil {
		return e, fmt.Errorf("adjust item %d: %w", itemID, err)
	}
	return e, nil
}

// ReviewItem records a manager's verdict on an item that waited for one
// (see model.Review) and makes the item due again, so that processing
// applies it: a credited item earns its rep's points (and an ack, when
// asked for); a dismissed one leaves the queue. A later verdict replaces
// an earlier one. A worker holding the item loses its claim, so that its
// result, computed before the verdict, is not stored.
func (s *Store) ReviewItem(ctx context.Context, r model.Review) error {
	if r.Verdict != model.ReviewCredit && r.Verdict != model.ReviewDismiss {
		return fmt.Errorf("review item %d: unknown verdict %q", r.ItemID, r.Verdict)
	}
	if r.Verdict == model.ReviewCredit && r.RepID == 0 {
		return fmt.Errorf("review item %d: a credit names a rep", r.ItemID)
	}
	if strings.TrimSpace(r.Actor) == "" {
		return fmt.Errorf("review item %d: the reviewing manager is required", r.ItemID)
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`insert into item_reviews (item_id, verdict, rep_id, send_ack, actor, reviewed_at)
			values (?, ?, ?, ?, ?, ?) on conflict (item_id) do update set verdict = excluded.verdict,
			rep_id = excluded.rep_id, send_ack = excluded.send_ack, actor = excluded.actor, reviewed_at = excluded.reviewed_at`),
			r.ItemID, r.Verdict, nullID(r.RepID), r.SendAck, r.Actor, ts(s.now()))
		if err != nil {
			return fmt.Errorf("review item %d: %w", r.ItemID, conflictOrMissing(err))
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`update items set state = 'received', attempts = 0, claimed_by = '',
			next_attempt_at = ? where id = ?`), ts(s.now()), r.ItemID); err != nil {
			return fmt.Errorf("review item %d: %w", r.ItemID, err)
		}
		return nil
	})
}

// ItemReview returns the manager's verdict on an item; ok is false when
// there is none.
func (s *Store) ItemReview(ctx context.Context, itemID int64) (r model.Review, ok bool, err error) {
	var row reviewRow
	err = s.hot.Get(ctx, nil, &row, `select `+reviewCols+` from item_reviews where item_id = ?`, itemID)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Review{}, false, nil
	}
	if err != nil {
		return model.Review{}, false, fmt.Errorf("item %d review: %w", itemID, err)
	}
	return row.review(), true, nil
}

// reviewRow is an item_reviews row as the database holds it.
type reviewRow struct {
	ItemID     int64         `db:"item_id"`
	Verdict    string        `db:"verdict"`
	RepID      sql.NullInt64 `db:"rep_id"`
	SendAck    bool          `db:"send_ack"`
	Actor      string        `db:"actor"`
	ReviewedAt time.Time     `db:"reviewed_at"`
}

const reviewCols = `item_id, verdict, rep_id, send_ack, actor, reviewed_at`

func (r reviewRow) review() model.Review {
	return model.Review{ItemID: r.ItemID, Verdict: r.Verdict, RepID: r.RepID.Int64, SendAck: r.SendAck,
		Actor: r.Actor, ReviewedAt: r.ReviewedAt}
}

// conflictOrMissing names a foreign key that points nowhere (no such
// item or rep) as ErrNotFound.
func conflictOrMissing(err error) error {
	if isForeignKey(err) {
		return errors.Join(ErrNotFound, err)
	}
	return err
}
