package model

import "time"

// Processed is what processing found of an item, stored with the item's
// new state in one transaction.
type Processed struct {
	// Sender is the folded address or the E.164 number it came from.
	Sender string
	// RepID is the contributing rep; 0 when the sender is no rep or the
	// claim to be one did not verify.
	RepID int64
	// Trust is who the item is from, as far as Earshot trusts it, and
	// TrustReason why.
	Trust       Trust
	TrustReason string
	Subject     string
	BodyText    string
	FullText    string
	AutoReason  string
	Warnings    []string
	// Message is what was understood of the email or voicemail.
	Message Message
	// Tags replace the item's rule tags; tags a manager set are kept.
	Tags []Tag
	// Assignments are added; existing ones (and their triage) are kept.
	Assignments []Assignment
	// Ledger entries are appended once per (item, reason).
	Ledger []LedgerEntry
	// Unpaid are the entries of Ledger not paid before: what completing
	// the result adds to the ledger.
	Unpaid []LedgerEntry
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
	// Ack says whether and how the sender is acknowledged; processing sets
	// it for awarding, and it is not stored.
	Ack AckRule
}

// AckRule says whether and how an item's sender is acknowledged.
type AckRule struct {
	// Withheld says why a contributor gets no ack (a manager's credit
	// without one); empty to send it.
	Withheld string
	// HourlyCap bounds the acks per hour to senders outside the roster
	// (a mailbox that accepts anyone); 0 for none.
	HourlyCap int
}

// AckCap is a daily cap on acks to one recipient (by its folded key, see
// OutboxMessage.RecipientKey): at most Max acks that were not suppressed
// since Since.
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
