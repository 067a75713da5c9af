package voicemail

import (
	"context"

	"github.com/earshot-dev/earshot/intake/source"
)

// Run polls until ctx ends: a poll, a pause of PollInterval (renewing the
// lease), another poll. Transient errors retry after a capped, jittered
// backoff; a permanent one disables the source and retries only every
// DisabledRetry; with a Holder it waits in standby while another replica
// holds the lease. It returns nil when ctx ends, after releasing the
// lease.
func (s *Source) Run(ctx context.Context) error { return s.Runner.Run(ctx, driver{s}) }

// SyncOnce lists the recordings since the cursor and stores every
// completed one that is new, oldest first, each with the cursor after it.
// It must not run while Run does.
func (s *Source) SyncOnce(ctx context.Context) (SyncResult, error) {
	s.last = SyncResult{}
	err := s.Runner.SyncOnce(ctx, driver{s})
	return s.last, err
}

// driver is the Twilio side of the source's runner.
type driver struct{ s *Source }

// Sync does one poll.
func (d driver) Sync(ctx context.Context) error {
	res, err := d.s.sync(ctx)
	d.s.last = res
	if err == nil && (res.Stored > 0 || res.Failed > 0) {
		d.s.log.Info("poll done", "listed", res.Listed, "stored", res.Stored, "waiting", res.Waiting)
	}
	return err
}

// Wait pauses for the poll interval, keeping the lease.
func (d driver) Wait(ctx context.Context) error {
	wait := d.s.cfg.PollInterval
	d.s.SetState(source.StatePolling, d.s.opts.Now().Add(wait))
	return d.s.Pause(ctx, wait)
}

// Drop has nothing to close: every request is its own.
func (driver) Drop() {}
