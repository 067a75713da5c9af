package routing

import (
	"cmp"
	"slices"
)

// withContext drops the hits that need context (ambiguous aliases, exact-case aliases in caseless text) but
// have no word of their context set within contextWindow words in text.
func withContext(hits, context []hit, text []byte) []hit {
	out := hits[:0]
	for _, h := range hits {
		if !h.needsContext || hasContext(h, context, text) {
			out = append(out, h)
		}
	}
	return out
}

// hasContext reports whether a context word of h's set lies within contextWindow words before or after h.
func hasContext(h hit, context []hit, text []byte) bool {
	for _, c := range context {
		if c.index != h.ctxSet {
			continue
		}
		switch {
		case c.start >= h.stop:
			if wordsIn(text[h.stop:c.start], contextWindow) <= contextWindow {
				return true
			}
		case c.stop <= h.start:
			if wordsIn(text[c.stop:h.start], contextWindow) <= contextWindow {
				return true
			}
		}
	}
	return false
}

// wordsIn counts the words of b, stopping once the count passes limit.
func wordsIn(b []byte, limit int) int {
	n := 0
	for i := 0; i < len(b) && n <= limit; {
		if wordAt(b, i) && !wordBefore(b, i) {
			n++
		}
		i++
		for i < len(b) && b[i]&0xC0 == 0x80 {
			i++
		}
	}
	return n
}

// outermost sorts hits by position and drops every hit that lies strictly inside a longer one, so "Big Corp
// CRM" does not also count as the product keyword "CRM" and "crashes" is not also "crash". A topic keyword
// hides only other topic keywords: a topic phrase that contains a competitor's name still names the
// competitor. Hits with the same span all stay.
func outermost(hits []hit) []hit {
	slices.SortStableFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end))
	})
	out := hits[:0]
	// The ends of the longest hits so far: of any kind, and of competitors and products.
	maxEnd, maxEntityEnd := -1, -1
	for i := 0; i < len(hits); {
		j := i
		for j < len(hits) && hits[j].start == hits[i].start && hits[j].end == hits[i].end {
			j++
		}
		group, end := hits[i:j], hits[i].end
		entity := slices.ContainsFunc(group, func(h hit) bool { return h.kind != entityTopic })
		for _, h := range group { // out never passes the hit being read, so it may share the array
			if end > maxEntityEnd && (h.kind != entityTopic || end > maxEnd) {
				out = append(out, h)
			}
		}
		maxEnd = max(maxEnd, end)
		if entity {
			maxEntityEnd = max(maxEntityEnd, end)
		}
		i = j
	}
	return out
}
