package model

import (
	"encoding/json"
	"fmt"
	"time"
)

// ItemState is where an item is in processing.
type ItemState string

// The states of an item.
const (
	// StateReceived items wait for a worker (or are being processed).
	StateReceived ItemState = "received"
	// StateProcessed items are tagged, routed, credited and acknowledged.
	StateProcessed ItemState = "processed"
	// StateQuarantined items failed too often; a manager re-runs them.
	StateQuarantined ItemState = "quarantined"
)

// Item is a stored email or voicemail with its processing state.
type Item struct {
	ID          int64
	Kind        ItemKind
	MessageID   string
	ContentHash string
	// Raw is the RFC 822 message or the audio; nil when a claim left out
	// a large item's bytes (read them with the store's ReadRaw).
	Raw          []byte
	RawSize      int64
	RawTruncated bool
	// Meta is the source's metadata as a JSON object (see VoicemailMeta).
	Meta          string
	ReceivedAt    time.Time
	State         ItemState
	Attempts      int
	NextAttemptAt time.Time
	ClaimedBy     string
	LastError     string
	// ProcessedAt is zero until the item is processed.
	ProcessedAt time.Time
	// Sender is the folded address or the E.164 number it came from.
	Sender string
	// RepID is the contributing rep; 0 for a sender who is not one.
	RepID    int64
	Subject  string
	BodyText string
	// Transcript is the saved transcript of the item's audio; HasTranscript
	// tells an empty transcript (silence) from none yet.
	Transcript    string
	HasTranscript bool
	// TranscriptUnreliable says why the transcript may not be what was
	// said ("8000 Hz audio; the recogniser's model expects 16000 Hz");
	// empty when nothing is known against it. Such an item waits in the
	// dashboard's listen queue until a manager corrects the transcript.
	TranscriptUnreliable string
	// AutoReason says why the item is auto-generated (out-of-office,
	// bounce, list); empty for a person's message.
	AutoReason string
	Warnings   []string
	// Trust is who Earshot believes the item is from, and TrustReason
	// why (e.g. "dkim=pass (example.com, aligned)").
	Trust       Trust
	TrustReason string
	// DuplicateOf is the item this one repeats, as the items table
	// records it; 0 when none. A duplicate earns no points.
	DuplicateOf int64
	// Mailboxes are the mailboxes it was received in, in order, as the
	// claim that handed it out read them (a new receipt makes it due
	// again); nil when not read.
	Mailboxes []string
	// Review is a manager's verdict on the item, nil for none, as the
	// claim read it when ReviewRead is set (a review takes the item from
	// its claim); otherwise the gate asks the store.
	Review     *Review
	ReviewRead bool
	// SenderRep is the rep whose address is SenderAddr, nil for none, as
	// the item's batch read it for the address its From folds to
	// (intake.SenderAddress); SenderAddr is "" when it was not read. For
	// another address the gate asks the store.
	SenderAddr string
	SenderRep  *Rep
}

// VoicemailMeta decodes the metadata of a voicemail item.
func (it Item) VoicemailMeta() (VoicemailMeta, error) {
	var m VoicemailMeta
	if err := json.Unmarshal([]byte(it.Meta), &m); err != nil {
		return m, fmt.Errorf("item %d: voicemail meta: %w", it.ID, err)
	}
	return m, nil
}

// VoicemailMeta is what the Twilio source stores with a voicemail.
type VoicemailMeta struct {
	RecordingSID string `json:"recording_sid"`
	CallSID      string `json:"call_sid"`
	AccountSID   string `json:"account_sid"`
	// From is the caller's number as Twilio gives it (E.164 for phones;
	// a withheld number reads "Anonymous" or a placeholder like +266696687).
	From          string `json:"from"`
	To            string `json:"to"`
	CallerName    string `json:"caller_name,omitempty"`
	ForwardedFrom string `json:"forwarded_from,omitempty"`
	// Duration is in seconds; -1 when Twilio did not say.
	Duration int `json:"duration"`
	// DateCreated is the recording's creation time, RFC 3339 in UTC.
	DateCreated      string `json:"date_created"`
	RecordingSource  string `json:"recording_source,omitempty"`
	Channels         int    `json:"channels,omitempty"`
	MediaFormat      string `json:"media_format"`
	MediaContentType string `json:"media_content_type,omitempty"`
}

// Transcript is what speech-to-text made of an item's audio.
type Transcript struct {
	// Text is the transcript; empty when the audio holds no speech (Note
	// says why) or while the item awaits a manager's transcript.
	Text string
	// Engine names what made it: "command", "openai", "twilio", "none" or
	// "manager:NAME".
	Engine string
	// Language is the spoken language when the engine reports it.
	Language string
	// Confidence is between 0 and 1; 0 means unknown.
	Confidence float64
	// Unreliable says why Text should not be taken as what was said (the
	// engine rated it low, or the audio is poorer than its model is made
	// for); empty when nothing is known against it. The tags it gives are
	// provisional: a person should listen to the recording.
	Unreliable string
	// Note says why Text is empty ("silence", "no speech recognised",
	// "waiting for a manager's transcript").
	Note string
	// Awaiting marks an item that has no machine transcript and waits for a
	// manager to type one.
	Awaiting bool
}

// Text is the rep's own words: the mail's text, or the transcript.
func (it Item) Text() string {
	if it.BodyText == "" && it.HasTranscript {
		return it.Transcript
	}
	return it.BodyText
}

// TaggedItem is an item with its tags, as digests and reminders list it.
type TaggedItem struct {
	Item
	Tags []Tag
}

// DueAssignment is an assignment a digest or a reminder is about.
type DueAssignment struct {
	AssignmentID int64
	Owner        string
	AssignedAt   time.Time
	TaggedItem
}
