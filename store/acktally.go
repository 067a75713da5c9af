package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// The hourly caps ask how many acks went out in the last hour. Counting
// the outbox's rows made that question cost as much as the hour's acks,
// for every item: a backlog of ten thousand items read fifty million
// index entries. The ack tally keeps each minute's count instead, in the
// transaction that enqueues the acks, so a cap reads an hour of minute
// rows whatever the acks.
//
// A minute has several rows (stripes): a transaction adds to one picked
// at random, so replicas' and workers' completions seldom wait for the
// same row. The tally keeps two hours; older minutes are deleted as
// completions go.

// ackStripes is how many rows a minute's count is spread over.
const ackStripes = 8

// tallyKeep is how long a minute's row is kept: an hour for the caps, and
// an hour's room for clocks that disagree.
const tallyKeep = 2 * time.Hour

// unixMinute is t's minute as the tally keys it.
func unixMinute(t time.Time) int64 {
	return t.Unix() / 60
}

// tallyAcks adds n acks, open of them to senders outside the roster, to
// the tally of at's minute, and now and then deletes the minutes no cap
// reads any more.
func (s *Store) tallyAcks(ctx context.Context, tx *sqlx.Tx, at time.Time, n, open int) error {
	if n == 0 {
		return nil
	}
	m := unixMinute(at)
	if _, err := s.hot.Exec(ctx, tx, `insert into ack_tally (minute, stripe, acks, open_acks) values (?, ?, ?, ?)
		on conflict (minute, stripe) do update set acks = ack_tally.acks + excluded.acks,
			open_acks = ack_tally.open_acks + excluded.open_acks`, m, rand.IntN(ackStripes), n, open); err != nil {
		return fmt.Errorf("tally acks: %w", err)
	}
	if old := unixMinute(at.Add(-tallyKeep)); swapIfGreater(&s.tallyPurged, old) {
		if _, err := s.hot.Exec(ctx, tx, `delete from ack_tally where minute < ?`, old); err != nil {
			return fmt.Errorf("tally acks: forget old minutes: %w", err)
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

// acksInHour returns the acks not suppressed since hour, all of them and
// those to senders outside the roster, each up to its bound (0: not
// read). It counts whole minutes: the acks of hour's minute before hour
// count too, so a cap may hold back up to a minute early, never late.
func (s *Store) acksInHour(ctx context.Context, hour time.Time, upto, uptoOpen int) (all, open int, err error) {
	if upto <= 0 && uptoOpen <= 0 {
		return 0, 0, nil
	}
	var t struct {
		Acks int `db:"acks"`
		Open int `db:"open_acks"`
	}
	if err := s.hot.Get(ctx, nil, &t, `select coalesce(sum(acks), 0) as acks, coalesce(sum(open_acks), 0) as open_acks
		from ack_tally where minute >= ?`, unixMinute(hour)); err != nil {
		return 0, 0, fmt.Errorf("ack tally: %w", err)
	}
	if upto > 0 {
		all = min(t.Acks, upto)
	}
	if uptoOpen > 0 {
		open = min(t.Open, uptoOpen)
	}
	return all, open, nil
}
