package routing

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
)

// substantiveWords is how many words an item from no mailbox needs to count as feedback when it names no
// product or topic: about a greeting and one sentence. A hang-up or a "call me back" is not feedback.
const substantiveWords = 12

// categorize decides the category tags. The mailboxes give the default and naming a competitor adds intel. An
// item from no mailbox (a voicemail) gets one category from its content: intel when it names a competitor,
// otherwise feedback when it names a product or topic or says something substantive. Its product tags still
// reach product owners through the route tree.
func categorize(in Input, entities []Tag) []Tag {
	var tags []Tag
	addEvidence := func(value, rule string, evs ...Evidence) {
		for i := range tags {
			if tags[i].Value == value {
				for _, ev := range evs {
					if len(tags[i].Evidence) < maxEvidence {
						tags[i].Evidence = append(tags[i].Evidence, ev)
					}
				}
				return
			}
		}
		tags = append(tags, Tag{Kind: KindCategory, Value: value, Rule: rule, Evidence: evs[:min(len(evs), maxEvidence)]})
	}
	for i, m := range in.Mailboxes {
		ev := Evidence{Phrase: m, Field: FieldMailbox, Offset: i}
		switch v := strings.ToLower(strings.TrimSpace(m)); v {
		case "":
		case "both":
			addEvidence(CategoryFeedback, RuleMailbox, ev)
			addEvidence(CategoryIntel, RuleMailbox, ev)
		default:
			addEvidence(v, RuleMailbox, ev)
		}
	}
	fromMailbox := len(tags) > 0
	competitors := firstEvidence(entities, KindCompetitor)
	if len(competitors) > 0 {
		addEvidence(CategoryIntel, RuleCompetitorMention, competitors...)
	}
	if fromMailbox || len(competitors) > 0 {
		return tags
	}
	if products := firstEvidence(entities, KindProduct); len(products) > 0 {
		addEvidence(CategoryFeedback, RuleContent, products...)
	} else if topics := firstEvidence(entities, KindTopic); len(topics) > 0 {
		addEvidence(CategoryFeedback, RuleContent, topics...)
	} else if ev, ok := substantive(in); ok {
		addEvidence(CategoryFeedback, RuleContent, ev)
	}
	return tags
}

// firstEvidence returns the first evidence of each tag of kind k, in field and text order.
func firstEvidence(tags []Tag, kind string) []Evidence {
	var out []Evidence
	for _, t := range tags {
		if t.Kind == kind {
			out = append(out, t.Evidence[0])
		}
	}
	slices.SortStableFunc(out, func(a, b Evidence) int {
		return cmp.Or(cmp.Compare(fieldRank(a.Field), fieldRank(b.Field)), cmp.Compare(a.Offset, b.Offset))
	})
	return out
}

// fieldRank orders evidence fields as the item is read.
func fieldRank(field string) int {
	switch field {
	case FieldMailbox:
		return 0
	case FieldSubject:
		return 1
	case FieldText:
		return 2
	case FieldTranscript:
		return 3
	default:
		return 4
	}
}

// substantive reports whether the item says enough to be feedback, with its first words as evidence: from
// the transcript, the text, the subject or a forwarded part, the first that has enough words.
func substantive(in Input) (Evidence, bool) {
	fields := []struct{ name, text string }{
		{FieldTranscript, in.Transcript}, {FieldText, in.Text}, {FieldSubject, in.Subject},
	}
	for _, p := range in.Forwarded {
		fields = append(fields, struct{ name, text string }{FieldForwarded, p})
	}
	for _, f := range fields {
		if start, end, ok := firstWords(f.text, substantiveWords); ok {
			return Evidence{Phrase: f.text[start:end], Field: f.name, Offset: start}, true
		}
	}
	return Evidence{}, false
}

// firstWords returns the span of the first n space-separated words of s, if s has that many.
func firstWords(s string, n int) (start, end int, ok bool) {
	count, inWord := 0, false
	for i, r := range s {
		switch {
		case unicode.IsSpace(r):
			if inWord && count == n {
				return start, i, true
			}
			inWord = false
		case !inWord:
			inWord = true
			if count == 0 {
				start = i
			}
			count++
		}
	}
	return start, len(s), count >= n
}
