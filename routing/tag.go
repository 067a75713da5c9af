package routing

// Tag kinds.
const (
	KindCategory   = "category"
	KindCompetitor = "competitor"
	KindProduct    = "product"
	KindTopic      = "topic"
)

// Categories.
const (
	CategoryFeedback = "feedback"
	CategoryIntel    = "intel"
)

// Evidence fields.
const (
	FieldMailbox    = "mailbox"
	FieldSubject    = "subject"
	FieldText       = "text"
	FieldTranscript = "transcript"
	FieldForwarded  = "forwarded"
)

// Rules that produce tags, recorded in Tag.Rule.
const (
	// RuleMailbox: the category of the mailbox the item arrived in.
	RuleMailbox = "mailbox"
	// RuleCompetitorMention: a competitor was named, which makes the item intel.
	RuleCompetitorMention = "competitor mention"
	// RuleContent: an item from no mailbox (a voicemail) is feedback by its content.
	RuleContent = "content"
	// RuleAlias: a competitor name or alias.
	RuleAlias = "alias"
	// RuleExactCaseAlias: an alias that must match with its exact case.
	RuleExactCaseAlias = "exact-case alias"
	// RuleContextAlias: an ambiguous alias with a context word nearby.
	RuleContextAlias = "alias with context"
	// RuleKeyword: a product or topic keyword.
	RuleKeyword = "keyword"
	// RuleSpokenForm: in a transcript, a spoken form of a keyword or alias ("single sign on" for SSO).
	RuleSpokenForm = "spoken form"
	// RuleJoined: in a transcript, words that spell a name once joined ("north wind" for Northwind).
	RuleJoined = "words joined"
	// RuleSoundsLike: in a transcript, words that sound like a name (Double Metaphone).
	RuleSoundsLike = "sounds like"
	// RuleSpelledLike: in a transcript, words spelled within an edit or two of a name.
	RuleSpelledLike = "spelled like"
)

// forwardedSeparator is what Evidence offsets in forwarded text count between two forwarded parts.
const forwardedSeparator = "\n\n"

// Input is the text of one item to tag.
type Input struct {
	// Mailboxes are the categories of the mailboxes the item arrived in: "feedback", "intel", both, or none
	// for a voicemail.
	Mailboxes []string
	// Subject is the mail subject.
	Subject string
	// Text is the body without quoted reply and signature.
	Text string
	// Transcript is the voicemail transcript.
	Transcript string
	// Quoted is quoted reply text; it never produces tags.
	Quoted string
	// Forwarded holds forwarded customer mail, which counts like the rep's own text.
	Forwarded []string
}

// Evidence is one phrase that produced a tag.
type Evidence struct {
	// Phrase is the original text, as written (for a mailbox, its category).
	Phrase string
	// Field is one of FieldMailbox, FieldSubject, FieldText, FieldTranscript or FieldForwarded.
	Field string
	// Offset is the byte offset of Phrase in the field. Forwarded parts count as if joined by a blank line;
	// for a mailbox it is the index in Input.Mailboxes.
	Offset int
	// Rule is set on evidence from a transcript that is not the name or keyword word for word: RuleSpokenForm,
	// RuleJoined, RuleSoundsLike or RuleSpelledLike. Phrase is then what was heard.
	Rule string `json:",omitempty"`
	// Confidence is how likely a name heard by sound or spelling is the name, between 0 and 1; 0 for evidence
	// that states it word for word.
	Confidence float64 `json:",omitempty"`
}

// Tag is one fact about an item.
type Tag struct {
	// Kind is KindCategory, KindCompetitor, KindProduct or KindTopic.
	Kind string
	// Value is the category, or the name of the competitor, product or topic.
	Value string
	// Evidence lists the phrases behind the tag in field and text order, at most maxEvidence of them.
	Evidence []Evidence
	// Rule names the rule behind the first evidence.
	Rule string
	// Confidence is 1 when some evidence states the tag word for word; otherwise the best confidence of its
	// evidence, all of it names heard by sound or spelling in a transcript: the tag is provisional.
	Confidence float64
}

// maxEvidence bounds the evidence kept per tag; a long mail that names a competitor twenty times needs no
// twenty quotes.
const maxEvidence = 5
