package routing

import (
	"cmp"
	"slices"
	"strings"

	"github.com/antzucaro/matchr"
)

// Names heard wrong. A speech recogniser knows no competitor's name: it writes the dictionary words that sound
// closest ("globe ex" for Globex, "at me" for Acme, "north wind" for Northwind). In transcripts only, competitor
// names and aliases, and product keywords that are names rather than words, are also matched by how they sound
// (Double Metaphone) and how they are spelled (edit distance), over one to a few consecutive words. Such a match
// is evidence with the phrase as heard and a confidence below 1, so the tag it makes is provisional.

// Confidences of matches other than word for word, in percent.
const (
	confJoined      = 90 // the words heard, joined, spell the name: "north wind"
	confBoth        = 80 // sounds like the name and is spelled within the edit limit
	confSounds      = 70 // sounds like the name
	confSpelled     = 60 // spelled within the edit limit
	confSomeCommon  = 10 // taken off when the phrase has a common word in it ("in a tech")
	confCommonWords = 20 // taken off when the phrase is only common words ("at me")
)

// minHeardLetters is the shortest name matched by sound: shorter ones sound like too many words.
const minHeardLetters = 4

// heardName is one name that may be heard wrong.
type heardName struct {
	kind    entityKind
	index   int32
	ctxSet  int32  // the context set of a competitor
	letters string // its folded letters and digits, without spaces: "acmeanalytics"
	codes   [2]string
	words   int
	beats   int // vowel groups, roughly its syllables
}

// heardIndex holds every name matched by sound.
type heardIndex struct {
	names    []heardName
	maxWords int
}

// add registers a name unless it is too short or a common word (those are never matched by sound).
func (x *heardIndex) add(kind entityKind, index, ctxSet int, text string) {
	words := strings.Fields(lettersOnly(aliasKey(text), " "))
	letters := strings.Join(words, "")
	if len(letters) < minHeardLetters || (len(words) == 1 && commonWords[letters]) {
		return
	}
	for _, n := range x.names {
		if n.kind == kind && int(n.index) == index && n.letters == letters {
			return
		}
	}
	p, s := matchr.DoubleMetaphone(letters)
	x.names = append(x.names, heardName{kind: kind, index: int32(index), ctxSet: int32(ctxSet), letters: letters,
		codes: [2]string{p, s}, words: len(words), beats: beats(letters)})
	x.maxWords = max(x.maxWords, len(words))
}

// lettersOnly replaces every run of characters that are not word runes in folded text s with sep.
func lettersOnly(s, sep string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) || r == '_' }), sep)
}

// token is one word of a folded transcript.
type token struct{ start, end int }

// tokens splits folded text into words.
func tokens(text []byte, out []token) []token {
	for i := 0; i < len(text); {
		if !wordAt(text, i) {
			i++
			continue
		}
		j := i + 1
		for j < len(text) && (wordAt(text, j) || text[j]&0xC0 == 0x80) {
			j++
		}
		out = append(out, token{i, j})
		i = j
	}
	return out
}

// heardHit is a candidate match of a run of tokens to a name.
type heardHit struct {
	name       *heardName
	from, to   int // token range
	conf       int
	rule       hitRule
	needsCtx   bool
	start, end int // folded offsets
}

