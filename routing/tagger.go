package routing

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Tagger tags items with categories, competitors, products and topics. It is compiled once by NewTagger, never
// changes afterwards and is safe for concurrent use.
type Tagger struct {
	dict        *dictionary
	heard       *heardIndex // names matched by sound in transcripts; empty when turned off
	foldTable   *foldTable
	workspaces  sync.Pool // of *workspace, whose buffers are reused across calls
	competitors []Competitor
	products    []Product
	topics      []Topic
}

// contextWindow is how many words may separate an ambiguous alias from its context word.
const contextWindow = 8

// NewTagger compiles the competitors, products and topics into a Tagger. It fails when Check reports a
// problem that is not a warning; the error names the entry. In transcripts, competitor names and aliases and
// product keywords that are names are also matched by sound and spelling, unless WithoutHeardNames is given,
// and the spoken forms of keywords count (see WithSpokenForms).
func NewTagger(competitors []Competitor, products []Product, topics []Topic, opts ...Option) (*Tagger, error) {
	if err := problemsError("tagging configuration", Check(competitors, products, topics)); err != nil {
		return nil, err
	}
	o := newOptions(opts)
	t := &Tagger{
		heard:       &heardIndex{},
		foldTable:   newFoldTable(),
		competitors: slices.Clone(competitors),
		products:    slices.Clone(products),
		topics:      slices.Clone(topics),
	}
	b := newDictionaryBuilder()
	// Context words are registered once per set: the default set, shared, and one per competitor that names
	// its own.
	sets, defaultSet := 0, -1
	contextSet := func(c Competitor) int {
		if len(c.Context) > 0 {
			sets++
			addAll(b, c.Context, target{kind: entityContext, index: sets - 1})
			return sets - 1
		}
		if defaultSet < 0 {
			defaultSet, sets = sets, sets+1
			addAll(b, DefaultContext(), target{kind: entityContext, index: defaultSet})
		}
		return defaultSet
	}
	for i, c := range competitors {
		ctxSet := -1
		if len(c.Ambiguous) > 0 || len(c.ExactCase) > 0 || o.heardNames {
			ctxSet = contextSet(c)
		}
		for _, a := range competitorAliases(c) {
			b.add(a.text, target{kind: entityCompetitor, index: i, exact: a.exact, ambiguous: a.ambiguous, ctxSet: ctxSet})
			// Names that are common words are guarded by case or context; by sound they would match anything.
			if o.heardNames && !a.ambiguous && len(a.exact) == 0 {
				t.heard.add(entityCompetitor, i, ctxSet, a.text)
			}
		}
	}
	for i, p := range products {
		addAll(b, p.Keywords, target{kind: entityProduct, index: i})
		for _, k := range p.Keywords {
			if o.heardNames {
				t.heard.add(entityProduct, i, -1, k)
			}
		}
	}
	for i, tp := range topics {
		addAll(b, tp.Keywords, target{kind: entityTopic, index: i})
	}
	b.addSpokenForms(o.spoken)
	d, err := b.build()
	if err != nil {
		return nil, fmt.Errorf("new tagger: %w", err)
	}
	t.dict = d
	return t, nil
}

func addAll(b *dictionaryBuilder, phrases []string, t target) {
	for _, p := range phrases {
		b.add(p, t)
	}
}

// alias is one distinct spelling of a competitor with its matching rules.
type alias struct {
	text      string
	exact     []string
	ambiguous bool
}

// competitorAliases returns the name, aliases, exact-case and ambiguous entries of c, one per folded form.
func competitorAliases(c Competitor) []alias {
	exact := make(map[string][]string)
	for _, e := range c.ExactCase {
		k := aliasKey(e)
		exact[k] = append(exact[k], strings.Join(strings.Fields(e), " "))
	}
	ambiguous := make(map[string]bool)
	for _, a := range c.Ambiguous {
		ambiguous[aliasKey(a)] = true
	}
	var out []alias
	seen := make(map[string]bool)
	all := append(append(append([]string{c.Name}, c.Aliases...), c.ExactCase...), c.Ambiguous...)
	for _, a := range all {
		k := aliasKey(a)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, alias{text: a, exact: exact[k], ambiguous: ambiguous[k]})
	}
	return out
}

// aliasKey is the folded form that decides whether two aliases or keywords are the same.
func aliasKey(s string) string {
	return strings.TrimSpace(foldString(s))
}

// workspace holds the buffers of one Tag call, pooled so that calls reuse them.
type workspace struct {
	folder            *folder
	entities, context []hit
	mentions          []mention
}

// mention is one piece of evidence for one entity, gathered while an item is scanned. It holds no pointers, so
// gathering and sorting mentions costs the garbage collector nothing; the phrase is cut from the input at the
// end.
type mention struct {
	key         uint64 // entity kind and index, in tag order
	rule        hitRule
	conf        uint8 // percent, for a name heard by sound or spelling; 0 word for word
	field       int8  // index into the fields of the item
	part        int32 // forwarded part
	start, stop int32 // span of the phrase in the field (part)
	offset      int32 // Evidence.Offset
}

func entityKey(k entityKind, index int32) uint64 { return uint64(k)<<32 | uint64(uint32(index)) }

