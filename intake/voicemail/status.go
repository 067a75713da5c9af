package voicemail

import (
	"context"
	"errors"
	"time"

	"github.com/earshot-dev/earshot/store"
)

// State is what the source is doing.
type State string

// The states of the source.
const (
	StateStopped  State = "stopped"  // Run is not running
	StateSyncing  State = "syncing"  // listing and storing recordings
	StatePolling  State = "polling"  // waiting for the next poll
	StateBackoff  State = "backoff"  // waiting to retry after an error
	StateDisabled State = "disabled" // a permanent error; retried slowly
	StateStandby  State = "standby"  // another replica holds the lease
)

// Status is a snapshot of the source for the dashboard and /readyz.
type Status struct {
	Name  string
	State State
	// LastSuccess is the end of the last successful poll.
	LastSuccess time.Time
	// LastError and LastErrorAt describe the last failure.
	LastError   string
	LastErrorAt time.Time
	// DisabledReason is set while a permanent error disables the source.
	DisabledReason string
	// RetryAt is when the next attempt starts in the backoff, disabled
	// and standby states, or the next poll.
	RetryAt time.Time
	// Cursor is the last stored cursor.
	Cursor Cursor
}

// Status returns the source's current status.
func (s *Source) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Source) setState(st State, retryAt time.Time) {
	s.mu.Lock()
	s.status.State, s.status.RetryAt = st, retryAt
	s.mu.Unlock()
}

func (s *Source) setCursor(c Cursor) {
	s.mu.Lock()
	s.status.Cursor = c
	s.mu.Unlock()
}

// succeeded records a successful poll. The store has it before the
// source's status and metrics say so.
func (s *Source) succeeded(ctx context.Context) error {
	if err := s.sink.RecordSourceSuccess(ctx, s.name); err != nil {
		return err
	}
	now := s.opts.Now()
	s.metrics.lastSuccess.Set(float64(now.UnixNano()) / 1e9)
	s.metrics.disabled.Set(0)
	s.mu.Lock()
	wasDisabled := s.status.DisabledReason != ""
	s.status.LastSuccess, s.status.DisabledReason = now, ""
	s.mu.Unlock()
	if wasDisabled {
		s.log.Info("source enabled again")
	}
	return nil
}

// recordTimeout bounds the write of a source's error, which runs on a
// context of its own so that a shutdown does not lose the reason.
const recordTimeout = 5 * time.Second

// fail records a failed poll or ingest and returns err. A permanent
// error disables the source with a visible reason. The store has the error
// before the source's status and metrics show it. Errors caused by the end
// of ctx are not recorded.
func (s *Source) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	if errors.Is(err, store.ErrLeaseLost) {
		s.log.Info("another replica holds the source", "err", err)
		return err
	}
	var perm *PermanentError
	reason := ""
	if errors.As(err, &perm) {
		reason = perm.Reason
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	rerr := s.sink.RecordSourceError(rctx, s.name, err.Error(), reason)
	cancel()
	if rerr != nil {
		s.log.Error("cannot record source error", "err", rerr)
	}
	s.metrics.errors.Inc()
	s.mu.Lock()
	s.status.LastError, s.status.LastErrorAt, s.status.DisabledReason = err.Error(), s.opts.Now(), reason
	s.mu.Unlock()
	if reason != "" {
		s.metrics.disabled.Set(1)
		s.log.Error("source disabled", "reason", reason, "err", err)
	} else {
		s.log.Warn("twilio error", "err", err)
	}
	return err
}
