package imap

import (
	"context"
	"fmt"
	"sync"

	"github.com/earshot-dev/earshot/model"
)

// SyncResult counts what one sync did.
type SyncResult struct {
	// Fetched messages were read from the server and handed to the store.
	Fetched int
	// Inserted, Linked and Repeated are the store's verdicts (see
	// model.ReceiveResult).
	Inserted, Linked, Repeated int
	// Truncated messages were stored as their header only.
	Truncated int
	// AfterIngest counts messages flagged or moved after commit, including
	// ones left over from an earlier failure; AfterFailed those whose step
	// failed and will be retried.
	AfterIngest, AfterFailed int
	// UIDValidityChanged is set when the folder's UIDVALIDITY changed and
	// the folder was re-scanned.
	UIDValidityChanged bool
	// Cursor is the stored cursor after the sync.
	Cursor Cursor
}

// sync stores what is new in the folder, batch by batch, each batch with
// the cursor that follows it; upstream changes come only after a commit.
// A batch's after_ingest step is answered while the next batch is stored;
// sync reads the last answer before it returns.
func (s *Source) sync(ctx context.Context, ss *session) (res SyncResult, err error) {
	// NOOP makes the server bring the session's view of the folder up to
	// date (Dovecot evaluates "UID n:*" against the view as of the last
	// command) and proves the connection alive.
	if err := ss.c.Noop().Wait(); err != nil {
		return res, fmt.Errorf("noop: %w", err)
	}
	raw, err := s.sink.SourceCursor(ctx, s.name)
	if err != nil {
		return res, err
	}
	cur, err := parseCursor(raw)
	if err != nil {
		return res, err
	}
	stale := cur.UIDValidity != ss.validity
	if stale {
		if cur.UIDValidity != 0 {
			s.log.Warn("uidvalidity changed: re-scanning the folder",
				"old_uidvalidity", cur.UIDValidity, "new_uidvalidity", ss.validity, "last_uid", cur.LastUID)
			s.metrics.uidValidity.Inc()
			res.UIDValidityChanged = true
		}
		cur = Cursor{UIDValidity: ss.validity}
	} else {
		s.setCursor(cur)
	}
	if ss.reconcile {
		if err := s.finishAfterIngest(ss, cur.LastUID, &res); err != nil {
			return res, err
		}
	}
	msgs, err := newMessages(ss.c, cur.LastUID)
	if err != nil {
		return res, err
	}
	if len(msgs) == 0 && stale {
		// Remember the new UIDVALIDITY even when the folder is empty.
		if _, err := s.sink.Receive(ctx, model.Batch{Source: s.name, Holder: s.Holder(), Cursor: cur.String()}); err != nil {
			return res, fmt.Errorf("store cursor: %w", err)
		}
		s.setCursor(cur)
	}
	if len(msgs) > s.cfg.BatchSize {
		s.log.Info("ingesting backlog", "messages", len(msgs), "last_uid", cur.LastUID)
	}
	fetched, stop := s.prefetch(ss, cur.UIDValidity, planBatches(msgs, s.cfg.BatchSize, s.cfg.MaxMessageBytes))
	defer stop()
	var after *pendingAfter // the last stored batch's step, unanswered
	defer func() {
		if aerr := s.awaitAfterIngest(ss, after, &res); err == nil {
			err = aerr
		}
	}()
	for f := range fetched {
		// A batch that stopped at a message sent short still stores the
		// messages before it.
		if len(f.batch) > 0 {
			if err := s.Renew(ctx); err != nil {
				return res, err
			}
			if cur, after, err = s.ingest(ctx, ss, cur, f, &res, after); err != nil {
				return res, err
			}
			if len(msgs) > s.cfg.BatchSize {
				s.log.Info("ingest progress", "ingested", fmt.Sprintf("%d/%d", res.Fetched, len(msgs)), "last_uid", cur.LastUID)
			}
		}
		if f.err != nil {
			return res, f.err
		}
	}
	res.Cursor = cur
	return res, nil
}

// fetchedBatch is one planned batch as read from the server: the
// messages read (all of the batch, or those before a message sent short)
// and their items, and what stopped the batch.
type fetchedBatch struct {
	batch []meta
	items []model.RawItem
	err   error
}

// prefetch fetches the batches in order on a goroutine of its own, one
// batch ahead of the caller: the server sends the next batch while the
// store commits this one. The connection carries both, as IMAP allows: the
// fetch names other UIDs than the after_ingest step of a stored batch. It
// stops after the first error, which it delivers. stop, called once, ends
// it early and waits until it no longer uses the connection.
func (s *Source) prefetch(ss *session, validity uint32, batches [][]meta) (<-chan fetchedBatch, func()) {
	out := make(chan fetchedBatch)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(out)
		for _, b := range batches {
			items, read, err := s.fetchBatch(ss.c, validity, b)
			select {
			case out <- fetchedBatch{batch: read, items: items, err: err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out, func() { close(done); wg.Wait() }
}

// ingest stores one fetched batch with the cursor after it, sends its
// after_ingest step and reads the answer to prev, the previous batch's.
// It returns the new cursor and the step whose answer is still to be
// read: this batch's, or prev when the batch was not stored.
func (s *Source) ingest(ctx context.Context, ss *session, cur Cursor, f fetchedBatch, res *SyncResult,
	prev *pendingAfter) (Cursor, *pendingAfter, error) {
	batch, items := f.batch, f.items
	next := Cursor{UIDValidity: cur.UIDValidity, LastUID: uint32(batch[len(batch)-1].uid)}
	r, err := s.sink.Receive(ctx, model.Batch{Source: s.name, Holder: s.Holder(), Cursor: next.String(), Items: items})
	if err != nil {
		return cur, prev, fmt.Errorf("store messages up to uid %d: %w", next.LastUID, err)
	}
	s.setCursor(next)
	res.Fetched += len(items)
	res.Inserted += r.Inserted
	res.Linked += r.Linked
	res.Repeated += r.Repeated
	for _, it := range items {
		if it.Truncated {
			res.Truncated++
		}
	}
	s.metrics.ingested.Add(float64(r.Inserted + r.Linked))
	after := s.startAfterIngest(ss, uidsOf(batch))
	return next, after, s.awaitAfterIngest(ss, prev, res)
}
