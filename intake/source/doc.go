// Package source runs Earshot's intake sources: an IMAP mailbox, the
// Twilio account, a Slack channel. A Runner owns what every source shares:
// its status and the store's record of it, the lease that keeps one
// replica polling it, the standby while another replica holds it, the
// capped and jittered backoff after transient errors, and the slow retry
// of a source a permanent error disabled. A kind implements only what
// differs, as a Driver: one sync, and the wait until the next.
//
// The order is fixed: the store has a source's error, disabled reason or
// success before its status and metrics say so, so that /readyz, the
// dashboard and `earshot sources` never show what a restart would forget.
package source
