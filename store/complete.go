package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/model"
)

// Completion: an item's processing result is stored with its new state in
// one transaction, which holds these invariants whatever runs at the same
// time on this or another replica:
//
//  1. Only the worker that holds the item's claim completes it
//     (ErrNotClaimed otherwise: its lease ran out, or a new receipt made it
//     due again, and the result is the next worker's to store).
//  2. Rule tags are replaced, a manager's tags are kept, and what a
//     manager removed (tags, owners and the owners' notices) stays removed.
//  3. Assignments are added, never dropped: an owner's triage survives
//     processing again.
//  4. The ledger pays each (item, reason) once, however often the item is
//     processed; it is written last, because its totals trigger locks the
//     rep's month row until the commit.
//  5. A competitor's first-report bonus is paid once: items naming the same
//     competitor complete one at a time (an advisory lock on PostgreSQL;
//     SQLite has one writer), and a result whose competitor another item
//     reported meanwhile is refused with ErrConflict and scored again.
//  6. The daily cap on acks to one recipient holds when items of that
//     recipient complete at once: the same lock per recipient, the same
//     ErrConflict, and the ack is then suppressed. Locks are taken in one
//     order (competitors by name, then the recipient).
//  7. The outbox takes one message per (item, kind, recipient): a retry
//     enqueues nothing twice; an owner told at once is marked notified.
//  8. The item is queued for the search indexer in the same transaction.

// Complete marks a claimed item processed and stores what processing
// found, all in one transaction, under the invariants above.
func (s *Store) Complete(ctx context.Context, id int64, worker string, p model.Processed) error {
	p = cleanProcessed(p)
	warn, err := jsonText(p.Warnings)
	if err != nil {
		return err
	}
	norm, err := jsonText(p.Message)
	if err != nil {
		return err
	}
	return conflict(s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`update items set state = 'processed', processed_at = ?,
			claimed_by = '', last_error = '', sender = ?, rep_id = ?, subject = ?, body_text = ?, full_text = ?,
			auto_reason = ?, warnings = ?, normalized = ?, trust = ?, trust_reason = ?
			where id = ? and claimed_by = ? and state = 'received'`),
			ts(s.now()), p.Sender, nullID(p.RepID), p.Subject, p.BodyText, p.FullText, p.AutoReason, warn, norm,
			string(p.Trust), p.TrustReason, id, worker)
		if err != nil {
			return fmt.Errorf("complete item %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("complete item %d: %w", id, ErrNotClaimed)
		}
		// Locks in one order (competitors by name, then the recipient):
		// two items never wait for each other's.
		reports := slices.Clone(p.FirstReports)
		slices.SortFunc(reports, func(a, b model.FirstReport) int {
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
func (s *Store) checkFirstReport(ctx context.Context, tx *sqlx.Tx, id int64, fr model.FirstReport) error {
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
func (s *Store) checkAckCap(ctx context.Context, tx *sqlx.Tx, id int64, c model.AckCap) error {
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

func (s *Store) writeResults(ctx context.Context, tx *sqlx.Tx, id int64, p model.Processed) error {
	if _, err := tx.ExecContext(ctx, s.rebind(`delete from tags where item_id = ? and origin not like 'manager%'`), id); err != nil {
		return fmt.Errorf("item %d: replace tags: %w", id, err)
	}
	removed, err := s.removals(ctx, tx, id)
	if err != nil {
		return err
	}
	tags := make([][]any, 0, len(p.Tags))
	for _, t := range p.Tags {
		if removed[removal{"tag", string(t.Kind), t.Value}] {
			continue
		}
		ev, err := jsonText(t.Evidence)
		if err != nil {
			return err
		}
		tags = append(tags, []any{id, string(t.Kind), t.Value, ev, t.Origin})
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
			if m.Kind == model.OutboxOwnerNotice && removed[removal{"owner", "", m.Owner}] {
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
		if m.Kind == model.OutboxOwnerNotice && m.Owner != "" {
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
