package voicemail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/internal/backoff"
	"github.com/earshot-dev/earshot/store"
)

// Run polls until ctx ends: a poll, a pause of PollInterval (renewing the
// lease), another poll. Transient errors retry after a capped, jittered
// backoff; a permanent one disables the source and retries only every
// DisabledRetry; with a Holder it waits in standby while another replica
// holds the lease. It returns nil when ctx ends, after releasing the
// lease.
func (s *Source) Run(ctx context.Context) error {
	if !s.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("twilio %s: already running", s.name)
	}
	defer s.busy.Store(false)
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := s.lease.Release(rctx); err != nil {
			s.log.Warn("cannot release lease", "err", err)
		}
		cancel()
		s.setState(StateStopped, time.Time{})
		s.log.Info("stopped")
	}()
	bo := backoff.Backoff{Min: s.opts.MinBackoff, Max: s.opts.MaxBackoff}
	for ctx.Err() == nil {
		res, err := s.syncOnce(ctx)
		if ctx.Err() != nil {
			break
		}
		wait, state := s.cfg.PollInterval, StatePolling
		if err != nil {
			wait, state = s.retryAfter(err, &bo)
			s.log.Info("retrying later", "state", state, "wait", wait.Round(time.Millisecond))
		} else {
			bo.Reset()
			if res.Stored > 0 || res.Failed > 0 {
				s.log.Info("poll done", "listed", res.Listed, "stored", res.Stored, "waiting", res.Waiting)
			}
		}
		s.setState(state, s.opts.Now().Add(wait))
		if !s.pause(ctx, wait, state == StatePolling) {
			break
		}
	}
	return nil
}

// pause waits for d or until ctx ends, renewing the lease on the way when
// asked so another replica does not take over between polls. It reports
// whether d passed.
func (s *Source) pause(ctx context.Context, d time.Duration, keepLease bool) bool {
	step := d
	if keepLease && s.opts.Holder != "" {
		step = min(d, s.opts.LeaseTTL/3)
	}
	for left := d; left > 0; left -= step {
		if !sleep(ctx, min(step, left)) {
			return false
		}
		if keepLease && left > step {
			if err := s.lease.Renew(ctx); err != nil {
				return true // poll now: it reports the lost lease
			}
		}
	}
	return true
}

// retryAfter chooses the wait and state after a failed poll.
func (s *Source) retryAfter(err error, bo *backoff.Backoff) (time.Duration, State) {
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		s.lease.Forget()
		return s.opts.LeaseTTL / 3, StateStandby
	case IsPermanent(err):
		return s.opts.DisabledRetry, StateDisabled
	}
	return bo.Next(), StateBackoff
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
