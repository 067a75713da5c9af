package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/earshot-dev/earshot/model"
)

// AwardReads is what the awards of a batch of items read of the database,
// read once for the whole batch: the reps, their month's ledger by
// reason, their decided items, and every rep's total of the month (for
// the ranks). It answers as the store's own reads would have at the time
// it was read, for the reps and the month it holds; a question about
// anything else it cannot answer (ok is false), and the caller asks the
// store. What the batch's items write is not in it: callers count that
// themselves, as they do over the store's reads.
type AwardReads struct {
	Month model.Month
	// StatusSince is the time the decided items are counted from.
	StatusSince time.Time

	// asked are the reps it was read for.
	asked map[int64]bool
	reps  map[int64]model.Rep
	// totals are the points of every rep with a total this month.
	totals map[int64]int64
	// allTime are the reps' points ever.
	allTime map[int64]int64
	// reasons are the reps' ledger entries this month, by reason, as
	// rep_month_reasons counts them.
	reasons map[int64]map[string]reasonCount
	// statuses are the reps' items by current status decided since
	// StatusSince.
	statuses map[int64]map[model.Status]int
	// reported answers the first-report questions it was read for.
	reported map[reportKey]bool
	// acks answers the caps' questions it was read for; nil when it was
	// not asked.
	acks *ackReads
}

// AckWindow asks ReadAwards for what the caps of a batch's acks count:
// the acks since Day to each of Keys and to each of Domains, and all
// acks since Hour (model.AckQuery).
type AckWindow struct {
	Keys, Domains []string
	Day, Hour     time.Time
}

// ackReads are the ack counts of an AckWindow, by quarter and minute as
// the tallies key them.
type ackReads struct {
	quarter, minute     int64
	recipients, domains map[string]int
	hour, open          int
}

// reportKey is a ReportQuery as a map key: its times as instants.
type reportKey struct {
	competitor   string
	since, until int64
	except       int64
}

func (q ReportQuery) key() reportKey {
	return reportKey{q.Competitor, q.Since.UnixNano(), q.Until.UnixNano(), q.Except}
}

// ReportQuery is a question of CompetitorReported: is Competitor named
// by a processed item other than Except, received from Since to Until?
type ReportQuery struct {
	Competitor   string
	Since, Until time.Time
	Except       int64
}

// reasonCount summarizes a rep's ledger entries of one reason in a month.
// An item is paid a reason once, so entries with an item name distinct
// items.
type reasonCount struct {
	RepID    int64  `db:"rep_id"`
	Reason   string `db:"reason"`
	N        int    `db:"n"`
	WithItem int    `db:"with_item"`
	MinItem  int64  `db:"min_item"`
}

