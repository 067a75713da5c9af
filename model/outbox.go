package model

import "time"

// OutboxKind is what an outgoing message is.
type OutboxKind string

// The kinds of outgoing messages.
const (
	OutboxAck         OutboxKind = "ack"
	OutboxOwnerNotice OutboxKind = "owner_notice"
	OutboxDigest      OutboxKind = "digest"
	OutboxReminder    OutboxKind = "reminder"
	// OutboxStatusNote tells the rep what became of an item.
	OutboxStatusNote OutboxKind = "status_note"
	// OutboxWebhook is an event delivered to a configured endpoint.
	OutboxWebhook OutboxKind = "webhook"
)

// Channel is how a message travels.
type Channel string

// The channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
	// ChannelSlack posts in Slack: Body is a SlackPost as JSON.
	ChannelSlack Channel = "slack"
	// ChannelWebhook posts a signed JSON event: Recipient names the
	// endpoint, Body is the event.
	ChannelWebhook Channel = "webhook"
)

// OutboxState is where an outgoing message is.
type OutboxState string

// The states of an outgoing message.
const (
	OutboxPending    OutboxState = "pending"
	OutboxSent       OutboxState = "sent"
	OutboxFailed     OutboxState = "failed"
	OutboxSuppressed OutboxState = "suppressed"
)

// SentMessage is an outbox message sent, for marking it so.
type SentMessage struct {
	ID int64
	// ProviderID is the SMTP queue id or Message-ID, or the Twilio SID.
	ProviderID string
}

// OutboxMessage is a rendered message waiting to be sent (or suppressed,
// with the reason decided when it was enqueued).
type OutboxMessage struct {
	ID int64
	// ItemID is the item it is about; 0 for digests and reminders.
	ItemID    int64
	Kind      OutboxKind
	Channel   Channel
	Recipient string
	// RecipientKey is the recipient as the caps count it: a mail address
	// folded (lower case, no +tag where the domain takes them), a phone
	// number as it is.
	RecipientKey string
	// Owner names the owner an owner notice is for; completion marks that
	// owner's assignment notified. Not stored.
	Owner   string
	Subject string
	// Body is the whole RFC 5322 message for email, the text for SMS.
	Body []byte
	// Original, for an owner notice, is where the item's raw message goes
	// into Body as its attachment: the notice is stored without it (the
	// item keeps the one copy) and the sender splices it in.
	Original Deferred
	State    OutboxState
	Reason   string
	// Attempts counts send attempts; NextAttemptAt is when the next is due.
	Attempts      int
	NextAttemptAt time.Time
	ClaimedBy     string
	// LastError is the last failure, e.g. the SMTP server's answer.
	LastError string
	// ProviderID is the SMTP queue id or Message-ID, or the Twilio SID.
	ProviderID string
	CreatedAt  time.Time
	// SentAt is zero until the message is sent.
	SentAt time.Time
}

// Deferred is an attachment left out of a stored message: the byte
// offset of its part's empty body and the transfer encoding its part's
// header announces (At 0: nothing deferred). Data is the attachment's
// bytes: an enqueued notice carries them from its composer, a claimed
// one has them loaded for the sender; they are never stored in the
// outbox.
type Deferred struct {
	At       int
	Encoding string
	Data     []byte
}

// AckQuery asks how many acks (not suppressed) went out, to weigh a new
// one against the caps.
type AckQuery struct {
	// RecipientKey and Domain count one recipient's and one domain's acks
	// since Day (the start of the day in the configured zone).
	RecipientKey, Domain string
	Day                  time.Time
	// Hour is an hour ago: all acks since, and those to senders outside
	// the roster (trust open) since.
	Hour time.Time
	// Upto bounds each count: a cap only asks whether it is reached, so a
	// count stops at the cap instead of reading every ack of a busy day.
	// A count whose bound is 0 is not taken and reads 0.
	Upto AckCounts
}

// AckCounts answers an AckQuery.
type AckCounts struct {
	Recipient, Domain, Hour, OpenHour int
}
