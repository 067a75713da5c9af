package source

import "time"

// State is what a source is doing.
type State string

// The states of a source.
const (
	StateStopped    State = "stopped"    // Run is not running
	StateConnecting State = "connecting" // dialing, logging in, selecting
	StateSyncing    State = "syncing"    // fetching and storing what is new
	StateIdle       State = "idle"       // waiting for the server to push news (IMAP IDLE)
	StatePolling    State = "polling"    // waiting for the next poll
	StateBackoff    State = "backoff"    // waiting to retry after an error
	StateDisabled   State = "disabled"   // a permanent error; retried slowly
	StateStandby    State = "standby"    // another replica holds the lease
)

// Status is a snapshot of a source for the dashboard and /readyz.
type Status struct {
	// Name is the source's name in the store; Kind its kind (imap,
	// twilio, …).
	Name, Kind string
	// Address is what the source reads, where that says more than its
	// name: a mailbox's address.
	Address string
	State   State
	// Connected is true while a source that keeps a connection holds one.
	Connected bool
	// LastSuccess is the end of the last successful sync.
	LastSuccess time.Time
	// LastError and LastErrorAt describe the last failure.
	LastError   string
	LastErrorAt time.Time
	// DisabledReason is set while a permanent error disables the source.
	DisabledReason string
	// RetryAt is when the next attempt starts in the backoff, disabled
	// and standby states, or the next poll.
	RetryAt time.Time
}
