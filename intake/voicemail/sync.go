package voicemail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/earshot-dev/earshot/model"
)

// statusCompleted is the status of a recording whose media is ready.
const statusCompleted = "completed"

// unfinished reports the statuses of a recording Twilio is still making:
// it will complete, so the cursor must not pass it.
func unfinished(status string) bool {
	switch status {
	case "in-progress", "paused", "stopped", "processing":
		return true
	}
	return false
}

// overlap is how far before the cursor a listing starts: Twilio filters by
// whole days.
const overlap = 24 * time.Hour

// SyncResult counts what one poll did.
type SyncResult struct {
	// Listed recordings came back from Twilio (any status).
	Listed int
	// Stored recordings are new items; Known ones were stored before.
	Stored, Known int
	// Waiting recordings are still being recorded or processed at Twilio.
	Waiting int
	// Failed recordings could not be downloaded; the next poll tries again.
	Failed int
	// Cursor is the stored cursor after the poll.
	Cursor Cursor
}

// sync does one poll. A failed download does not stop it: the others are
// stored, the cursor stays before the failed one, and the error is
// returned at the end.
func (s *Source) sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	raw, err := s.sink.SourceCursor(ctx, s.name)
	if err != nil {
		return res, err
	}
	cur, err := parseCursor(raw)
	if err != nil {
		return res, err
	}
	res.Cursor = cur
	s.setCursor(cur)
	since := s.opts.Now().Add(-s.opts.Backfill)
	if !cur.LastCreated.IsZero() {
		since = cur.LastCreated.Add(-overlap)
	}
	fresh, newest, hold, err := s.list(ctx, since, &res)
	if err != nil {
		return res, err
	}
	newest = latest(newest, cur.LastCreated)
	var failures []error
	for i, rec := range fresh {
		if err := s.Renew(ctx); err != nil {
			return res, err
		}
		item, err := s.fetch(ctx, rec)
		if err != nil {
			if IsPermanent(err) || ctx.Err() != nil {
				return res, err
			}
			res.Failed++
			failures = append(failures, err)
			hold = earliest(hold, rec.DateCreated)
			continue
		}
		newest = latest(newest, rec.DateCreated)
		next := Cursor{LastCreated: newest}
		if i+1 < len(fresh) {
			// The next one is not stored yet: a crash now must list it again.
			next.LastCreated = earliest(next.LastCreated, fresh[i+1].DateCreated)
		}
		next.LastCreated = earliest(next.LastCreated, hold)
		if _, err := s.store(ctx, item, s.Holder(), next.String()); err != nil {
			return res, err
		}
		res.Stored++
		cur = next
	}
	// Known recordings newer than the cursor, or a download that failed
	// after the cursor passed it, move the cursor without an item.
	if want := (Cursor{LastCreated: earliest(newest, hold)}); !want.LastCreated.Equal(cur.LastCreated) {
		if _, err := s.sink.Receive(ctx, model.Batch{Source: s.name, Holder: s.Holder(), Cursor: want.String()}); err != nil {
			return res, fmt.Errorf("store cursor: %w", err)
		}
		cur = want
	}
	res.Cursor = cur
	s.setCursor(cur)
	if len(failures) > 0 {
		return res, fmt.Errorf("%d of %d recordings not downloaded, tried again next poll: %w",
			len(failures), len(fresh), errors.Join(failures...))
	}
	return res, nil
}

// list returns the completed recordings since the day of since that are
// not stored yet, oldest first; the creation time of the newest listed
// recording that is stored; and that of the oldest recording Twilio is
// still making (zero when none). Stored recordings still listed are
// deleted at Twilio when configured: an earlier deletion failed.
func (s *Source) list(ctx context.Context, since time.Time, res *SyncResult) (fresh []Recording, newest, hold time.Time, err error) {
	var (
		done []Recording
		seen = map[string]bool{}
	)
	err = s.client.Recordings(ctx, since, s.opts.PageSize, func(page []Recording) error {
		for _, r := range page {
			if seen[r.SID] {
				continue // a recording that arrived while paging shifts the pages
			}
			seen[r.SID] = true
			res.Listed++
			switch {
			case r.Status == statusCompleted:
				done = append(done, r)
			case unfinished(r.Status):
				res.Waiting++
				hold = earliest(hold, r.DateCreated)
			}
		}
		return nil
	})
	if err != nil {
		return nil, newest, hold, err
	}
	sids := make([]string, len(done))
	for i, r := range done {
		sids[i] = r.SID
	}
	known, err := s.sink.ReceivedKeys(ctx, s.name, sids)
	if err != nil {
		return nil, newest, hold, err
	}
	for _, r := range done {
		if known[r.SID] {
			res.Known++
			newest = latest(newest, r.DateCreated)
			s.afterIngest(ctx, r.SID)
			continue
		}
		fresh = append(fresh, r)
	}
	slices.SortFunc(fresh, func(a, b Recording) int {
		return cmp.Or(a.DateCreated.Compare(b.DateCreated), cmp.Compare(a.SID, b.SID))
	})
	return fresh, newest, hold, nil
}

// earliest returns the earlier of a and b; a zero time means none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
