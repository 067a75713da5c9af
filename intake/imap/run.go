package imap

import (
	"context"
	"time"

	"github.com/earshot-dev/earshot/intake/source"
)

// Run keeps the folder synced until ctx ends: it syncs, waits for new mail
// (IDLE, or polling where IDLE is missing), and syncs again. Transient
// errors reconnect after a capped, jittered backoff; a permanent error
// disables the source and retries only every DisabledRetry; with a Holder
// it waits in standby while another replica holds the lease. It returns
// nil when ctx ends, after closing the connection and releasing the lease.
func (s *Source) Run(ctx context.Context) error { return s.Runner.Run(ctx, driver{s}) }

// SyncOnce connects if needed, stores every message that arrived since the
// cursor, and runs the after_ingest step. It keeps the connection for the
// next call (Close ends it). It must not run while Run does.
func (s *Source) SyncOnce(ctx context.Context) (SyncResult, error) {
	s.last = SyncResult{}
	err := s.Runner.SyncOnce(ctx, driver{s})
	return s.last, err
}

// Close closes the connection SyncOnce keeps open between calls. Call it
// once Run has returned; Run closes its own connection when its context
// ends.
func (s *Source) Close() error { return s.Runner.Close(driver{s}) }

// driver is the IMAP side of the source's runner.
type driver struct{ s *Source }

// Sync connects when there is no live connection and syncs.
func (d driver) Sync(ctx context.Context) error {
	s := d.s
	if s.sess != nil && !s.sess.alive() {
		s.dropSession()
	}
	if s.sess == nil {
		s.SetState(source.StateConnecting, time.Time{})
		ss, err := s.connect(ctx)
		if err != nil {
			return err
		}
		s.sess = ss
		s.setConnected(true)
		s.log.Info("connected", "folder", s.cfg.Folder, "uidvalidity", ss.validity, "idle", ss.idle)
	}
	s.SetState(source.StateSyncing, time.Time{})
	ss := s.sess
	stop := context.AfterFunc(ctx, func() { _ = ss.c.Close() })
	res, err := s.sync(ctx, ss)
	stop()
	s.last = res
	return err
}

// Wait waits for news in IDLE, or for the poll interval.
func (d driver) Wait(ctx context.Context) error { return d.s.waitForNews(ctx, d.s.sess) }

// Drop closes the connection.
func (d driver) Drop() { d.s.dropSession() }
