package routing

// Competitor is a rival company whose mentions are competitive intel.
type Competitor struct {
	// Name is the canonical name, used as the tag value; it is matched like an alias.
	Name string `yaml:"name"`
	// Aliases are other spellings and product names that identify the competitor.
	Aliases []string `yaml:"aliases"`
	// Owner optionally names the owner who follows this competitor (see EntityRoutes).
	Owner string `yaml:"owner"`
	// ExactCase lists aliases that match only with exactly this case, for names that are also common words
	// ("Box" but not "box"). An entry that is not among Name and Aliases is matched as an extra alias. In a
	// voicemail transcript, whose case comes from the transcription engine, such an alias counts only with a
	// context word nearby instead.
	ExactCase []string `yaml:"exact_case"`
	// Ambiguous lists aliases that count only with a context word nearby ("Apple" next to "pricing" or
	// "switch", not in "apple pie").
	Ambiguous []string `yaml:"ambiguous"`
	// Context holds the words that make an ambiguous alias count; DefaultContext is used when it is empty.
	Context []string `yaml:"context"`
}

// Product is a product or product area that feedback is about.
type Product struct {
	// Name is the canonical name, used as the tag value; it is not matched unless listed among Keywords.
	Name string `yaml:"name"`
	// Keywords are the words and phrases that mark a mention of the product.
	Keywords []string `yaml:"keywords"`
	// Owner optionally names the product manager for this product (see EntityRoutes).
	Owner string `yaml:"owner"`
	// Weight is the relative importance of feedback on this product for scoring; zero means 1.
	Weight float64 `yaml:"weight"`
}

// Topic is a theme such as pricing or an outage, recognised by keywords.
type Topic struct {
	// Name is the tag value.
	Name string `yaml:"name"`
	// Keywords are the words and phrases that raise the topic.
	Keywords []string `yaml:"keywords"`
}

// DefaultContext returns the context words that make an ambiguous competitor alias count when the competitor
// lists none of its own.
func DefaultContext() []string {
	return []string{
		"competitor", "competition", "competing", "compete", "rival",
		"switch", "switched", "switching", "moving to", "moved to", "migrate", "migrating", "migrated",
		"went with", "going with", "chose", "picked", "signed with", "lost to", "replace", "replacing",
		"pricing", "price", "priced", "quote", "quoted", "discount", "cheaper", "deal", "vendor",
		"contract", "renewal", "rfp", "proposal", "pitch", "pitched", "demo", "trial", "eval", "evaluating",
		"alternative", "versus", "vs", "offer", "offered", "offering", "undercut",
	}
}
