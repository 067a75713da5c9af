package templates

import "time"

// Data is what every template is executed with. Acks and SMS acks use Rep,
// Item, Points and Links; owner notices use Owner, Rep, Item and Links;
// digests and reminders use Owner, Items, Period and Links; the manager
// digest uses Month, Leaderboard, Items and Links. templates/README.md
// documents each field with an example.
type Data struct {
	// Rep is the contributing rep.
	Rep Rep
	// Item is the item an ack or notice is about.
	Item Item
	// Points is what the item earned and the rep's standing.
	Points Points
	// Owner is the recipient of a notice, digest or reminder.
	Owner Owner
	// Items are the items of a digest or reminder, or the notable intel of
	// a manager digest.
	Items []Item
	// Period names what a digest covers, e.g. "the last hour".
	Period string
	// Month names the month of a manager digest, e.g. "March 2026".
	Month string
	// Leaderboard is the month's standings, best first (manager digest).
	Leaderboard []Standing
	// Links are dashboard addresses.
	Links Links
	// Decision is the owner's decision a status note tells the rep about.
	Decision Decision
	// ReplyDecides says that the owner's reply to a notice records a
	// decision (decisions.reply_to is set).
	ReplyDecides bool
}

// Decision is what an owner decided about the rep's item.
type Decision struct {
	// Status is planned, shipped, declined, duplicate or triaged.
	Status string
	// Note is the owner's words to the rep; empty for none.
	Note string
	// Owner is who decided.
	Owner string
	// DuplicateOf is the item this one duplicates.
	DuplicateOf int64
	// Bonus is the quality points the decision paid the rep.
	Bonus int
}

// Rep is a sales rep as templates see them.
type Rep struct {
	// Name is the rep's full name; for an unregistered sender, the display
	// name of the mail or empty.
	Name string
	// FirstName is the first word of Name, for greetings.
	FirstName string
	// Address is the email address or phone number the item came from.
	Address string
	// Registered is false for a sender not (yet) on the rep roster.
	Registered bool
}

// Item is one contribution.
type Item struct {
	ID int64
	// Kind is email, voicemail or slack.
	Kind string
	// Subject is the mail's subject (empty for voicemail).
	Subject string
	// Text is the rep's own words: the mail body without quotes and
	// signature, or the voicemail transcript.
	Text string
	// Received is when it arrived, in the configured time zone.
	Received time.Time
	// Category is intel, feedback, both, or empty.
	Category string
	// Competitors, Products and Topics are the tags, with their evidence.
	Competitors []Tag
	Products    []Tag
	Topics      []Tag
	// Owners are the owners the item was routed to.
	Owners []string
	// URL is the item in the dashboard: {public_url}/items/{id}.
	URL string
	// AudioURL is the voicemail recording in the dashboard.
	AudioURL string
	// OriginalAttached tells whether an owner notice carries the original
	// email; a larger one than outbound's limit is only linked.
	OriginalAttached bool
	// Size is the stored message or recording in bytes.
	Size int64
	// Waiting is how long an assignment has waited for triage (reminders).
	Waiting time.Duration
	// Unreliable says why the voicemail's transcript may not be what was
	// said, e.g. "8000 Hz audio; the recogniser's model expects 16000
	// Hz": its tags are provisional and the owner should listen to the
	// recording. Empty when nothing is known against the transcript.
	Unreliable string
}

// Tag is one tag value and the phrases that set it.
type Tag struct {
	Value    string
	Evidence []string
}

// Points is what an item earned and where the rep stands.
type Points struct {
	// Awarded is the sum of Lines.
	Awarded int
	// Lines break Awarded down by reason.
	Lines []Line
	// Withheld says why the item earned nothing, e.g. "duplicate of item 12".
	Withheld string
	// Waiting is set for an unregistered sender: Awarded is granted once
	// the sender is registered as a rep.
	Waiting bool
	// Month names the month the points count for, e.g. "March 2026".
	Month string
	// MonthTotal is the rep's points this month, Awarded included.
	MonthTotal int
	// Rank is the rep's place this month (ties share a place); 0 unranked.
	Rank int
	// Ranked is how many reps have points this month.
	Ranked int
	// AllTime is the rep's points ever.
	AllTime int
	// Goals is the progress toward each monthly goal.
	Goals []Goal
	// Shipped and Planned count the rep's items shipped and planned this
	// quarter (Quarter, e.g. "Q1 2026").
	Shipped, Planned int
	Quarter          string
}

// Line is one reason for points, e.g. {"Competitive intel", 3}.
type Line struct {
	Label  string
	Points int
}

// Goal is the progress toward one monthly goal, e.g. 1 of 1 competitive
// nugget.
type Goal struct {
	Name   string
	Done   int
	Target int
	Met    bool
}

// Owner is the owner a notice, digest or reminder goes to.
type Owner struct {
	Name  string
	Email string
}

// Standing is one rep's line on a leaderboard.
type Standing struct {
	Rank   int
	Name   string
	Team   string
	Points int
	// Quality is the part of Points paid for planned and shipped items.
	Quality int
}

// Links are dashboard addresses; empty when http.public_url is not set.
type Links struct {
	// Dashboard is the public URL itself.
	Dashboard string
	// RepPage is the rep's own page (a signed, expiring link); empty when
	// there is no public URL or no rep.
	RepPage string
	// Leaderboard is the monthly leaderboard.
	Leaderboard string
}
