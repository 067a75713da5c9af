package routing

import (
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// folded is a text in matching form: case-folded, accents removed, curly apostrophes made straight and every
// run of white space collapsed to one space. It keeps a map back to the original so that evidence quotes the
// original text even where folding changed the length.
type folded struct {
	text []byte
	// delta is the original offset minus the folded offset after the last mark.
	delta int
	// marks record where the distance between folded and original offsets changes, in folded order; before
	// the first mark the two are equal. Plain ASCII text with single spaces needs none.
	marks []offsetMark
}

// offsetMark says that folded offset folded comes from original offset orig, and that the following folded
// bytes keep that distance until the next mark.
type offsetMark struct{ folded, orig int32 }

// at returns the original offset of folded offset i: the start of the rune that produced text[i], or the
// length of the original for len(text). The original of text[s:e] is therefore original[at(s):at(e)].
func (f folded) at(i int) int {
	k := sort.Search(len(f.marks), func(k int) bool { return int(f.marks[k].folded) > i }) - 1
	if k < 0 {
		return i
	}
	return int(f.marks[k].orig) + i - int(f.marks[k].folded)
}

// appendMark appends m to marks, replacing the last mark when it is for the same folded offset.
func appendMark(marks []offsetMark, m offsetMark) []offsetMark {
	if k := len(marks); k > 0 && marks[k-1].folded == m.folded {
		marks[k-1] = m
		return marks
	}
	return append(marks, m)
}

// b2i returns 1 for true and 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// emit appends byte c, produced by the rune at original offset orig, and marks a change of distance.
func (f *folded) emit(c byte, orig int) {
	f.mark(orig)
	f.text = append(f.text, c)
}

// mark records that the next folded byte comes from original offset orig, when the distance has changed.
func (f *folded) mark(orig int) {
	if n := len(f.text); orig-n != f.delta {
		f.marks = appendMark(f.marks, offsetMark{folded: int32(n), orig: int32(orig)})
		f.delta = orig - n
	}
}

// folder folds texts. It holds a case folder and buffers that it reuses, so one folder serves one goroutine,
// and what fold returns is valid until its next call.
type folder struct {
	caser cases.Caser
	table *foldTable // may be nil
	// seen keeps the folded forms of runes outside the table, up to seenMax of them: a text in another
	// script repeats a few hundred runes, each of which would otherwise be decomposed and case-folded anew.
	seen    map[rune]string
	runeBuf []byte
	decBuf  []byte
	baseBuf []byte
	outBuf  []byte
	text    []byte
	marks   []offsetMark
}

// newFolder returns a folder that looks runes up in table, which may be nil.
func newFolder(table *foldTable) *folder {
	return &folder{caser: cases.Fold(), table: table, outBuf: make([]byte, 32)}
}

// foldString folds s with a folder of its own; for one-off use such as patterns and configuration checks.
func foldString(s string) string {
	return string(newFolder(nil).fold(s).text)
}

// foldTable holds the folded forms of the non-ASCII runes that are common in mail: Latin letters with accents
// and general punctuation. It is built once with the full folding and only read afterwards.
type foldTable struct {
	latin       [latinEnd - 0x80]string
	punctuation [punctuationEnd - punctuationStart]string
}

const (
	latinEnd         = 0x250 // end of Latin Extended-B
	punctuationStart = 0x2000
	punctuationEnd   = 0x2070
)

// newFoldTable folds every rune of the table's ranges.
func newFoldTable() *foldTable {
	t := &foldTable{}
	f := newFolder(nil)
	for r := rune(0x80); r < latinEnd; r++ {
		t.latin[r-0x80] = string(f.fold(string(r)).text)
	}
	for r := rune(punctuationStart); r < punctuationEnd; r++ {
		t.punctuation[r-punctuationStart] = string(f.fold(string(r)).text)
	}
	return t
}

// lookup returns the folded form of r when the table has it.
func (t *foldTable) lookup(r rune) (string, bool) {
	switch {
	case t == nil:
	case r < latinEnd:
		return t.latin[r-0x80], true
	case punctuationStart <= r && r < punctuationEnd:
		return t.punctuation[r-punctuationStart], true
	}
	return "", false
}

// asciiFold maps each ASCII byte to its folded form: upper case to lower case, white space to a space.
const asciiFold = "\x00\x01\x02\x03\x04\x05\x06\x07\x08     \x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@abcdefghijklmnopqrstuvwxyz[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f"

// fold returns s in matching form with its offset map.
func (f *folder) fold(s string) folded {
	out := folded{text: f.text[:0], marks: f.marks[:0]}
	inSpace := false
	for i := 0; i < len(s); {
		// Plain ASCII, the bulk of mail, keeps the offsets aligned except after a collapsed space.
		// It never grows the text by more than it reads, so it writes into room made beforehand.
		text, n, delta := slices.Grow(out.text, len(s)-i), len(out.text), out.delta
		text = text[:cap(text)]
		for ; i < len(s) && s[i] < utf8.RuneSelf; i++ {
			c := asciiFold[s[i]]
			if i-n != delta {
				delta = i - n
				out.marks = appendMark(out.marks, offsetMark{folded: int32(n), orig: int32(i)})
			}
			// A space after a space is written but not kept: the next byte overwrites it.
			space := c == ' '
			text[n] = c
			n += b2i(!space || !inSpace)
			inSpace = space
		}
		out.text, out.delta = text[:n], delta
		if i == len(s) {
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			if !inSpace {
				out.emit(' ', i)
			}
			inSpace = true
		case isApostrophe(r):
			out.emit('\'', i)
			inSpace = false
		default:
			if t, ok := f.table.lookup(r); ok {
				for j := 0; j < len(t); j++ {
					out.emit(t[j], i)
					inSpace = false
				}
			} else {
				t := f.foldSeen(r)
				for j := 0; j < len(t); j++ {
					out.emit(t[j], i)
					inSpace = false
				}
			}
		}
		i += size
	}
	out.mark(len(s))
	f.text, f.marks = out.text, out.marks
	return out
}

// seenMax bounds a folder's memory of folded runes: CJK text uses a few thousand distinct characters.
const seenMax = 8192

// foldSeen returns foldRune(r), remembered.
func (f *folder) foldSeen(r rune) string {
	if t, ok := f.seen[r]; ok {
		return t
	}
	t := string(f.foldRune(r))
	if f.seen == nil {
		f.seen = make(map[rune]string)
	}
	if len(f.seen) < seenMax {
		f.seen[r] = t
	}
	return t
}

// foldRune decomposes r (NFD), drops its combining marks and case-folds what is left. A lone combining mark
// folds to nothing, so "e" followed by U+0301 folds like "e".
func (f *folder) foldRune(r rune) []byte {
	f.runeBuf = utf8.AppendRune(f.runeBuf[:0], r)
	f.decBuf = norm.NFD.Append(f.decBuf[:0], f.runeBuf...)
	f.baseBuf = f.baseBuf[:0]
	for j := 0; j < len(f.decBuf); {
		d, n := utf8.DecodeRune(f.decBuf[j:])
		if !unicode.Is(unicode.Mn, d) {
			f.baseBuf = append(f.baseBuf, f.decBuf[j:j+n]...)
		}
		j += n
	}
	if len(f.baseBuf) == 0 {
		return nil
	}
	for {
		f.caser.Reset()
		nDst, _, err := f.caser.Transform(f.outBuf, f.baseBuf, true)
		if err == nil {
			return f.outBuf[:nDst]
		}
		// The only error a one-rune input can give is a short destination.
		f.outBuf = make([]byte, 2*len(f.outBuf))
	}
}

// isApostrophe reports whether r is a typographic apostrophe or single quote that folds to "'".
func isApostrophe(r rune) bool {
	switch r {
	case '\u2018', '\u2019', '\u201B', '\u02BC', '\u2032', '\uFF07':
		return true
	}
	return false
}

// isWordRune reports whether r is part of a word for boundary checks: a letter, a digit or an underscore.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// wordBefore reports whether the rune that ends just before offset i of b is a word rune.
func wordBefore(b []byte, i int) bool {
	if i <= 0 {
		return false
	}
	if c := b[i-1]; c < utf8.RuneSelf {
		return isWordRune(rune(c))
	}
	r, _ := utf8.DecodeLastRune(b[:i])
	return isWordRune(r)
}

// wordAt reports whether the rune that starts at offset i of b is a word rune.
func wordAt(b []byte, i int) bool {
	if i >= len(b) {
		return false
	}
	if c := b[i]; c < utf8.RuneSelf {
		return isWordRune(rune(c))
	}
	r, _ := utf8.DecodeRune(b[i:])
	return isWordRune(r)
}