// find returns the names heard in folded transcript text, as hits with their rule and confidence. exact are the
// word-for-word hits of the dictionary in the same text: words they cover are not looked at again, and an entity
// they found is not looked for. context are the context words found in the text.
func (x *heardIndex) find(text []byte, exact, context []hit) []heardHit {
	if len(x.names) == 0 {
		return nil
	}
	toks := tokens(text, nil)
	found := make(map[uint64]bool)
	for _, h := range exact {
		found[entityKey(h.kind, h.index)] = true
	}
	covered := func(start, end int) bool {
		return slices.ContainsFunc(exact, func(h hit) bool { return h.start < end && start < h.stop })
	}
	var cands []heardHit
	var joined strings.Builder
	for i := range toks {
		joined.Reset()
		allCommon, someCommon := true, false
		for n := 1; n <= x.maxWords+2 && i+n <= len(toks); n++ {
			tk := toks[i+n-1]
			word := string(text[tk.start:tk.end])
			joined.WriteString(word)
			allCommon = allCommon && commonWords[word]
			someCommon = someCommon || commonWords[word]
			start, end := toks[i].start, tk.end
			if covered(start, end) {
				break
			}
			heard := joined.String()
			var codes [2]string
			coded := false
			for k := range x.names {
				nm := &x.names[k]
				if found[entityKey(nm.kind, nm.index)] || n > nm.words+2 || abs(len(heard)-len(nm.letters)) > 2 {
					continue
				}
				if !coded {
					codes[0], codes[1] = matchr.DoubleMetaphone(heard)
					coded = true
				}
				h, ok := nm.match(heard, codes, n, allCommon, someCommon)
				if !ok {
					continue
				}
				h.from, h.to, h.start, h.end = i, i+n, start, end
				if h.needsCtx && !hasContext(hit{start: start, stop: end, ctxSet: nm.ctxSet}, context, text) {
					continue
				}
				cands = append(cands, h)
			}
		}
	}
	// The surest, then shortest, match of each stretch of words wins.
	slices.SortStableFunc(cands, func(a, b heardHit) int {
		return cmp.Or(cmp.Compare(b.conf, a.conf), cmp.Compare(a.to-a.from, b.to-b.from), cmp.Compare(a.from, b.from))
	})
	var out []heardHit
	for _, c := range cands {
		if !slices.ContainsFunc(out, func(o heardHit) bool { return o.from < c.to && c.from < o.to }) {
			out = append(out, c)
		}
	}
	return out
}

// match decides whether heard, spoken as n words with Double Metaphone codes, is the name. Besides sound or
// spelling, a name heard wrong keeps its rhythm: the same number of vowel groups ("vandal" is not Vandelay). The
// weaker matches need a context word nearby, as ambiguous aliases do: one by spelling alone ("north wing" is
// spelled like Northwind), and one with a common word in it ("in a tech role").
func (nm *heardName) match(heard string, codes [2]string, n int, allCommon, someCommon bool) (heardHit, bool) {
	h := heardHit{name: nm}
	if heard == nm.letters {
		if n == 1 {
			return h, false // word for word: the dictionary's
		}
		h.conf, h.rule = confJoined, hitJoined
	} else {
		if beats(heard) != nm.beats {
			return h, false
		}
		edits := matchr.Levenshtein(heard, nm.letters)
		spelled := edits <= maxEdits(len(nm.letters))
		// Codes of one or two consonants are shared by too many words to say anything, and a code holds the first
		// four sounds only: past eight letters the spelling must agree too.
		sounds := edits <= len(nm.letters)/2 && sameCode(codes, nm.codes) && (len(nm.letters) < 8 || spelled)
		switch {
		case sounds && spelled:
			h.conf, h.rule = confBoth, hitSoundsLike
		case sounds:
			h.conf, h.rule = confSounds, hitSoundsLike
		case spelled:
			h.conf, h.rule, h.needsCtx = confSpelled, hitSpelledLike, true
		default:
			return h, false
		}
		// A product keyword is matched only when both sound and spelling agree.
		if nm.kind != entityCompetitor && !(sounds && spelled) {
			return h, false
		}
	}
	switch {
	case someCommon && nm.kind != entityCompetitor:
		return h, false
	case allCommon:
		h.needsCtx = true
		h.conf -= confCommonWords
	case someCommon:
		h.needsCtx = true
		h.conf -= confSomeCommon
	}
	return h, true
}

// beats counts the groups of vowels in folded letters, a final silent e aside: about the syllables.
func beats(letters string) int {
	n, in := 0, false
	for i := 0; i < len(letters); i++ {
		c := letters[i]
		vowel := strings.IndexByte("aeiou", c) >= 0 || (c == 'y' && i > 0)
		if vowel && !in && !(c == 'e' && i == len(letters)-1 && n > 0) {
			n++
		}
		in = vowel
	}
	return n
}

// maxEdits is how many letters a heard name may get wrong: one in a short name, two from eight letters.
func maxEdits(letters int) int {
	if letters >= 8 {
		return 2
	}
	return 1
}

// sameCode reports whether two Double Metaphone code pairs share a code of at least three sounds.
func sameCode(a, b [2]string) bool {
	for _, x := range a {
		for _, y := range b {
			if len(x) >= 3 && x == y {
				return true
			}
		}
	}
	return false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
