package source

import (
	"context"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/model"
)

// LeaseStore holds the lease rows; *store.Store implements it.
type LeaseStore interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// ErrNotHeld reports that another replica holds the source. It wraps
// model.ErrLeaseLost.
var ErrNotHeld = fmt.Errorf("lease not acquired: %w", model.ErrLeaseLost)

// Lease keeps one replica polling a source: it takes and renews the
// source's lease row in the store, and gives it up on the way out. It is
// used by the goroutine that runs the source only.
type Lease struct {
	Store LeaseStore
	// Name is the source's name in the store.
	Name string
	// Holder names this replica; an empty Holder needs no lease.
	Holder string
	// TTL is how long the lease lasts without renewal.
	TTL time.Duration
	// Now is the clock.
	Now func() time.Time

	till time.Time // the lease is known to be valid until then
}

// Renew takes or renews the lease once a third of TTL has passed since the
// last renewal. It returns ErrNotHeld when another replica holds it.
func (l *Lease) Renew(ctx context.Context) error {
	if l.Holder == "" {
		return nil
	}
	now := l.Now()
	if now.Before(l.till.Add(-l.TTL * 2 / 3)) {
		return nil
	}
	ok, err := l.Store.AcquireLease(ctx, l.Name, l.Holder, l.TTL)
	if err != nil {
		return err
	}
	if !ok {
		l.till = time.Time{}
		return ErrNotHeld
	}
	l.till = now.Add(l.TTL)
	return nil
}

// Forget drops what is known of the lease: the next Renew asks the store.
func (l *Lease) Forget() { l.till = time.Time{} }

// Release gives the lease up so another replica can take over at once.
func (l *Lease) Release(ctx context.Context) error {
	if l.Holder == "" || l.till.IsZero() {
		return nil
	}
	l.till = time.Time{}
	return l.Store.ReleaseLease(ctx, l.Name, l.Holder)
}