// ReadAwards reads what the awards of the given reps' items in month
// read, with the decided items counted since statusSince, and the
// answers to the first-report questions reports.
func (s *Store) ReadAwards(ctx context.Context, month model.Month, reps []int64, statusSince time.Time,
	reports []ReportQuery, acks *AckWindow) (*AwardReads, error) {
	r := &AwardReads{Month: month, StatusSince: statusSince, asked: map[int64]bool{}, reps: map[int64]model.Rep{},
		totals: map[int64]int64{}, allTime: map[int64]int64{}, reasons: map[int64]map[string]reasonCount{},
		statuses: map[int64]map[model.Status]int{}}
	fail := func(what string, err error) (*AwardReads, error) {
		return nil, fmt.Errorf("award reads of %d reps in %s: %s: %w", len(reps), month, what, err)
	}
	var err error
	if r.reported, err = s.readReports(ctx, reports); err != nil {
		return fail("first reports", err)
	}
	if acks != nil {
		if r.acks, err = s.readAcks(ctx, *acks); err != nil {
			return fail("ack counts", err)
		}
	}
	if len(reps) == 0 {
		return r, nil
	}
	var totals []struct {
		RepID  int64 `db:"rep_id"`
		Points int64 `db:"points"`
	}
	if err := s.hot.Select(ctx, nil, &totals, `select rep_id, points from rep_month_totals where month = ?`,
		string(month)); err != nil {
		return fail("totals", err)
	}
	for _, t := range totals {
		r.totals[t.RepID] = t.Points
	}
	var allTime []struct {
		RepID  int64 `db:"rep_id"`
		Points int64 `db:"points"`
	}
	if err := s.selectIDs(ctx, nil, &allTime, `select rep_id, coalesce(sum(points), 0) as points
		from rep_month_totals where rep_id in (?) group by rep_id`, reps); err != nil {
		return fail("all-time totals", err)
	}
	for _, t := range allTime {
		r.allTime[t.RepID] = t.Points
	}
	var reasons []reasonCount
	if err := s.selectIDs(ctx, nil, &reasons, `select rep_id, reason, entries as n, with_item,
			coalesce(min_item, 0) as min_item
		from rep_month_reasons where rep_id in (?) and month = ?`, reps, string(month)); err != nil {
		return fail("ledger", err)
	}
	for _, c := range reasons {
		if r.reasons[c.RepID] == nil {
			r.reasons[c.RepID] = map[string]reasonCount{}
		}
		r.reasons[c.RepID][c.Reason] = c
	}
	var rows []struct {
		model.Rep
		Kind  *string `db:"kind"`
		Value *string `db:"value"`
	}
	if err := s.selectIDs(ctx, nil, &rows, `select r.id, r.name, r.team, r.manager, c.kind, c.value
		from reps r left join rep_contacts c on c.rep_id = r.id
		where r.id in (?) order by r.id, c.value`, reps); err != nil {
		return fail("reps", err)
	}
	for _, row := range rows {
		rep, ok := r.reps[row.ID]
		if !ok {
			rep = row.Rep
		}
		if row.Kind != nil && row.Value != nil {
			addContact(&rep, *row.Kind, *row.Value)
		}
		r.reps[row.ID] = rep
	}
	var statuses []struct {
		RepID  int64  `db:"rep_id"`
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := s.selectIDs(ctx, nil, &statuses, `select i.rep_id, st.status, count(*) as n from item_status st
		join items i on i.id = st.item_id where i.rep_id in (?) and st.changed_at >= ?
		group by i.rep_id, st.status`, reps, ts(statusSince)); err != nil {
		return fail("statuses", err)
	}
	for _, id := range reps {
		r.asked[id] = true
		r.statuses[id] = map[model.Status]int{}
	}
	for _, st := range statuses {
		r.statuses[st.RepID][model.Status(st.Status)] = st.N
	}
	return r, nil
}

// readAcks sums the ack tallies for w in three statements, as AckCounts
// sums them for one recipient.
func (s *Store) readAcks(ctx context.Context, w AckWindow) (*ackReads, error) {
	a := &ackReads{quarter: unixQuarter(w.Day), minute: unixMinute(w.Hour),
		recipients: make(map[string]int, len(w.Keys)), domains: make(map[string]int, len(w.Domains))}
	for _, scope := range []struct {
		name string
		keys []string
		into map[string]int
	}{{"recipient", w.Keys, a.recipients}, {"domain", w.Domains, a.domains}} {
		if len(scope.keys) == 0 {
			continue
		}
		q, args, err := s.listQuery(`select key, coalesce(sum(acks), 0) as acks from ack_day_tally
			where key in (?) and scope = ? and quarter >= ? group by key`, scope.keys, "text",
			[]any{scope.name, a.quarter})
		if err != nil {
			return nil, err
		}
		var rows []struct {
			Key  string `db:"key"`
			Acks int    `db:"acks"`
		}
		if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
			return nil, err
		}
		for _, k := range scope.keys {
			scope.into[k] = 0
		}
		for _, r := range rows {
			scope.into[r.Key] = r.Acks
		}
	}
	var t struct {
		Acks int `db:"acks"`
		Open int `db:"open_acks"`
	}
	if err := s.hot.Get(ctx, nil, &t, `select coalesce(sum(acks), 0) as acks, coalesce(sum(open_acks), 0) as open_acks
		from ack_tally where minute >= ?`, a.minute); err != nil {
		return nil, err
	}
	a.hour, a.open = t.Acks, t.Open
	return a, nil
}

// AckCounts is Store.AckCounts for a question it was read for: the same
// quarter and minute, and the recipient and domain read where the
// question counts them. ok is false for any other.
func (r *AwardReads) AckCounts(q model.AckQuery) (c model.AckCounts, ok bool) {
	if r == nil || r.acks == nil {
		return c, false
	}
	a, u := r.acks, q.Upto
	if unixQuarter(q.Day) != a.quarter || unixMinute(q.Hour) != a.minute {
		return c, false
	}
	rc, haveKey := a.recipients[q.RecipientKey]
	dc, haveDomain := a.domains[q.Domain]
	if u.Recipient > 0 && !haveKey || u.Domain > 0 && !haveDomain {
		return c, false
	}
	return bounded(model.AckCounts{Recipient: rc, Domain: dc, Hour: a.hour, OpenHour: a.open}, u), true
}

