package templates

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// truncateRunes is truncate written the plain way: the whole text as
// runes.
func truncateRunes(n int, s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return strings.TrimRight(string(r[:max(0, n-3)]), " ") + "..."
}

// TestTruncateMatchesRunes checks truncate against the plain way on texts
// with multi-byte characters, bytes that are not UTF-8, and spaces at the
// cut.
func TestTruncateMatchesRunes(t *testing.T) {
	texts := []string{"", " ", "abc", "  abc  ", "héllo wörld", "日本語のテキスト", "a b c d e f",
		"ab   cd", "\xff\xfeabc", "ab\xc3", "abc\xe6\x97", "\xe6\x97\xa5\xe6\x97", "tab\there", "x\u00a0y z"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", " ", "é", "日", "\xff", "\xc3", "\n", "😀", "\t"}
	for range 500 {
		var b strings.Builder
		for range r.IntN(20) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	for _, s := range texts {
		for n := range 16 {
			if got, want := truncate(n, s), truncateRunes(n, s); got != want {
				t.Fatalf("truncate(%d, %q) = %q, want %q", n, s, got, want)
			}
		}
	}
}

// BenchmarkTruncate cuts a notice's quote from a long text.
func BenchmarkTruncate(b *testing.B) {
	s := strings.Repeat("Acme Corp is cutting prices in the west. ", 1000)
	for b.Loop() {
		truncate(4000, s)
	}
}

func TestTidy(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "\n"},
		{"\n\n \t\n", "\n"},
		{"a", "a\n"},
		{"\n\na\nb\n", "a\nb\n"},
		{"a  \t\r\nb\r\n", "a\nb\n"},
		{"a\n\n\n  \nb", "a\n\nb\n"},
		{"a\n\nb\n\n\n", "a\n\nb\n"},
		{"a\rb \n", "a\rb\n"},
	} {
		if got := tidy(tc.in); got != tc.want {
			t.Errorf("tidy(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
