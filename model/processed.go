package model

import "time"

// Processed is what processing found of an item, stored with the item's
// new state in one transaction.
type Processed struct {
	// Sender is the folded address or the E.164 number it came from.
	Sender string
	// RepID is the contributing rep; 0 when the sender is no rep.
	RepID      int64
	Subject    string
	BodyText   string
	FullText   string
	AutoReason string
	Warnings   []string
	// Message is what was understood of the email or voicemail.
	Message Message
	// Tags replace the item's rule tags; tags a manager set are kept.
	Tags []Tag
	// Assignments are added; existing ones (and their triage) are kept.
	Assignments []Assignment
	// Ledger entries are appended once per (item, reason).
	Ledger []LedgerEntry
	// Outbox messages are enqueued once per (item, kind, recipient).
	Outbox []OutboxMessage
	// FirstReports are the competitors this result pays a first-report
	// bonus for. Completion refuses the result with ErrConflict when
	// another item named one of them meanwhile, so that it is scored again.
	FirstReports []FirstReport
	// AckCap, when set, is the daily cap the ack in Outbox was let through
	// under. Completion refuses the result with ErrConflict when other acks
	// to the recipient filled the cap meanwhile, so that it is suppressed.
	AckCap *AckCap
}

// AckCap is a daily cap on acks to one recipient: at most Max acks that
// were not suppressed since Since.
type AckCap struct {
	Recipient string
	Since     time.Time
	Max       int
}

// FirstReport claims that no other processed item received between Since
// and Until named Competitor.
type FirstReport struct {
	Competitor   string
	Since, Until time.Time
}
