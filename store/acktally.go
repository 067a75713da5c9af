package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/earshot-dev/earshot/model"
)

// The caps ask how many acks went out today to a recipient and to a
// domain, and in the last hour in all. Counting the outbox's rows made
// each question cost as much as the acks it counted, for every item: a
// backlog of ten thousand items read fifty million index entries for the
// hourly cap alone. The ack tallies keep counts instead, written in the
// transaction that enqueues the acks:
//
//   - ack_tally, every ack per minute, and those to senders outside the
//     roster: the hourly caps sum an hour of minutes;
//   - ack_day_tally, the acks per recipient key and per recipient domain
//     per quarter of an hour: the daily caps sum a day of quarters. A
//     quarter of an hour divides every zone's midnight.
//
// A bucket has several rows (stripes): a transaction adds to one picked
// at random, so that replicas' and workers' completions seldom wait for
// the same row (a domain's is shared by every rep of a company). Buckets
// no cap reads any more are deleted as completions go.

// ackStripes is how many rows a bucket's count is spread over.
const ackStripes = 8

// Buckets are kept for their caps' window and as long again, room for
// clocks that disagree.
const (
	minuteKeep  = 2 * time.Hour
	quarterKeep = 48 * time.Hour
)

// unixMinute is t's minute as ack_tally keys it.
func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

// unixQuarter is t's quarter of an hour as ack_day_tally keys it.
func unixQuarter(t time.Time) int64 { return t.Unix() / 900 }

// enqueuedAck is an ack an insert added to the outbox, not suppressed:
// its item, recipient key and domain.
type enqueuedAck struct {
	item        int64
	key, domain string
}

// tallyAcks adds acks, enqueued at at, open of them to senders outside
// the roster, to the tallies, and now and then deletes the buckets no cap
// reads any more. Rows are written in key order, the order every
// transaction takes them in.
func (s *Store) tallyAcks(ctx context.Context, tx *sqlx.Tx, at time.Time, acks []enqueuedAck, open int) error {
	if len(acks) == 0 {
		return nil
	}
	stripe := rand.IntN(ackStripes)
	type dayKey struct{ scope, key string }
	n := map[dayKey]int{}
	for _, a := range acks {
		n[dayKey{"recipient", a.key}]++
		if a.domain != "" {
			n[dayKey{"domain", a.domain}]++
		}
	}
	keys := make([]dayKey, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b dayKey) int {
		if c := strings.Compare(a.scope, b.scope); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	q := unixQuarter(at)
	const conflict = "on conflict (scope, key, quarter, stripe) do update set acks = ack_day_tally.acks + excluded.acks"
	var err error
	if s.dialect == Postgres {
		// One prepared statement, each column an array, in key order.
		scopes, names, counts := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			scopes[i], names[i], counts[i] = k.scope, k.key, int64(n[k])
		}
		_, err = s.hot.Exec(ctx, tx, `insert into ack_day_tally (scope, key, quarter, stripe, acks)
			select v.scope, v.key, $3::bigint, $4::int, v.acks from unnest($1::text[], $2::text[], $5::bigint[])
				with ordinality as v(scope, key, acks, n)
			order by v.n `+conflict, textArray(scopes), textArray(names), q, stripe, pq.Array(counts))
	} else {
		rows := make([][]any, len(keys))
		for i, k := range keys {
			rows[i] = []any{k.scope, k.key, q, stripe, n[k]}
		}
		err = s.insertRows(ctx, tx, "ack_day_tally", []string{"scope", "key", "quarter", "stripe", "acks"}, rows, conflict)
	}
	if err != nil {
		return fmt.Errorf("tally acks: %w", err)
	}
	if _, err := s.hot.Exec(ctx, tx, `insert into ack_tally (minute, stripe, acks, open_acks) values (?, ?, ?, ?)
		on conflict (minute, stripe) do update set acks = ack_tally.acks + excluded.acks,
			open_acks = ack_tally.open_acks + excluded.open_acks`, unixMinute(at), stripe, len(acks), open); err != nil {
		return fmt.Errorf("tally acks: %w", err)
	}
	if old := unixMinute(at.Add(-minuteKeep)); swapIfGreater(&s.minutesPurged, old) {
		if _, err := s.hot.Exec(ctx, tx, `delete from ack_tally where minute < ?`, old); err != nil {
			return fmt.Errorf("tally acks: forget old minutes: %w", err)
		}
	}
	if old := unixQuarter(at.Add(-quarterKeep)); swapIfGreater(&s.quartersPurged, old) {
		if _, err := s.hot.Exec(ctx, tx, `delete from ack_day_tally where quarter < ?`, old); err != nil {
			return fmt.Errorf("tally acks: forget old quarters: %w", err)
		}
	}
	return nil
}

// swapIfGreater stores v in p and returns true when v is greater than
// p's value.
func swapIfGreater(p *atomic.Int64, v int64) bool {
	for {
		cur := p.Load()
		if v <= cur {
			return false
		}
		if p.CompareAndSwap(cur, v) {
			return true
		}
	}
}

// AckCounts counts the acks that were not suppressed, for the caps: to
// one recipient and to one domain since q.Day, and since q.Hour all of
// them and those to senders outside the roster; each up to its bound in
// q.Upto, and a count whose bound is 0 is not read. It sums the ack
// tallies in one statement, so the cost of a cap check does not grow with
// the day's acks. The daily counts sum whole quarters of an hour: where a
// day does not start on one (no zone of today's), the acks of its
// quarter before it count too. The hourly counts sum whole minutes. So a
// cap may hold back early, never late.
func (s *Store) AckCounts(ctx context.Context, q model.AckQuery) (model.AckCounts, error) {
	var c model.AckCounts
	u := q.Upto
	if u.Recipient <= 0 && u.Domain <= 0 && u.Hour <= 0 && u.OpenHour <= 0 {
		return c, nil
	}
	var t struct {
		Recipient int `db:"recipient"`
		Domain    int `db:"domain"`
		Acks      int `db:"acks"`
		Open      int `db:"open_acks"`
	}
	day, hour := unixQuarter(q.Day), unixMinute(q.Hour)
	if err := s.hot.Get(ctx, nil, &t, `select
		(select coalesce(sum(acks), 0) from ack_day_tally where ? and scope = 'recipient' and key = ? and quarter >= ?) as recipient,
		(select coalesce(sum(acks), 0) from ack_day_tally where ? and scope = 'domain' and key = ? and quarter >= ?) as domain,
		(select coalesce(sum(acks), 0) from ack_tally where ? and minute >= ?) as acks,
		(select coalesce(sum(open_acks), 0) from ack_tally where ? and minute >= ?) as open_acks`,
		u.Recipient > 0, q.RecipientKey, day, u.Domain > 0, q.Domain, day,
		u.Hour > 0, hour, u.OpenHour > 0, hour); err != nil {
		return c, fmt.Errorf("count acks to %s: %w", q.RecipientKey, err)
	}
	return bounded(model.AckCounts{Recipient: t.Recipient, Domain: t.Domain, Hour: t.Acks, OpenHour: t.Open}, u), nil
}

// bounded is the counts c, each stopped at its bound in upto; a count
// whose bound is 0 reads 0.
func bounded(c, upto model.AckCounts) model.AckCounts {
	return model.AckCounts{Recipient: min(c.Recipient, max(upto.Recipient, 0)), Domain: min(c.Domain, max(upto.Domain, 0)),
		Hour: min(c.Hour, max(upto.Hour, 0)), OpenHour: min(c.OpenHour, max(upto.OpenHour, 0))}
}