func keyEntity(key uint64) (entityKind, int) { return entityKind(key >> 32), int(uint32(key)) }

// Scanned fields in scanning order, for mention.field.
const (
	scanSubject int8 = iota
	scanText
	scanTranscript
	scanForwarded
)

// fieldText returns the name and text of the field of m.
func fieldText(in Input, m mention) (name, text string) {
	switch m.field {
	case scanSubject:
		return FieldSubject, in.Subject
	case scanText:
		return FieldText, in.Text
	case scanTranscript:
		return FieldTranscript, in.Transcript
	default:
		return FieldForwarded, in.Forwarded[m.part]
	}
}

// Tag returns the tags of in: categories first, then competitors, products and topics, each in configuration
// order. The same input always gives the same tags.
func (t *Tagger) Tag(in Input) []Tag {
	w, ok := t.workspaces.Get().(*workspace)
	if !ok {
		w = &workspace{folder: newFolder(t.foldTable)}
	}
	defer t.workspaces.Put(w)
	w.mentions = w.mentions[:0]
	scan := func(field int8, part int32, s string, base int) {
		if strings.TrimSpace(s) == "" {
			return
		}
		fd := w.folder.fold(s)
		w.entities, w.context = t.dict.find(fd, s, field == scanTranscript, w.entities[:0], w.context[:0])
		exact := outermost(withContext(w.entities, w.context, fd.text))
		for _, h := range exact {
			start, stop := fd.at(h.start), fd.at(h.stop)
			w.mentions = append(w.mentions, mention{key: entityKey(h.kind, h.index), rule: h.rule, field: field,
				part: part, start: int32(start), stop: int32(stop), offset: int32(base + start)})
		}
		if field != scanTranscript {
			return
		}
		for _, h := range t.heard.find(fd.text, exact, w.context) {
			start, stop := fd.at(h.start), fd.at(h.end)
			w.mentions = append(w.mentions, mention{key: entityKey(h.name.kind, h.name.index), rule: h.rule,
				conf: uint8(h.conf), field: field, start: int32(start), stop: int32(stop), offset: int32(start)})
		}
	}
	scan(scanSubject, 0, in.Subject, 0)
	scan(scanText, 0, in.Text, 0)
	scan(scanTranscript, 0, in.Transcript, 0)
	base := 0
	for i, part := range in.Forwarded {
		scan(scanForwarded, int32(i), part, base)
		base += len(part) + len(forwardedSeparator)
	}
	if replySubject(in.Subject) {
		w.mentions = dropQuotedSubject(w.mentions)
	}
	entities := t.entityTags(in, w.mentions)
	tags := append(categorize(in, entities), entities...)
	for i := range tags {
		tags[i].Confidence = confidence(tags[i].Evidence)
	}
	return tags
}

// confidence is 1 when some evidence states the tag word for word, otherwise the best confidence of the
// evidence.
func confidence(evs []Evidence) float64 {
	best := 0.0
	for _, ev := range evs {
		if ev.Confidence == 0 {
			return 1
		}
		best = max(best, ev.Confidence)
	}
	return best
}

// entityTags groups mentions into one tag per entity, in configuration order, with its evidence in the order
// found (at most maxEvidence) and the rule of the first. All evidence shares one allocation.
func (t *Tagger) entityTags(in Input, ms []mention) []Tag {
	slices.SortStableFunc(ms, func(a, b mention) int { return cmp.Compare(a.key, b.key) })
	nTags, nEvidence := 0, 0
	for i := 0; i < len(ms); {
		j := sameEntity(ms, i)
		nTags++
		nEvidence += min(j-i, maxEvidence)
		i = j
	}
	tags := make([]Tag, 0, nTags)
	evidence := make([]Evidence, 0, nEvidence)
	for i := 0; i < len(ms); {
		j := sameEntity(ms, i)
		from := len(evidence)
		for _, m := range ms[i:min(j, i+maxEvidence)] {
			name, text := fieldText(in, m)
			ev := Evidence{Phrase: text[m.start:m.stop], Field: name, Offset: int(m.offset), Confidence: float64(m.conf) / 100}
			if m.rule >= hitSpoken {
				ev.Rule = m.rule.String()
			}
			evidence = append(evidence, ev)
		}
		kind, index := keyEntity(ms[i].key)
		tags = append(tags, Tag{
			Kind:     t.kindName(kind),
			Value:    t.entityName(kind, index),
			Evidence: evidence[from:len(evidence):len(evidence)],
			Rule:     ms[i].rule.String(),
		})
		i = j
	}
	return tags
}

// sameEntity returns the end of the run of mentions of the entity of ms[i].
func sameEntity(ms []mention, i int) int {
	j := i + 1
	for j < len(ms) && ms[j].key == ms[i].key {
		j++
	}
	return j
}

func (t *Tagger) kindName(k entityKind) string {
	switch k {
	case entityCompetitor:
		return KindCompetitor
	case entityProduct:
		return KindProduct
	default:
		return KindTopic
	}
}

func (t *Tagger) entityName(k entityKind, i int) string {
	switch k {
	case entityCompetitor:
		return t.competitors[i].Name
	case entityProduct:
		return t.products[i].Name
	default:
		return t.topics[i].Name
	}
}
