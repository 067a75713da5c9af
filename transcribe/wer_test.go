package transcribe

import (
	"strings"
	"testing"
	"unicode"
)

// words lowercases s and splits it into words without punctuation, the
// way the corpus references are compared ("punctuation-insensitive").
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// wordErrors is the word-level edit distance between reference and
// hypothesis (substitutions + deletions + insertions), and the number of
// reference words. Their ratio is the word error rate.
func wordErrors(ref, hyp string) (errs, n int) {
	r, h := words(ref), words(hyp)
	prev := make([]int, len(h)+1)
	cur := make([]int, len(h)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(r); i++ {
		cur[0] = i
		for j := 1; j <= len(h); j++ {
			sub := prev[j-1]
			if r[i-1] != h[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(h)], len(r)
}

func TestWordErrors(t *testing.T) {
	cases := []struct {
		why      string
		ref, hyp string
		errs, n  int
	}{
		{"identical up to case and punctuation", "Ask not, what your country can do!", "ask not what your country can do", 0, 7},
		{"one substitution", "ten of clubs", "son of clubs", 1, 3},
		{"one deletion", "four queen of clubs", "queen of clubs", 1, 4},
		{"one insertion", "five five", "five five five", 1, 2},
		{"nothing recognised", "go forward ten meters", "", 4, 4},
		{"all wrong and longer", "ten of clubs", "i've been up close", 4, 3},
	}
	for _, c := range cases {
		errs, n := wordErrors(c.ref, c.hyp)
		if errs != c.errs || n != c.n {
			t.Errorf("%s: %d errors of %d words, want %d of %d", c.why, errs, n, c.errs, c.n)
		}
	}
}
