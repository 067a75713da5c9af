package imap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/intake/source"
)

// errConnClosed reports a connection that closed while waiting.
var errConnClosed = errors.New("connection closed")

// waitForNews blocks until the folder may hold new mail: an EXISTS
// notification in IDLE, the idle refresh, or the poll interval where the
// server lacks IDLE. Each return is followed by a sync, whose first command
// also proves the connection alive. It renews the lease meanwhile.
func (s *Source) waitForNews(ctx context.Context, ss *session) error {
	select {
	case <-ss.signal:
		return nil // news arrived while syncing
	default:
	}
	var renew <-chan time.Time
	if every := s.RenewEvery(); every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		renew = t.C
	}
	if !ss.idle {
		return s.poll(ctx, ss, renew)
	}
	return s.idle(ctx, ss, renew)
}

// poll waits for the poll interval.
func (s *Source) poll(ctx context.Context, ss *session, renew <-chan time.Time) error {
	s.SetState(source.StatePolling, time.Time{})
	timer := time.NewTimer(s.cfg.PollInterval)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return nil
		case <-renew:
			if err := s.Renew(ctx); err != nil {
				return err
			}
		case <-ss.c.Closed():
			return errConnClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// idle runs one IDLE command until news, the idle refresh, a lease loss or
// the end of ctx. IDLE is renewed by us well before servers drop idle
// clients (go-imap's own restart comes only after 28 minutes).
func (s *Source) idle(ctx context.Context, ss *session, renew <-chan time.Time) error {
	cmd, err := ss.c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	// Idle once the server has accepted IDLE: from now on it tells us of
	// new mail (a server that holds back what arrived just before IDLE is
	// caught up at the next refresh).
	s.SetState(source.StateIdle, time.Time{})
	refresh := time.NewTimer(s.cfg.IdleRefresh)
	defer refresh.Stop()
	var cause error
wait:
	for {
		select {
		case <-ss.signal:
			break wait
		case <-refresh.C:
			break wait
		case <-renew:
			if cause = s.Renew(ctx); cause != nil {
				break wait
			}
		case <-ss.c.Closed():
			return fmt.Errorf("idle: %w", errConnClosed)
		case <-ctx.Done():
			_ = ss.c.Close() // no goodbye needed; Run is ending
			return ctx.Err()
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("leave idle: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return cause
}
