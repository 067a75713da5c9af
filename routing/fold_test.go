package routing

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ASCII is lower-cased", "ACME Corp", "acme corp"},
		{"white space runs collapse to one space", "Big \t Corp\r\n\nCRM", "big corp crm"},
		{"a no-break space is white space", "Big\u00a0Corp", "big corp"},
		{"precomposed accents are removed", "Émeraude Société", "emeraude societe"},
		{"combining marks are removed", "Eme\u0301raude", "emeraude"},
		{"curly apostrophes become straight", "Acme\u2019s and Acme\u02bcs", "acme's and acme's"},
		{"full case folding expands sharp s", "Straße", "strasse"},
		{"letters without a decomposition stay", "Ørsted Łódź", "ørsted łodz"},
		{"non-Latin scripts fold case", "ΑΚΜΕ", "ακμε"},
		{"emoji pass through", "Acme 🚀", "acme 🚀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := foldString(tt.in); got != tt.want {
				t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// referenceFold folds s one rune at a time without the table or the ASCII fast path and records, for every
// folded byte, the original offset of its rune: the plain definition that fold's offset marks must agree with.
// Invalid UTF-8 folds like U+FFFD, as range decodes it.
func referenceFold(s string) (string, []int) {
	f := newFolder(nil)
	var text []byte
	var src []int
	inSpace := false
	for i, r := range s {
		var out []byte
		switch {
		case unicode.IsSpace(r):
			if inSpace {
				continue
			}
			out = []byte{' '}
		case isApostrophe(r):
			out = []byte{'\''}
		default:
			out = append([]byte(nil), f.foldRune(r)...)
		}
		if len(out) > 0 { // a rune that folds to nothing, such as a lone mark, leaves a space run open
			inSpace = unicode.IsSpace(r)
		}
		for _, b := range out {
			text = append(text, b)
			src = append(src, i)
		}
	}
	return string(text), append(src, len(s))
}

// TestFoldOffsets guards the offset map on random mixes of ASCII, accents, combining marks, expanding runes,
// white space runs and invalid UTF-8: every folded offset must map to the start of the rune that produced it.
func TestFoldOffsets(t *testing.T) {
	pieces := []string{"a", "B", "acme", " ", "  ", "\n\t", "\u00a0", "é", "E\u0301", "\u0301", "ß", "\u2019", "Ø",
		"🚀", "\xff", "İ", "ﬁ", "x"}
	r := rand.New(rand.NewPCG(7, 11))
	f := newFolder(newFoldTable())
	for n := range 2000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		wantText, wantSrc := referenceFold(s)
		got := f.fold(s)
		if string(got.text) != wantText {
			t.Fatalf("case %d: fold(%q) = %q, want %q", n, s, got.text, wantText)
		}
		for i := range wantSrc {
			if at := got.at(i); at != wantSrc[i] {
				t.Fatalf("case %d: fold(%q): at(%d) = %d, want %d", n, s, i, at, wantSrc[i])
			}
		}
	}
}

func TestWordBoundaries(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		at     int
		before bool
		atWord bool
	}{
		{"start of text", "acme", 0, false, true},
		{"after a space", "x acme", 2, false, true},
		{"inside a word", "newacme", 3, true, true},
		{"after an accented letter", "caféacme", 5, true, true},
		{"end of text", "acme", 4, true, false},
		{"before punctuation", "acme.", 4, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.text)
			if !utf8.Valid(b) {
				t.Fatal("test text must be valid UTF-8")
			}
			if got := wordBefore(b, tt.at); got != tt.before {
				t.Errorf("wordBefore(%q, %d) = %v, want %v", tt.text, tt.at, got, tt.before)
			}
			if got := wordAt(b, tt.at); got != tt.atWord {
				t.Errorf("wordAt(%q, %d) = %v, want %v", tt.text, tt.at, got, tt.atWord)
			}
		})
	}
}

// TestFoldRemembersRunes folds texts of more distinct runes outside the table than a folder remembers, twice
// each with one folder: remembered or not, every rune must fold as foldRune folds it.
func TestFoldRemembersRunes(t *testing.T) {
	var b strings.Builder
	for r := rune(0x4E00); r < 0x4E00+seenMax+500; r++ { // CJK ideographs
		b.WriteRune(r)
	}
	for _, s := range []string{"ΑΚΜΕ Σοφία Ωμέγα", "Привет ЁЛКА", b.String(), "ΑΚΜΕ Σοφία Ωμέγα", b.String()} {
		f := newFolder(newFoldTable())
		for range 2 {
			want, _ := referenceFold(s)
			if got := string(f.fold(s).text); got != want {
				t.Fatalf("fold(%.40q…) = %.40q…, want %.40q…", s, got, want)
			}
		}
		if len(f.seen) > seenMax {
			t.Fatalf("folder remembers %d runes, more than %d", len(f.seen), seenMax)
		}
	}
}

// BenchmarkFoldScripts folds 2 KB texts in Greek, Cyrillic and Chinese, where every rune is outside the
// table.
func BenchmarkFoldScripts(b *testing.B) {
	texts := []string{
		strings.Repeat("Ο πελάτης ζήτησε καλύτερη αναφορά τιμών από την Ακμή. ", 20),
		strings.Repeat("Клиент сказал, что Акме дешевле на двадцать процентов. ", 20),
		strings.Repeat("客户说竞争对手的价格便宜百分之二十，但是服务不好。", 25),
	}
	f := newFolder(newFoldTable())
	i := 0
	for b.Loop() {
		f.fold(texts[i%len(texts)])
		i++
	}
}
