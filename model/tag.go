package model

// TagKind is what a tag says of an item.
type TagKind string

// The kinds of tags.
const (
	TagCategory   TagKind = "category"
	TagCompetitor TagKind = "competitor"
	TagProduct    TagKind = "product"
	TagTopic      TagKind = "topic"
)

// Categories an item is tagged with.
const (
	CategoryFeedback = "feedback"
	CategoryIntel    = "intel"
)

// Tag is a label on an item with the evidence that set it.
type Tag struct {
	ItemID int64
	Kind   TagKind
	Value  string
	// Evidence lists the phrases that set the tag.
	Evidence []Evidence
	// Origin is the rule that set it, or "manager:NAME".
	Origin string
}

// Assignment routes an item to an owner.
type Assignment struct {
	ItemID int64
	Owner  string
	// Route is the path through the route tree that chose the owner.
	Route string
}

// Evidence is a phrase that set a tag, and where it stood.
type Evidence struct {
	// Phrase is the original text, as written (for a mailbox, its
	// category).
	Phrase string
	// Field is where: mailbox, subject, text, transcript or forwarded.
	Field string
	// Offset is the byte offset of Phrase in the field (for a mailbox, its
	// index among the item's mailboxes).
	Offset int
	// Rule is set on evidence in a transcript that is not the name word
	// for word: "spoken form", "words joined", "sounds like" or "spelled
	// like"; Phrase is then what was heard.
	Rule string `json:",omitempty"`
	// Confidence is how likely a name heard by sound or spelling is the
	// name, between 0 and 1; 0 for evidence that states it word for word.
	Confidence float64 `json:",omitempty"`
}
