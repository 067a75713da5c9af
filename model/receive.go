package model

import "time"

// ItemKind is what an item is.
type ItemKind string

// The kinds of items.
const (
	KindEmail     ItemKind = "email"
	KindVoicemail ItemKind = "voicemail"
	KindSlack     ItemKind = "slack"
)

// RawItem is one email or voicemail exactly as the source delivered it.
type RawItem struct {
	// SourceKey identifies the item within its source: "uidvalidity:uid"
	// for IMAP, the RecordingSid for Twilio, "team:channel:ts" for Slack.
	SourceKey string
	// Kind is KindEmail, KindVoicemail or KindSlack.
	Kind ItemKind
	// Mailbox is the address of the mailbox it arrived in (empty for voicemail).
	Mailbox string
	// MessageID is the Message-ID without angle brackets, if any.
	MessageID string
	// ContentHash identifies the same message across mailboxes and
	// UIDVALIDITY changes; items with the same hash are one item.
	ContentHash string
	// Raw is the RFC 822 message or the audio.
	Raw []byte
	// Truncated is set when Raw holds only the headers of an oversized message.
	Truncated bool
	// Meta is source metadata as a JSON object (e.g. recording details).
	Meta string
	// ReceivedAt is when the source received it (IMAP INTERNALDATE, the
	// recording's creation time); the store's clock when zero.
	ReceivedAt time.Time
}

// Batch is what a source hands to the store in one transaction: new raw
// items and the cursor that follows them.
type Batch struct {
	Source string
	// Holder is the lease holder; the batch is refused with ErrLeaseLost if
	// another replica took the source meanwhile. Empty skips the check.
	Holder string
	// Cursor is the source's JSON cursor after these items; empty keeps it.
	Cursor string
	Items  []RawItem
}

// ReceiveResult counts what a batch did.
type ReceiveResult struct {
	// Inserted items are new.
	Inserted int
	// Linked items were already stored through another mailbox or an
	// earlier UIDVALIDITY: a new receipt, no new item.
	Linked int
	// Repeated items were already received from this source under this key.
	Repeated int
}
