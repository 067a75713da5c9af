package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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
//     ErrConflict, and the ack is then suppressed. A rep's first-intel
//     bonus of a month is paid once: a lock per rep and month, the same
//     ErrConflict (a unique index holds it too). All of a batch's locks
//     are taken at once, in the order of their hashes.
//  7. The outbox takes one message per (item, kind, recipient): a retry
//     enqueues nothing twice; an owner told at once is marked notified.
//  8. The item is queued for the search indexer in the same transaction,
//     before its locks (queueSearch).
//  9. The acks it enqueues are added to the ack tallies, which the caps
//     sum, in the same transaction; after the ledger, as the tallies' rows
//     are as hot as the reps' month totals.

//
// A batch of items completes in one transaction (CompleteBatch) with one
// statement per table for all of them. The invariants are checked per
// item, in the batch's order, against the database and against the items
// of the batch accepted before it, as if they had completed one at a time:
// an item that fails a check is left out with ErrConflict, and the rest
// are stored.

// Done is a claimed item's processing result, for CompleteBatch.
type Done struct {
	ID int64
	P  model.Processed
}

// Complete marks a claimed item processed and stores what processing
// found, all in one transaction, under the invariants above.
func (s *Store) Complete(ctx context.Context, id int64, worker string, p model.Processed) error {
	errs, err := s.CompleteBatch(ctx, worker, []Done{{ID: id, P: p}})
	if err != nil {
		return err
	}
	return errs[0]
}

// CompleteBatch stores the results of claimed items in one transaction,
// under the invariants above. It returns one error per item: nil when the
// item was stored, ErrNotClaimed or ErrConflict when it was left out
// (its result is to be stored, or processed again, alone). An error of
// its own means nothing was stored; it is ErrConflict when another
// transaction won a race for a unique row, and the items may then be
// completed one at a time.
func (s *Store) CompleteBatch(ctx context.Context, worker string, batch []Done) ([]error, error) {
	items := make([]doneItem, len(batch))
	for i, d := range batch {
		p := cleanProcessed(d.P)
		warn, err := jsonText(p.Warnings)
		if err != nil {
			return nil, err
		}
		norm, err := jsonText(p.Message)
		if err != nil {
			return nil, err
		}
		body, bodyLen := storedBody(p.BodyText, p.FullText)
		items[i] = doneItem{id: d.ID, p: p, warn: warn, norm: norm, body: body, bodyLen: bodyLen}
	}
	var errs []error
	err := conflict(s.inTx(ctx, func(tx *sqlx.Tx) error {
		errs = make([]error, len(items))
		// Search requests first, before any lock (queueSearch).
		ids := make([]int64, len(items))
		for i, it := range items {
			ids[i] = it.id
		}
		if err := s.queueSearch(ctx, tx, ids...); err != nil {
			return err
		}
		if err := s.lockNames(ctx, tx, lockNames(items)); err != nil {
			return err
		}
		b, err := s.loadBatch(ctx, tx, worker, items)
		if err != nil {
			return err
		}
		var kept []*doneItem
		for i := range items {
			it := &items[i]
			received, ok := b.received[it.id]
			if !ok {
				errs[i] = fmt.Errorf("complete item %d: %w", it.id, ErrNotClaimed)
				continue
			}
			it.received = received
			it.filter(b.removed[it.id])
			if err := s.checkItem(ctx, tx, b, kept, it); err != nil {
				if errors.Is(err, ErrConflict) {
					errs[i] = err
					continue
				}
				return err
			}
			kept = append(kept, it)
		}
		return s.writeBatch(ctx, tx, kept)
	}))
	if err != nil {
		return nil, err
	}
	for i := range items {
		if errs[i] == nil {
			s.keepOriginals(items[i].id, items[i].p.Outbox)
		}
	}
	return errs, nil
}

