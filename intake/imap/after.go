package imap

import (
	"fmt"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// afterIngest runs the after_ingest step for stored messages and waits
// for the server's answer (awaitAfterIngest).
func (s *Source) afterIngest(ss *session, uids []goimap.UID, res *SyncResult) error {
	return s.awaitAfterIngest(ss, s.startAfterIngest(ss, uids), res)
}

// pendingAfter is an after_ingest step sent to the server whose answer
// has not been read yet.
type pendingAfter struct {
	uids []goimap.UID
	wait func() error
}

// startAfterIngest sends the after_ingest step for stored messages
// without waiting for the answer, so that the next batch is stored
// meanwhile. It returns nil when there is nothing to do.
func (s *Source) startAfterIngest(ss *session, uids []goimap.UID) *pendingAfter {
	if s.cfg.AfterIngest == AfterKeep || len(uids) == 0 {
		return nil
	}
	p := &pendingAfter{uids: uids}
	switch s.cfg.AfterIngest {
	case AfterSeen:
		p.wait = ss.c.Store(goimap.UIDSetNum(uids...), &goimap.StoreFlags{
			Op: goimap.StoreFlagsAdd, Silent: true, Flags: []goimap.Flag{goimap.FlagSeen},
		}, nil).Close
	case AfterMove:
		set := goimap.UIDSetNum(uids...)
		if ss.c.Caps().Has(goimap.CapMove) {
			cmd := ss.c.Move(set, s.cfg.MoveTo)
			p.wait = func() error { _, err := cmd.Wait(); return err }
			break
		}
		// Without MOVE, go-imap's Move sends COPY, STORE \Deleted and
		// EXPUNGE at once, so a COPY the server refuses (the folder is
		// gone) still removes the messages from the folder. They are
		// flagged and expunged here only once the COPY succeeded.
		cmd := ss.c.Copy(set, s.cfg.MoveTo)
		p.wait = func() error {
			if _, err := cmd.Wait(); err != nil {
				return err
			}
			return expungeCopied(ss.c, set)
		}
	}
	return p
}

// expungeCopied removes from the folder the messages a COPY has put in
// the move_to folder: flagged \Deleted, then expunged, by UID where the
// server has UIDPLUS (else EXPUNGE, which also removes any other message
// flagged \Deleted, as a client's own move would).
func expungeCopied(c *imapclient.Client, set goimap.UIDSet) error {
	if err := c.Store(set, &goimap.StoreFlags{
		Op: goimap.StoreFlagsAdd, Silent: true, Flags: []goimap.Flag{goimap.FlagDeleted},
	}, nil).Close(); err != nil {
		return err
	}
	if c.Caps().Has(goimap.CapUIDPlus) {
		return c.UIDExpunge(set).Close()
	}
	return c.Expunge().Close()
}

// awaitAfterIngest reads the answer to a step startAfterIngest sent (none
// when p is nil). A failure does not lose anything (the messages are
// stored and the cursor is past them): it is logged and counted, and the
// next sync retries it. Only a broken connection is returned as an error.
func (s *Source) awaitAfterIngest(ss *session, p *pendingAfter, res *SyncResult) error {
	if p == nil {
		return nil
	}
	uids := p.uids
	err := p.wait()
	if err == nil {
		res.AfterIngest += len(uids)
		return nil
	}
	res.AfterFailed += len(uids)
	s.metrics.afterFailed.Add(float64(len(uids)))
	ss.reconcile = true
	s.log.Warn("after_ingest failed; retrying next sync", "action", s.cfg.AfterIngest,
		"messages", len(uids), "first_uid", uids[0], "err", err)
	if !ss.alive() {
		return fmt.Errorf("%s %d messages: %w", s.cfg.AfterIngest, len(uids), err)
	}
	return nil
}

// finishAfterIngest redoes the after_ingest step for stored messages (UID
// up to lastUID) that still need it: with move, every one still in the
// folder; with seen, every one not seen. This covers a step that failed or
// was cut short by a crash between commit and step.
func (s *Source) finishAfterIngest(ss *session, lastUID uint32, res *SyncResult) error {
	if s.cfg.AfterIngest == AfterKeep || lastUID == 0 {
		ss.reconcile = false
		return nil
	}
	uids, err := storedStillPending(ss.c, lastUID, s.cfg.AfterIngest == AfterSeen)
	if err != nil {
		return err
	}
	ss.reconcile = false
	if len(uids) == 0 {
		return nil
	}
	s.log.Info("finishing after_ingest for stored messages", "action", s.cfg.AfterIngest, "messages", len(uids))
	return s.afterIngest(ss, uids, res)
}

// storedStillPending lists the messages with UID up to lastUID, only the
// unseen ones when unseen is set.
func storedStillPending(c *imapclient.Client, lastUID uint32, unseen bool) ([]goimap.UID, error) {
	var set goimap.UIDSet
	set.AddRange(1, goimap.UID(lastUID))
	crit := &goimap.SearchCriteria{UID: []goimap.UIDSet{set}}
	if unseen {
		crit.NotFlag = []goimap.Flag{goimap.FlagSeen}
	}
	data, err := c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("search stored messages up to uid %d: %w", lastUID, err)
	}
	var out []goimap.UID
	for _, uid := range data.AllUIDs() {
		if uid <= goimap.UID(lastUID) {
			out = append(out, uid)
		}
	}
	return out, nil
}

// uidsOf returns the UIDs of a batch.
func uidsOf(batch []meta) []goimap.UID {
	out := make([]goimap.UID, len(batch))
	for i, m := range batch {
		out[i] = m.uid
	}
	return out
}
