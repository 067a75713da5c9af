package store

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Full-text search on PostgreSQL stores a tsvector per item and matches a
// tsquery against it. Both are built here, by the same tokenizer, and
// handed to PostgreSQL as literals: its own text parser (to_tsvector) runs
// at about 5 MB/s and was a quarter of the database's work per item, while
// reading a tsvector literal is about ten times cheaper.
//
// A token is a run of letters and digits; everything else separates
// tokens, so "acme.com" or "e-mail" are two tokens each, which a search
// finds as the same two in a row. Tokens are lowercased; English stop
// words are left out but keep their place, so a phrase's distances hold;
// words of letters only are reduced to their Snowball English stem, as
// PostgreSQL's 'english' configuration does, so "renewals" finds
// "renewal" and "renewing".

// searchChars is how much of an item's text is indexed: the first 20,000
// characters of subject, text and transcript.
const searchChars = 20000

// Limits of PostgreSQL's tsvector: a lexeme's bytes, a position, and the
// positions kept per lexeme.
const (
	maxLexemeBytes = 2047
	maxPosition    = 16383
	maxPositions   = 256
)

// searchText is the text an item is found by.
func searchText(subject, text, transcript string) string {
	s := subject + " " + text + " " + transcript
	if len(s) <= searchChars {
		return s // no more characters than bytes
	}
	n := 0
	for i := range s {
		if n == searchChars {
			return s[:i]
		}
		n++
	}
	return s
}

// token is one token of a text: its lexeme ("" for a stop word) and its
// position, counted from 1.
type token struct {
	lexeme string
	pos    int
}

// tokenize calls f for each token of s in order.
func tokenize(s string, f func(token)) {
	pos := 0
	for i := 0; i < len(s); {
		size := wordRuneAt(s, i)
		if size < 0 {
			i -= size
			continue
		}
		j := i + size
		for j < len(s) {
			size := wordRuneAt(s, j)
			if size < 0 {
				break
			}
			j += size
		}
		pos++
		f(token{lexeme: lexemes.of(s[i:j]), pos: pos})
		i = j
	}
}

// wordRuneAt is the size of the rune at s[i] if it belongs in a token
// (a letter, a digit or a combining mark), else minus its size.
func wordRuneAt(s string, i int) int {
	if c := s[i]; c < utf8.RuneSelf {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			return 1
		}
		return -1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
		return size
	}
	return -size
}

// lexemes turns words into lexemes, keeping those it computed: mail
// repeats a small vocabulary, and stemming costs more than a lookup.
var lexemes = lexemeCache{m: map[string]string{}}

// keptLexemes bounds the cache; it starts over when full.
const keptLexemes = 1 << 16

type lexemeCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *lexemeCache) of(word string) string {
	c.mu.Lock()
	lx, ok := c.m[word]
	c.mu.Unlock()
	if ok {
		return lx
	}
	lx = lexemeOf(word)
	c.mu.Lock()
	if len(c.m) >= keptLexemes {
		clear(c.m)
	}
	c.m[strings.Clone(word)] = lx
	c.mu.Unlock()
	return lx
}

// lexemeOf is a word's lexeme: "" for a stop word or a word too long to
// index, the stem of a word of letters, else the word lowercased.
func lexemeOf(word string) string {
	w := strings.ToLower(word)
	if english.IsStopWord(w) || len(w) > maxLexemeBytes {
		return ""
	}
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return w
		}
	}
	return english.Stem(w, true) // stop words are out already
}

// tsvectorOf is the tsvector literal of text: each lexeme with its
// positions, lexemes in PostgreSQL's order.
func tsvectorOf(text string) string {
	pos := make(map[string][]int, len(text)/16)
	tokenize(text, func(t token) {
		if t.lexeme == "" {
			return
		}
		if p := pos[t.lexeme]; len(p) < maxPositions {
			pos[t.lexeme] = append(p, min(t.pos, maxPosition))
		}
	})
	lexs := make([]string, 0, len(pos))
	for lx := range pos {
		lexs = append(lexs, lx)
	}
	slices.Sort(lexs)
	var (
		b   strings.Builder
		num []byte
	)
	b.Grow(len(text))
	for i, lx := range lexs {
		if i > 0 {
			b.WriteByte(' ')
		}
		quoteLexeme(&b, lx)
		last := 0
		for j, p := range pos[lx] {
			if p == last {
				continue // positions past the limit, all at the limit
			}
			if j == 0 {
				b.WriteByte(':')
			} else {
				b.WriteByte(',')
			}
			num = strconv.AppendInt(num[:0], int64(p), 10)
			b.Write(num)
			last = p
		}
	}
	return b.String()
}

// quoteLexeme writes lx as a quoted lexeme of a tsvector or tsquery.
func quoteLexeme(b *strings.Builder, lx string) {
	b.WriteByte('\'')
	for _, r := range lx {
		switch r {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
}

// tsqueryOf turns a search as people type it into a tsquery literal, with
// the syntax of PostgreSQL's websearch_to_tsquery: words must all occur,
// "a quoted phrase" must occur as written, "or" between two terms lets
// either occur, and a term after "-" must not occur. A term that is
// several tokens ("acme.com") is a phrase. It returns "" when nothing in q
// can be searched for, such as only stop words.
func tsqueryOf(q string) string {
	var (
		groups [][]string // terms joined by & within a group, groups by |
		terms  []string
		negate bool
	)
	flush := func() {
		if len(terms) > 0 {
			groups = append(groups, terms)
			terms = nil
		}
	}
	add := func(text string) {
		if p := phraseOf(text); p != "" {
			if negate {
				p = "!" + p
			}
			terms = append(terms, p)
		}
		negate = false
	}
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case r == '"':
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				end = len(q) - i - 1
			}
			add(q[i+1 : i+1+end])
			i += end + 2
		case r == '-' && (i+1 < len(q) && !unicode.IsSpace(rune(q[i+1]))):
			negate = true
			i += size
		default:
			j := i
			for j < len(q) {
				r, size := utf8.DecodeRuneInString(q[j:])
				if unicode.IsSpace(r) || r == '"' {
					break
				}
				j += size
			}
			if word := q[i:j]; strings.EqualFold(word, "or") && !negate {
				flush()
			} else {
				add(word)
			}
			i = j
		}
	}
	flush()
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteString(" | ")
		}
		for j, t := range g {
			if j > 0 {
				b.WriteString(" & ")
			}
			b.WriteString(t)
		}
	}
	return b.String()
}

// phraseOf is the tsquery of one term: its lexemes joined by distance
// operators that skip the stop words between them, in parentheses when
// there are several; "" when it has none.
func phraseOf(text string) string {
	var (
		b    strings.Builder
		n    int
		last int
	)
	tokenize(text, func(t token) {
		if t.lexeme == "" {
			return
		}
		if n > 0 {
			if d := t.pos - last; d == 1 {
				b.WriteString(" <-> ")
			} else {
				b.WriteString(" <" + strconv.Itoa(d) + "> ")
			}
		}
		quoteLexeme(&b, t.lexeme)
		last = t.pos
		n++
	})
	if n > 1 {
		return "(" + b.String() + ")"
	}
	return b.String()
}