// keepOriginals keeps in memory the originals that item id's stored
// notices attach, for this store's outbox claims (originals).
func (s *Store) keepOriginals(id int64, msgs []model.OutboxMessage) {
	for _, m := range msgs {
		if m.Original.At > 0 && m.Original.Data != nil && (m.State == "" || m.State == model.OutboxPending) {
			s.originals.keep(id, m.Original.Data)
		}
	}
}

// doneItem is an item of a batch on its way into the database.
type doneItem struct {
	id int64
	p  model.Processed
	// received is when the item was received, read with its lock.
	received   time.Time
	warn, norm string
	// body and bodyLen are what the row keeps of the body (storedBody).
	body    string
	bodyLen int
}

// filter drops what a manager removed from the item: tags, owners and
// the owners' notices.
func (it *doneItem) filter(removed map[removal]bool) {
	if len(removed) == 0 {
		return
	}
	p := &it.p
	p.Tags = slices.DeleteFunc(slices.Clone(p.Tags), func(t model.Tag) bool {
		return removed[removal{"tag", string(t.Kind), t.Value}]
	})
	p.Assignments = slices.DeleteFunc(slices.Clone(p.Assignments), func(a model.Assignment) bool {
		return removed[removal{"owner", "", a.Owner}]
	})
	p.Outbox = slices.DeleteFunc(slices.Clone(p.Outbox), func(m model.OutboxMessage) bool {
		return m.Kind == model.OutboxOwnerNotice && removed[removal{"owner", "", m.Owner}]
	})
}

