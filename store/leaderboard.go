package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/earshot-dev/earshot/model"
)

// A month's standings: the leaderboard, one rep's tally, and the totals
// the dashboard charts.

// Leaderboard ranks the reps with ledger entries in q.Month, best first,
// with their contributions and last month's points. It reads the
// per-month totals that a trigger keeps from the ledger. The dashboard,
// the CSV, the acks and the digests all read this one board.
func (s *Store) Leaderboard(ctx context.Context, q model.BoardQuery) ([]model.Standing, error) {
	if !q.Month.Valid() {
		return nil, fmt.Errorf("leaderboard: month %q is not YYYY-MM", q.Month)
	}
	prev := q.Month.Prev()
	query := `select c.rep_id, r.name, r.team, c.points, c.intel, c.feedback, c.voicemails,
			coalesce(p.points, 0), p.rep_id is not null
		from rep_month_totals c
		join reps r on r.id = c.rep_id
		left join rep_month_totals p on p.month = ? and p.rep_id = c.rep_id
		where c.month = ? and (? = '' or r.team = ?)
		order by c.points desc, r.name, c.rep_id`
	args := []any{string(prev), string(q.Month), q.Team, q.Team}
	if q.Limit > 0 {
		query += ` limit ?`
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("leaderboard %s: %w", q.Month, err)
	}
	defer rows.Close()
	var out []model.Standing
	for rows.Next() {
		var b model.Standing
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
	rows.Close()
	quality, err := s.QualityPoints(ctx, q.Month, "quality:")
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Quality = quality[out[i].RepID]
	}
	return out, nil
}

// MonthTotals sums one month's contributions and points.
type MonthTotals struct {
	Month      model.Month `db:"month"`
	Points     int         `db:"points"`
	Intel      int         `db:"intel"`
	Feedback   int         `db:"feedback"`
	Voicemails int         `db:"voicemails"`
}

// Contributions returns the totals of every month from first to last
// (inclusive) that has entries, oldest first, for one team or (team
// empty) for everyone.
func (s *Store) Contributions(ctx context.Context, first, last model.Month, team string) ([]MonthTotals, error) {
	var out []MonthTotals
	err := s.db.SelectContext(ctx, &out, s.rebind(`select t.month, sum(t.points) as points, sum(t.intel) as intel,
			sum(t.feedback) as feedback, sum(t.voicemails) as voicemails
		from rep_month_totals t join reps r on r.id = t.rep_id
		where t.month >= ? and t.month <= ? and (? = '' or r.team = ?)
		group by t.month order by t.month`), string(first), string(last), team, team)
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
	model.LedgerEntry
	ItemSubject string
	ItemKind    model.ItemKind
}

// RepEntries returns a rep's latest ledger entries, newest first, at most
// limit of them.
func (s *Store) RepEntries(ctx context.Context, repID int64, limit int) ([]RepEntry, error) {
	var rows []struct {
		ledgerRow
		ItemSubject string `db:"item_subject"`
		ItemKind    string `db:"item_kind"`
	}
	err := s.db.SelectContext(ctx, &rows, s.rebind(`select l.id, l.rep_id, l.item_id, l.points, l.reason, l.month,
			l.actor, l.created_at, coalesce(i.subject, '') as item_subject, coalesce(i.kind, '') as item_kind
		from points_ledger l left join items i on i.id = l.item_id
		where l.rep_id = ? order by l.id desc limit ?`), repID, limit)
	if err != nil {
		return nil, fmt.Errorf("rep %d entries: %w", repID, err)
	}
	out := make([]RepEntry, len(rows))
	for i, r := range rows {
		out[i] = RepEntry{LedgerEntry: r.entry(), ItemSubject: r.ItemSubject, ItemKind: model.ItemKind(r.ItemKind)}
	}
	return out, nil
}

