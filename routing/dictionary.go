package routing

import (
	"fmt"
	"slices"
	"strings"

	"github.com/coregx/ahocorasick"
)

// entityKind says what a dictionary phrase stands for.
type entityKind uint8

const (
	entityCompetitor entityKind = iota
	entityProduct
	entityTopic
	// entityContext marks a context word for ambiguous competitor aliases.
	entityContext
)

// target is one meaning of a dictionary phrase.
type target struct {
	kind entityKind
	// index is the competitor, product or topic index, or the context set for a context word.
	index int
	// exact lists the spellings the original text must have; empty when any case and accent will do.
	exact []string
	// ambiguous aliases count only with a word of context set ctxSet nearby; so do exact-case aliases in
	// caseless text.
	ambiguous bool
	ctxSet    int
	// spoken marks a spoken form of a keyword or alias (see WithSpokenForms), valid in transcripts only.
	spoken bool
}

// phrase is one distinct folded pattern of the automaton with everything it stands for.
type phrase struct {
	// wordStart and wordEnd say whether the phrase begins or ends with a word rune, where a match must sit on
	// a word boundary.
	wordStart, wordEnd bool
	targets            []target
}

// dictionary finds every phrase of the configuration in a folded text with one Aho-Corasick automaton.
type dictionary struct {
	ac      *ahocorasick.Automaton // nil when there are no phrases
	phrases []phrase
}

// dictionaryBuilder collects phrases before the automaton is compiled.
type dictionaryBuilder struct {
	byKey   map[string]int
	keys    []string
	phrases []phrase
}

// newDictionaryBuilder returns an empty builder.
func newDictionaryBuilder() *dictionaryBuilder {
	return &dictionaryBuilder{byKey: make(map[string]int)}
}

// add registers text with meaning t; text that folds to nothing is left out (Check reports it).
func (b *dictionaryBuilder) add(text string, t target) {
	key := aliasKey(text)
	if key == "" {
		return
	}
	id, ok := b.byKey[key]
	if !ok {
		id = len(b.keys)
		b.byKey[key] = id
		b.keys = append(b.keys, key)
		kb := []byte(key)
		b.phrases = append(b.phrases, phrase{wordStart: wordAt(kb, 0), wordEnd: wordBefore(kb, len(kb))})
	}
	p := &b.phrases[id]
	for i, have := range p.targets {
		if have.kind == t.kind && have.index == t.index {
			p.targets[i] = mergeTargets(have, t)
			return
		}
	}
	p.targets = append(p.targets, t)
}

// mergeTargets combines two registrations of one phrase for the same entity: the phrase needs the exact case
// if either does (any of the listed spellings), and context if either does.
func mergeTargets(a, b target) target {
	a.exact = slices.Concat(a.exact, b.exact)
	a.spoken = a.spoken && b.spoken // written anywhere, it counts everywhere
	if b.ambiguous {
		a.ambiguous = true
		a.ctxSet = b.ctxSet
	}
	return a
}

// build compiles the phrases into a dictionary.
func (b *dictionaryBuilder) build() (*dictionary, error) {
	d := &dictionary{phrases: b.phrases}
	if len(b.keys) == 0 {
		return d, nil
	}
	ac, err := ahocorasick.NewBuilder().AddStrings(b.keys).Build()
	if err != nil {
		return nil, fmt.Errorf("compile %d phrases: %w", len(b.keys), err)
	}
	d.ac = ac
	return d, nil
}

// hitRule is the rule behind a hit; it has no pointers so hit slices stay cheap for the garbage collector.
type hitRule uint8

const (
	hitAlias hitRule = iota
	hitExactCase
	hitContext
	hitKeyword
	hitSpoken
	hitJoined
	hitSoundsLike
	hitSpelledLike
)

// String returns the exported rule name, such as RuleAlias.
func (r hitRule) String() string {
	switch r {
	case hitExactCase:
		return RuleExactCaseAlias
	case hitContext:
		return RuleContextAlias
	case hitKeyword:
		return RuleKeyword
	case hitSpoken:
		return RuleSpokenForm
	case hitJoined:
		return RuleJoined
	case hitSoundsLike:
		return RuleSoundsLike
	case hitSpelledLike:
		return RuleSpelledLike
	default:
		return RuleAlias
	}
}

// hit is a phrase found on word boundaries in one folded text, for one of its targets.
type hit struct {
	kind entityKind
	rule hitRule
	// needsContext is set for an ambiguous alias, and for an exact-case alias in caseless text.
	needsContext bool
	// index is the entity (or the context set of a context word); ctxSet the context set a hit needs.
	index, ctxSet int32
	// start and end delimit the phrase in the folded text; stop also covers a possessive or plural suffix.
	start, end, stop int
}

// find appends the phrases found in f on word boundaries, checked for exact case against original, to
// entities and context (for context words). In caseless text, such as a machine transcript, the case says
// nothing, so an exact-case alias needs a context word instead.
func (d *dictionary) find(f folded, original string, caseless bool, entities, context []hit) ([]hit, []hit) {
	if d.ac == nil || len(f.text) == 0 {
		return entities, context
	}
	for _, m := range d.ac.FindAllOverlapping(f.text) {
		p := &d.phrases[m.PatternID]
		if p.wordStart && wordBefore(f.text, m.Start) {
			continue
		}
		stop, ok := boundaryEnd(f.text, m.End, p.wordEnd)
		if !ok {
			continue
		}
		for i := range p.targets {
			t := &p.targets[i]
			h := hit{kind: t.kind, index: int32(t.index), ctxSet: int32(t.ctxSet), start: m.Start, end: m.End, stop: stop}
			switch {
			case t.spoken && !caseless:
				continue
			case t.kind == entityContext:
				context = append(context, h)
				continue
			case t.kind != entityCompetitor:
				h.rule = hitKeyword
			case len(t.exact) > 0 && caseless:
				h.needsContext = true
			case len(t.exact) > 0:
				if !hasSpelling(original[f.at(m.Start):f.at(m.End)], t.exact) {
					continue
				}
				h.rule = hitExactCase
			}
			if t.ambiguous {
				h.needsContext = true
			}
			if h.needsContext {
				h.rule = hitContext
			}
			if t.spoken {
				h.rule = hitSpoken
			}
			entities = append(entities, h)
		}
	}
	return entities, context
}

// boundaryEnd returns where a phrase ending at end stops once a possessive or plural suffix is taken in, and
// whether it ends on a word boundary at all.
func boundaryEnd(text []byte, end int, wordEnd bool) (int, bool) {
	if !wordEnd {
		return end, true
	}
	if end == len(text) {
		return end, true
	}
	if c := text[end]; c != '\'' && c != 's' && c != 'e' {
		return end, !wordAt(text, end)
	}
	// Possessive and plural endings, longest first; curly apostrophes are already straight in folded text.
	for _, s := range [...]string{"'s", "s'", "es", "s"} {
		stop := end + len(s)
		if stop <= len(text) && string(text[end:stop]) == s && !wordAt(text, stop) {
			return stop, true
		}
	}
	return end, !wordAt(text, end)
}

// hasSpelling reports whether s, with white space runs collapsed, is exactly one of spellings.
func hasSpelling(s string, spellings []string) bool {
	s = strings.Join(strings.Fields(s), " ")
	for _, want := range spellings {
		if s == want {
			return true
		}
	}
	return false
}