// lockNames are the locks a batch's checks need, each once: the first
// reports' competitors, the capped recipients, and the reps' months of a
// first-intel bonus.
func lockNames(items []doneItem) []string {
	var names []string
	for _, it := range items {
		for _, fr := range it.p.FirstReports {
			names = append(names, "first-report:"+strings.ToLower(fr.Competitor))
		}
		if c := it.p.AckCap; c != nil {
			names = append(names, "ack-cap:"+strings.ToLower(c.Recipient))
		}
		for _, e := range it.p.Ledger {
			if e.Reason == firstIntel {
				names = append(names, fmt.Sprintf("first-intel:%d:%s", e.RepID, e.Month))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// lockNames takes PostgreSQL advisory locks on names until tx ends, in
// one statement and in the order of their hashes, the order every
// transaction takes them in: two batches never wait for each other's.
// SQLite needs none: it has one writer, and its transactions begin
// immediate.
func (s *Store) lockNames(ctx context.Context, tx *sqlx.Tx, names []string) error {
	if s.dialect != Postgres || len(names) == 0 {
		return nil
	}
	for i := range names {
		names[i] = "earshot:" + names[i]
	}
	if _, err := s.hot.Exec(ctx, tx, `select count(pg_advisory_xact_lock(h)) from (
		select distinct hashtext(n) as h from unnest($1::text[]) as n order by h) l`, textArray(names)); err != nil {
		return fmt.Errorf("lock %s: %w", strings.Join(names, ", "), err)
	}
	return nil
}

// batchState is what a batch's checks and writes read of the database
// once for all its items.
type batchState struct {
	// received are the items still claimed by the worker, with the time
	// each was received.
	received map[int64]time.Time
	// removed is what managers removed, per item.
	removed map[int64]map[removal]bool
	// managerCompetitors are the competitor tags managers set, per item.
	managerCompetitors map[int64][]string
	// ackDays are the day tallies of the capped recipients' acks, per
	// recipient key, from the earliest quarter of an hour a cap counts
	// from.
	ackDays map[string][]quarterAcks
}

// quarterAcks are the acks tallied in one quarter of an hour.
type quarterAcks struct {
	Key     string `db:"key"`
	Quarter int64  `db:"quarter"`
	Acks    int    `db:"acks"`
}

// tallied sums the acks to key tallied from quarter on.
func (b batchState) tallied(key string, quarter int64) int {
	n := 0
	for _, q := range b.ackDays[key] {
		if q.Quarter >= quarter {
			n += q.Acks
		}
	}
	return n
}

// loadBatch locks the batch's items still claimed by worker and reads
// what managers changed on them.
func (s *Store) loadBatch(ctx context.Context, tx *sqlx.Tx, worker string, items []doneItem) (batchState, error) {
	b := batchState{received: map[int64]time.Time{}, removed: map[int64]map[removal]bool{},
		managerCompetitors: map[int64][]string{}}
	ids := make([]int64, len(items))
	firstReports := false
	for i, it := range items {
		ids[i] = it.id
		firstReports = firstReports || len(it.p.FirstReports) > 0
	}
	lock := ""
	if s.dialect == Postgres {
		lock = " order by id for update"
	}
	var rows []struct {
		ID         int64     `db:"id"`
		ReceivedAt time.Time `db:"received_at"`
	}
	if err := s.selectIDs(ctx, tx, &rows, `select id, received_at from items
		where id in (?) and claimed_by = ? and state = 'received'`+lock, ids, worker); err != nil {
		return b, fmt.Errorf("complete items: %w", err)
	}
	for _, r := range rows {
		b.received[r.ID] = r.ReceivedAt
	}
	var rem []struct {
		ItemID int64  `db:"item_id"`
		What   string `db:"what"`
		Kind   string `db:"kind"`
		Value  string `db:"value"`
	}
	if err := s.selectIDs(ctx, tx, &rem, `select item_id, what, kind, value from manager_removals
		where item_id in (?)`, ids); err != nil {
		return b, fmt.Errorf("complete items: removals: %w", err)
	}
	for _, r := range rem {
		if b.removed[r.ItemID] == nil {
			b.removed[r.ItemID] = map[removal]bool{}
		}
		b.removed[r.ItemID][removal{r.What, r.Kind, r.Value}] = true
	}
	if err := s.readAckDays(ctx, tx, &b, items); err != nil {
		return b, err
	}
	if firstReports {
		var tags []struct {
			ItemID int64  `db:"item_id"`
			Value  string `db:"value"`
		}
		if err := s.selectIDs(ctx, tx, &tags, `select item_id, value from tags
			where item_id in (?) and kind = 'competitor' and origin like 'manager%'`, ids); err != nil {
			return b, fmt.Errorf("complete items: manager tags: %w", err)
		}
		for _, t := range tags {
			b.managerCompetitors[t.ItemID] = append(b.managerCompetitors[t.ItemID], t.Value)
		}
	}
	return b, nil
}

// readAckDays reads the day tallies of the acks to the recipients the
// batch's items cap, from the earliest quarter of an hour one of their
// caps counts from: once for the batch, as the recipients' locks are held
// and nothing in the transaction changes a tally before the checks end.
func (s *Store) readAckDays(ctx context.Context, tx *sqlx.Tx, b *batchState, items []doneItem) error {
	var keys []string
	var from int64
	for _, it := range items {
		if c := it.p.AckCap; c != nil {
			if q := unixQuarter(c.Since); len(keys) == 0 || q < from {
				from = q
			}
			keys = append(keys, c.Recipient)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	q, args, err := s.listQuery(`select key, quarter, sum(acks) as acks from ack_day_tally
		where scope = 'recipient' and key in (?) and quarter >= ? group by key, quarter`, keys, "text", []any{from})
	if err != nil {
		return err
	}
	var rows []quarterAcks
	if err := tx.SelectContext(ctx, &rows, q, args...); err != nil {
		return fmt.Errorf("complete items: count acks: %w", err)
	}
	b.ackDays = map[string][]quarterAcks{}
	for _, r := range rows {
		b.ackDays[r.Key] = append(b.ackDays[r.Key], r)
	}
	return nil
}

// checkItem returns ErrConflict when storing it would break an invariant
// given the database and the batch's items accepted before it (kept):
// a first report of a competitor another item named meanwhile, an ack
// beyond its recipient's daily cap, or a second first-intel bonus of the
// rep's month.
func (s *Store) checkItem(ctx context.Context, tx *sqlx.Tx, b batchState, kept []*doneItem, it *doneItem) error {
	for _, fr := range it.p.FirstReports {
		if err := s.checkFirstReport(ctx, tx, b, kept, it.id, fr); err != nil {
			return err
		}
	}
	if c := it.p.AckCap; c != nil {
		if err := s.checkAckCap(ctx, tx, b, kept, it.id, *c); err != nil {
			return err
		}
	}
	for _, e := range it.p.Ledger {
		if e.Reason != firstIntel {
			continue
		}
		var paid bool
		if err := s.hot.Get(ctx, tx, &paid, `select exists (select 1 from points_ledger
			where rep_id = ? and month = ? and reason = ? and item_id <> ?)`, e.RepID, string(e.Month), e.Reason, it.id); err != nil {
			return fmt.Errorf("item %d: %w", it.id, err)
		}
		if paid {
			return fmt.Errorf("item %d: %w: the rep's %s of %s was paid meanwhile", it.id, ErrConflict, e.Reason, e.Month)
		}
		for _, k := range kept {
			for _, o := range k.p.Ledger {
				if o.Reason == e.Reason && o.RepID == e.RepID && o.Month == e.Month {
					return fmt.Errorf("item %d: %w: item %d paid the rep's %s of %s", it.id, ErrConflict, k.id, e.Reason, e.Month)
				}
			}
		}
	}
	return nil
}

// firstIntel is the ledger reason paid once per rep and month: batches
// that pay it take a lock per rep and month, and a unique index holds it.
const firstIntel = "bonus:first-intel-of-month"

// checkFirstReport returns ErrConflict when an item other than id,
// processed and received within fr's window, names fr.Competitor: in the
// database, or among the batch's items accepted before. Items naming the
// same competitor complete one at a time (an advisory lock on
// PostgreSQL; SQLite has one writer), so of two first reports racing,
// the second sees the first.
func (s *Store) checkFirstReport(ctx context.Context, tx *sqlx.Tx, b batchState, kept []*doneItem, id int64, fr model.FirstReport) error {
	found, err := s.competitorReported(ctx, tx, fr.Competitor, fr.Since, fr.Until, id)
	if err != nil {
		return fmt.Errorf("item %d: %w", id, err)
	}
	for _, k := range kept {
		if found {
			break
		}
		at := k.received
		if at.Before(fr.Since) || at.After(fr.Until) {
			continue
		}
		names := slices.Clone(b.managerCompetitors[k.id])
		for _, t := range k.p.Tags {
			if t.Kind == model.TagCompetitor {
				names = append(names, t.Value)
			}
		}
		found = slices.Contains(names, fr.Competitor)
	}
	if found {
		return fmt.Errorf("item %d: %w: another item reported %s meanwhile", id, ErrConflict, fr.Competitor)
	}
	return nil
}

// checkAckCap returns ErrConflict when acks to c.Recipient from items
// other than id, not suppressed, already fill the cap: in the database,
// and among the batch's items accepted before. Items acking one recipient
// complete one at a time (an advisory lock on PostgreSQL; SQLite has one
// writer).
func (s *Store) checkAckCap(ctx context.Context, tx *sqlx.Tx, b batchState, kept []*doneItem, id int64, c model.AckCap) error {
	// The batch's acks to the recipient that its write adds: a message
	// already enqueued and not suppressed is counted below and stays.
	var adds []int64
	for _, k := range kept {
		for _, m := range k.p.Outbox {
			if m.Kind == model.OutboxAck && m.State != model.OutboxSuppressed && outboxKey(m) == c.Recipient {
				adds = append(adds, k.id)
			}
		}
	}
	// The day's tally counts every ack since the quarter of an hour the
	// day starts in, the item's own included: with the batch's, a bound
	// on the exact count. Far from the cap, as almost always, it settles
	// the check without counting the outbox.
	if b.tallied(c.Recipient, unixQuarter(c.Since))+len(adds) < c.Max {
		return nil
	}
	n, err := s.acksSince(ctx, tx, c.Recipient, c.Since, id)
	if err != nil {
		return fmt.Errorf("item %d: %w", id, err)
	}
	if len(adds) > 0 {
		var counted int
		q, args, err := sqlx.In(`select count(*) from outbox where item_id in (?) and kind = 'ack'
			and recipient_key = ? and created_at >= ? and state <> 'suppressed'`, adds, c.Recipient, ts(c.Since))
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &counted, s.rebind(q), args...); err != nil {
			return fmt.Errorf("item %d: count acks to %s: %w", id, c.Recipient, err)
		}
		n += len(adds) - counted
	}
	if n >= c.Max {
		return fmt.Errorf("item %d: %w: acks to %s reached the daily cap of %d meanwhile", id, ErrConflict, c.Recipient, c.Max)
	}
	return nil
}

// writeBatch stores the accepted items of a batch, with one statement per
// table: the items' new state, their tags, assignments, messages, search
// queue entries, and last the ledger, whose totals trigger locks the
// reps' month rows until the commit.
func (s *Store) writeBatch(ctx context.Context, tx *sqlx.Tx, items []*doneItem) error {
	if len(items) == 0 {
		return nil
	}
	if err := s.updateItems(ctx, tx, items); err != nil {
		return err
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	if err := s.execIDs(ctx, tx, `delete from tags where item_id in (?) and origin not like 'manager%'`, ids); err != nil {
		return fmt.Errorf("complete items: replace tags: %w", err)
	}
	at := s.now()
	now := ts(at)
	var (
		tags                     tagRows
		assigned, outbox, ledger [][]any
	)
	// An owner told at once through an immediate notice is notified: a
	// new assignment is inserted notified, one stored before is marked.
	type owned struct {
		item  int64
		owner string
	}
	notified := map[owned]bool{}
	for _, it := range items {
		for _, m := range it.p.Outbox {
			if m.Kind == model.OutboxOwnerNotice && m.Owner != "" {
				notified[owned{it.id, m.Owner}] = true
			}
		}
	}
	for _, it := range items {
		for _, t := range it.p.Tags {
			ev, err := jsonText(t.Evidence)
			if err != nil {
				return err
			}
			tags.add(it.id, string(t.Kind), t.Value, ev, t.Origin, it.received)
		}
		for _, a := range it.p.Assignments {
			var told any // null: not notified
			if notified[owned{it.id, a.Owner}] {
				told = now
			}
			assigned = append(assigned, []any{it.id, a.Owner, a.Route, now, told})
		}
		outbox = s.outboxRows(outbox, it.id, it.p.Outbox, at)
		ledger = s.ledgerRows(ledger, it.id, it.p.Ledger)
	}
	if err := s.insertTags(ctx, tx, tags); err != nil {
		return fmt.Errorf("complete items: tags: %w", err)
	}
	if err := s.insertAssignments(ctx, tx, assigned, func(item int64, owner string) {
		delete(notified, owned{item, owner})
	}); err != nil {
		return fmt.Errorf("complete items: assignments: %w", err)
	}
	acked, err := s.insertOutbox(ctx, tx, outbox)
	if err != nil {
		return fmt.Errorf("complete items: enqueue messages: %w", err)
	}
	var told [][]any
	for o := range notified {
		told = append(told, []any{o.item, o.owner})
	}
	if err := s.markNotified(ctx, tx, told); err != nil {
		return err
	}
	// Last: the ledger's trigger locks the reps' month totals until the
	// commit, and items of one busy rep wait for each other on that lock.
	if err := s.insertLedger(ctx, tx, ledger); err != nil {
		return fmt.Errorf("complete items: points: %w", err)
	}
	// After the ledger, in the order every transaction takes hot rows in:
	// reps' month totals, then the ack tallies.
	open := 0
	for _, a := range acked {
		for _, it := range items {
			if it.id == a.item && it.p.Trust == model.TrustOpen {
				open++
			}
		}
	}
	return s.tallyAcks(ctx, tx, at, acked, open)
}

// updateItems marks the items processed with what processing found: one
// statement on PostgreSQL, one per item on SQLite (in process, where a
// statement costs no round trip).
func (s *Store) updateItems(ctx context.Context, tx *sqlx.Tx, items []*doneItem) error {
	now := ts(s.now())
	if s.dialect != Postgres {
		for _, it := range items {
			p := it.p
			if _, err := tx.ExecContext(ctx, `update items set state = 'processed', processed_at = ?,
				claimed_by = '', last_error = '', sender = ?, rep_id = ?, subject = ?, body_text = ?, body_len = nullif(?, -1),
				full_text = ?, auto_reason = ?, warnings = ?, normalized = ?, trust = ?, trust_reason = ? where id = ?`,
				now, p.Sender, nullID(p.RepID), p.Subject, it.body, it.bodyLen, p.FullText, p.AutoReason, it.warn, it.norm,
				string(p.Trust), p.TrustReason, it.id); err != nil {
				return fmt.Errorf("complete item %d: %w", it.id, err)
			}
		}
		return nil
	}
	n := len(items)
	var (
		ids    = make([]int64, n)
		reps   = make([]int64, n)
		sender = make([]string, n)
		subj   = make([]string, n)
		body   = make([]string, n)
		blen   = make([]int64, n)
		full   = make([]string, n)
		auto   = make([]string, n)
		warn   = make([]string, n)
		norm   = make([]string, n)
		trust  = make([]string, n)
		reason = make([]string, n)
	)
	for i, it := range items {
		p := it.p
		ids[i], reps[i], sender[i], subj[i], body[i], full[i] = it.id, p.RepID, p.Sender, p.Subject, it.body, p.FullText
		blen[i] = int64(it.bodyLen)
		auto[i], warn[i], norm[i], trust[i], reason[i] = p.AutoReason, it.warn, it.norm, string(p.Trust), p.TrustReason
	}
	_, err := s.hot.Exec(ctx, tx, `update items i set state = 'processed', processed_at = $1,
		claimed_by = '', last_error = '', sender = v.sender, rep_id = nullif(v.rep_id, 0), subject = v.subject,
		body_text = v.body_text, body_len = nullif(v.body_len, -1), full_text = v.full_text, auto_reason = v.auto_reason,
		warnings = v.warnings::jsonb, normalized = v.normalized::jsonb, trust = v.trust, trust_reason = v.trust_reason
		from unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[],
			$10::text[], $11::text[], $12::text[], $13::text[])
			as v(id, rep_id, sender, subject, body_text, body_len, full_text, auto_reason, warnings, normalized, trust,
				trust_reason)
		where i.id = v.id`, now, pq.Array(ids), pq.Array(reps), textArray(sender), textArray(subj), textArray(body),
		pq.Array(blen), textArray(full), textArray(auto), textArray(warn), textArray(norm), textArray(trust), textArray(reason))
	if err != nil {
		return fmt.Errorf("complete items: %w", err)
	}
	return nil
}

// insertAssignments inserts a batch's assignments (item, owner, route,
// created, notified or nil), leaving those stored already; inserted is
// called with each one inserted. On PostgreSQL it is one prepared
// statement, each column an array (insertOutboxPostgres).
func (s *Store) insertAssignments(ctx context.Context, tx *sqlx.Tx, rows [][]any, inserted func(item int64, owner string)) error {
	if len(rows) == 0 {
		return nil
	}
	const conflict = "on conflict (item_id, owner) do nothing returning item_id, owner"
	if s.dialect != Postgres {
		return s.insertRowsReturning(ctx, tx, "assignments", []string{"item_id", "owner", "route", "created_at", "notified_at"}, rows,
			conflict, func(r *sqlx.Rows) error {
				var (
					item  int64
					owner string
				)
				if err := r.Scan(&item, &owner); err != nil {
					return err
				}
				inserted(item, owner)
				return nil
			})
	}
	n := len(rows)
	items, owners, routes, created := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	notified := make([]sql.NullString, n)
	for i, r := range rows {
		items[i], owners[i], routes[i] = r[0].(int64), r[1].(string), r[2].(string)
		created[i] = r[3].(time.Time).Format(time.RFC3339Nano)
		if t, ok := r[4].(time.Time); ok {
			notified[i] = sql.NullString{String: t.Format(time.RFC3339Nano), Valid: true}
		}
	}
	var got []struct {
		Item  int64  `db:"item_id"`
		Owner string `db:"owner"`
	}
	if err := s.hot.Select(ctx, tx, &got, `insert into assignments (item_id, owner, route, created_at, notified_at)
		select v.item_id, v.owner, v.route, v.created_at, v.notified_at
		from unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
			with ordinality as v(item_id, owner, route, created_at, notified_at, n)
		order by v.n
		`+conflict, pq.Array(items), textArray(owners), textArray(routes), pq.Array(created), pq.Array(notified)); err != nil {
		return err
	}
	for _, g := range got {
		inserted(g.Item, g.Owner)
	}
	return nil
}

// tagRows are a batch's tags, a slice per column.
type tagRows struct {
	items                         []int64
	kinds, values, evidence, from []string
	// received are the items' received_at.
	received []time.Time
}

func (r *tagRows) add(item int64, kind, value, evidence, origin string, received time.Time) {
	r.items = append(r.items, item)
	r.kinds = append(r.kinds, kind)
	r.values = append(r.values, value)
	r.evidence = append(r.evidence, evidence)
	r.from = append(r.from, origin)
	r.received = append(r.received, ts(received))
}

// insertTags inserts a batch's tags, leaving those stored already. On
// PostgreSQL they go as an array per column to one prepared statement: as
// rows of a multi-row insert, the nine or so tags of each of 20 items made
// a statement of about 900 parameters, parsed and planned at every batch,
// for nearly twice the server's CPU of the arrays.
func (s *Store) insertTags(ctx context.Context, tx *sqlx.Tx, r tagRows) error {
	if len(r.items) == 0 {
		return nil
	}
	if s.dialect == Postgres {
		received := make([]string, len(r.received))
		for i, t := range r.received {
			received[i] = t.Format(time.RFC3339Nano)
		}
		_, err := s.hot.Exec(ctx, tx, `insert into tags (item_id, kind, value, evidence, origin, received_at)
			select v.item_id, v.kind, v.value, v.evidence::jsonb, v.origin, v.received_at
			from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
				as v(item_id, kind, value, evidence, origin, received_at)
			on conflict (item_id, kind, value) do nothing`,
			pq.Array(r.items), textArray(r.kinds), textArray(r.values), textArray(r.evidence), textArray(r.from),
			pq.Array(received))
		return err
	}
	rows := make([][]any, len(r.items))
	for i := range rows {
		rows[i] = []any{r.items[i], r.kinds[i], r.values[i], r.evidence[i], r.from[i], r.received[i]}
	}
	return s.insertRows(ctx, tx, "tags", []string{"item_id", "kind", "value", "evidence", "origin", "received_at"}, rows,
		"on conflict (item_id, kind, value) do nothing")
}

// markNotified sets notified_at on the (item, owner) assignments given.
func (s *Store) markNotified(ctx context.Context, tx *sqlx.Tx, pairs [][]any) error {
	if len(pairs) == 0 {
		return nil
	}
	var b strings.Builder
	args := []any{ts(s.now())}
	b.WriteString(`update assignments set notified_at = ? where notified_at is null and (`)
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("(item_id = ? and owner = ?)")
		args = append(args, p...)
	}
	b.WriteString(")")
	if _, err := tx.ExecContext(ctx, s.rebind(b.String()), args...); err != nil {
		return fmt.Errorf("complete items: mark owners notified: %w", err)
	}
	return nil
}

// removal is what a manager removed from an item: a tag (kind, value) or
// an owner (value).
type removal struct{ what, kind, value string }

// lockName takes the PostgreSQL advisory lock on one name until tx ends
// (lockNames).
func (s *Store) lockName(ctx context.Context, tx *sqlx.Tx, name string) error {
	return s.lockNames(ctx, tx, []string{name})
}