// readReports answers the first-report questions qs: on PostgreSQL in
// one statement, which asks competitorReportedQuery's question of each.
func (s *Store) readReports(ctx context.Context, qs []ReportQuery) (map[reportKey]bool, error) {
	out := make(map[reportKey]bool, len(qs))
	if s.dialect != Postgres {
		for _, q := range qs {
			found, err := s.competitorReported(ctx, nil, q.Competitor, q.Since, q.Until, q.Except)
			if err != nil {
				return nil, err
			}
			out[q.key()] = found
		}
		return out, nil
	}
	if len(qs) == 0 {
		return out, nil
	}
	var (
		names  = make([]string, len(qs))
		except = make([]int64, len(qs))
		since  = make([]string, len(qs))
		until  = make([]string, len(qs))
	)
	for i, q := range qs {
		names[i], except[i] = q.Competitor, q.Except
		since[i], until[i] = q.Since.UTC().Format(time.RFC3339Nano), q.Until.UTC().Format(time.RFC3339Nano)
		out[q.key()] = false
	}
	var rows []struct {
		N     int  `db:"n"`
		Found bool `db:"found"`
	}
	if err := s.db.SelectContext(ctx, &rows, reportsQuery,
		pq.Array(names), pq.Array(except), pq.Array(since), pq.Array(until)); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Found {
			out[qs[r.N].key()] = true
		}
	}
	return out, nil
}

// reportsQuery asks competitorReportedQuery's question for each of the
// competitors $1, items $2 and windows from $3 to $4, on PostgreSQL,
// answering with each question's index. It is not prepared either, and
// its subquery stays in the select list, where PostgreSQL runs it per
// question: as an exists in the where clause it became a join that
// hashed every competitor tag for each batch.
const reportsQuery = `select u.n - 1 as n, coalesce((select true from tags t
		where t.kind = 'competitor' and t.value = u.competitor and t.received_at >= u.since
		and t.received_at <= u.until and t.item_id <> u.except_item
		and (select i.state = 'processed' from items i where i.id = t.item_id)
		order by t.received_at desc limit 1), false) as found
	from unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::timestamptz[])
		with ordinality as u(competitor, except_item, since, until, n)`

// CompetitorReported is Store.CompetitorReported for a question it was
// read for.
func (r *AwardReads) CompetitorReported(q ReportQuery) (found, ok bool) {
	if r == nil {
		return false, false
	}
	found, ok = r.reported[q.key()]
	return found, ok
}

// RepByID is Store.RepByID for a rep it holds.
func (r *AwardReads) RepByID(id int64) (model.Rep, bool) {
	if r == nil {
		return model.Rep{}, false
	}
	rep, ok := r.reps[id]
	return rep, ok
}

// HasLedgerReason is Store.HasLedgerReason for a rep it holds in its
// month.
func (r *AwardReads) HasLedgerReason(repID int64, month model.Month, reason string, exceptItem int64) (has, ok bool) {
	if !r.holds(repID, month) {
		return false, false
	}
	c := r.reasons[repID][reason]
	// Entries without an item, or with an item other than exceptItem.
	others := c.N - c.WithItem
	if c.WithItem > 1 || (c.WithItem == 1 && c.MinItem != exceptItem) {
		others++
	}
	return others > 0, true
}

// RepStatusCounts is Store.RepStatusCounts for a rep it holds, counted
// since StatusSince.
func (r *AwardReads) RepStatusCounts(repID int64, since time.Time) (map[model.Status]int, bool) {
	if r == nil || !since.Equal(r.StatusSince) || !r.asked[repID] {
		return nil, false
	}
	counts := r.statuses[repID]
	out := make(map[model.Status]int, len(counts))
	for k, v := range counts {
		out[k] = v
	}
	return out, true
}

// Tally is Store.Tally for a rep it holds in its month.
func (r *AwardReads) Tally(q model.TallyQuery) (model.Tally, bool) {
	if !r.holds(q.RepID, q.Month) {
		return model.Tally{}, false
	}
	mine, found := r.totals[q.RepID]
	var st standing
	st.points, st.found, st.all = mine, found, r.allTime[q.RepID]
	for id, p := range r.totals {
		if id == q.RepID {
			continue
		}
		st.others++
		if p > mine+int64(q.Pending) {
			st.above++
		}
	}
	counts := map[string]int{}
	for _, reason := range q.Reasons {
		if c, ok := r.reasons[q.RepID][reason]; ok {
			counts[reason] = c.N
		}
	}
	return st.tally(q, r.totals, counts), true
}

// holds reports whether r read repID's month.
func (r *AwardReads) holds(repID int64, month model.Month) bool {
	if r == nil || month != r.Month {
		return false
	}
	return r.asked[repID]
}
