package model

import "errors"

// Errors shared across the packages; wrap them with %w and test with
// errors.Is.
var (
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLeaseLost means another replica holds a source's lease.
	ErrLeaseLost = errors.New("lease held by another replica")
	// ErrConflict means a write lost a race with another transaction: on
	// a unique key (two items of one rep both claiming the month's
	// first-intel bonus, say), or for a competitor's first report. Doing
	// the work again at once sees the winner's rows.
	ErrConflict = errors.New("conflicting concurrent write")
	// ErrNotClaimed means an item is no longer claimed by this worker: its
	// lease ran out and another worker took it, or a new receipt made it
	// due again.
	ErrNotClaimed = errors.New("item is not claimed by this worker")
)
