package imap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/internal/backoff"
	"github.com/earshot-dev/earshot/store"
)

// Run keeps the folder synced until ctx ends: it syncs, waits for new mail
// (IDLE, or polling where IDLE is missing), and syncs again. Transient
// errors reconnect after a capped, jittered backoff; a permanent error
// disables the source and retries only every DisabledRetry; with a Holder
// it waits in standby while another replica holds the lease. It returns
// nil when ctx ends, after closing the connection and releasing the lease.
func (s *Source) Run(ctx context.Context) error {
	if !s.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("imap %s: already running", s.name)
	}
	defer s.busy.Store(false)
	defer func() {
		s.dropSession()
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
		err := s.serve(ctx, &bo)
		if ctx.Err() != nil {
			break
		}
		s.dropSession()
		wait, state := s.retryAfter(err, &bo)
		s.setState(state, s.opts.Now().Add(wait))
		s.log.Info("retrying later", "state", state, "wait", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			break
		}
	}
	return nil
}

// serve syncs and waits for news until an error.
func (s *Source) serve(ctx context.Context, bo *backoff.Backoff) error {
	for {
		if _, err := s.syncOnce(ctx); err != nil {
			return err
		}
		bo.Reset()
		if err := s.waitForNews(ctx, s.sess); err != nil {
			s.dropSession()
			return s.fail(ctx, fmt.Errorf("imap %s: %w", s.name, err))
		}
	}
}

// retryAfter chooses the wait and state after a failed attempt.
func (s *Source) retryAfter(err error, bo *backoff.Backoff) (time.Duration, State) {
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		s.lease.Forget()
		return s.opts.LeaseTTL / 3, StateStandby
	case IsPermanent(err):
		return s.opts.DisabledRetry, StateDisabled
	default:
		return bo.Next(), StateBackoff
	}
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