// Tally computes a rep's standing: its month total, rank and all-time
// total in one statement over rep_month_totals, then its counts toward
// the goals from rep_month_reasons.
func (s *Store) Tally(ctx context.Context, q model.TallyQuery) (model.Tally, error) {
	t := model.Tally{Month: q.Month}
	// rep_month_totals holds each rep's month total and rep_month_reasons
	// its entries per reason (triggers keep both in step with the ledger),
	// so a tally reads one row per rep and per goal, not the month's
	// ledger. Pending points of the item being processed count for
	// the rep as if paid.
	var row struct {
		Points int64 `db:"points"`
		Found  bool  `db:"found"`
		Above  int64 `db:"above"`
		Others int64 `db:"others"`
		All    int64 `db:"all_time"`
	}
	if err := s.hot.Get(ctx, nil, &row, `with mine as (select coalesce(max(points), 0) as points, count(*) > 0 as found
			from rep_month_totals where month = ? and rep_id = ?)
		select mine.points, mine.found,
			(select coalesce(sum(case when r.points > mine.points + ? then 1 else 0 end), 0)
				from rep_month_totals r where r.month = ? and r.rep_id <> ?) as above,
			(select count(*) from rep_month_totals r where r.month = ? and r.rep_id <> ?) as others,
			(select coalesce(sum(a.points), 0) from rep_month_totals a where a.rep_id = ?) as all_time
		from mine`, string(q.Month), q.RepID, q.Pending, string(q.Month), q.RepID, string(q.Month), q.RepID, q.RepID); err != nil {
		return t, fmt.Errorf("tally rep %d %s: %w", q.RepID, q.Month, err)
	}
	st := standing{points: row.Points, found: row.Found, above: row.Above, others: row.Others, all: row.All}
	var written map[int64]int64
	if len(q.Others) > 0 {
		var err error
		if written, err = s.monthTotals(ctx, q); err != nil {
			return t, err
		}
	}
	counts := map[string]int{}
	if len(q.Reasons) > 0 {
		query, cargs, err := sqlx.In(`select reason, entries as n from rep_month_reasons
			where month = ? and rep_id = ? and reason in (?)`, string(q.Month), q.RepID, q.Reasons)
		if err != nil {
			return t, err
		}
		var rows []struct {
			Reason string `db:"reason"`
			N      int    `db:"n"`
		}
		if err := s.hot.Select(ctx, nil, &rows, query, cargs...); err != nil {
			return t, fmt.Errorf("tally rep %d goals: %w", q.RepID, err)
		}
		for _, c := range rows {
			counts[c.Reason] = c.N
		}
	}
	return st.tally(q, written, counts), nil
}

// standing is a rep's month as the totals hold it, before the points
// about to be written count.
type standing struct {
	points int64 // the rep's total this month
	found  bool  // whether the rep has a total this month
	above  int64 // other reps whose total is above points + pending
	others int64 // other reps with a total this month
	all    int64 // the rep's points ever
}

// tally is the rep's standing with the points about to be written
// counted as written: the rep's (q.Pending) and other reps' (q.Others,
// whose totals so far written holds). counts are the ledger's entries by
// reason.
func (st standing) tally(q model.TallyQuery, written map[int64]int64, counts map[string]int) model.Tally {
	total := st.points + int64(q.Pending)
	above, others := st.above, st.others
	for id, add := range q.Others {
		if id == q.RepID {
			continue
		}
		was, found := written[id]
		now := was + int64(add)
		if !found {
			others++
		}
		switch wasAbove := found && was > total; {
		case now > total && !wasAbove:
			above++
		case now <= total && wasAbove:
			above--
		}
	}
	t := model.Tally{Month: q.Month, Points: int(total), Ranked: int(others), Counts: counts}
	if st.found || q.Pending != 0 {
		t.Rank, t.Ranked = int(above)+1, t.Ranked+1
	}
	t.AllTime = int(st.all) + q.Pending
	return t
}

// monthTotals reads the month totals written so far of the other reps
// whose points are about to be written (q.Others).
func (s *Store) monthTotals(ctx context.Context, q model.TallyQuery) (map[int64]int64, error) {
	ids := make([]int64, 0, len(q.Others))
	for id := range q.Others {
		if id != q.RepID {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	query, args, err := sqlx.In(`select rep_id, points from rep_month_totals where month = ? and rep_id in (?)`, string(q.Month), ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		RepID  int64 `db:"rep_id"`
		Points int64 `db:"points"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(query), args...); err != nil {
		return nil, fmt.Errorf("tally rep %d %s: %w", q.RepID, q.Month, err)
	}
	written := make(map[int64]int64, len(rows))
	for _, r := range rows {
		written[r.RepID] = r.Points
	}
	return written, nil
}
