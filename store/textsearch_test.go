package store_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/store"
)

func TestTsvectorOf(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", ""},
		{"the of and", ""},
		{"Renewals: the renewal, RENEWING!", "'renew':1,3,4"},
		{"state of the art", "'art':4 'state':1"},
		{"jane.doe@acme.com", "'acm':3 'com':4 'doe':2 'jane':1"},
		{"Q3 v2.1 2026", "'1':3 '2026':4 'q3':1 'v2':2"},
		{"競合の価格 café", "'café':2 '競合の価格':1"},
	} {
		if got := store.TsvectorOf(tc.text); got != tc.want {
			t.Errorf("tsvectorOf(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	// A lexeme keeps at most 256 positions, and positions stop at 16383.
	long := strings.Repeat("acme ", 20000)
	got := store.TsvectorOf(long)
	if n := strings.Count(got, ","); n != 255 || !strings.HasPrefix(got, "'acm':1,2,") || !strings.HasSuffix(got, ",256") {
		t.Errorf("20,000 acmes: %d positions, %.40q … %q", n+1, got, got[max(0, len(got)-20):])
	}
	got = store.TsvectorOf(strings.Repeat("x ", 20000) + "zebra")
	if !strings.Contains(got, "'zebra':16383") {
		t.Errorf("a word past position 16383: %q", got[max(0, len(got)-40):])
	}
	// A word longer than PostgreSQL's lexeme limit is left out.
	if got := store.TsvectorOf(strings.Repeat("a", 2048) + " ok"); got != "'ok':2" {
		t.Errorf("a 2,048-letter word: %.60q", got)
	}
}

func TestSearchTextCutsCharacters(t *testing.T) {
	text := strings.Repeat("価", 30000)
	got := store.SearchText("件名", text, "")
	if n := utf8.RuneCountInString(got); n != 20000 || !utf8.ValidString(got) || !strings.HasPrefix(got, "件名 価") {
		t.Errorf("search text: %d characters, valid %v", n, utf8.ValidString(got))
	}
	if got := store.SearchText("a", "b", "c"); got != "a b c" {
		t.Errorf("search text = %q", got)
	}
}

func TestTsqueryOf(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{"", ""},
		{"the", ""},
		{"renewals", "'renew'"},
		{"acme boston", "'acm' & 'boston'"},
		{`"state of the art"`, "('state' <3> 'art')"},
		{"acme or globex initech", "'acm' | 'globex' & 'initech'"},
		{"acme -boston", "'acm' & !'boston'"},
		{"-acme.com", "!('acm' <-> 'com')"},
		{"or or", ""},
		{`"open`, "'open'"},
		{`o'brien \`, "('o' <-> 'brien')"},
		{"a - b", "'b'"},
	} {
		if got := store.TsqueryOf(tc.q); got != tc.want {
			t.Errorf("tsqueryOf(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

// Whatever the text or the search, PostgreSQL reads the literals, and the
// vector it reads has the lexemes built.
func TestSearchLiteralsPostgres(t *testing.T) {
	ctx := context.Background()
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Now()))
	alphabet := []rune("aZ09 '\"\\-.,:!|&()<>@*_\t\n😀é\u0301価ライバルКиївשָׁלוֹם\x00or OR")
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		var b strings.Builder
		for n := r.IntN(60); n > 0; n-- {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		text := strings.ReplaceAll(b.String(), "\x00", "")
		vec, query := store.TsvectorOf(text), store.TsqueryOf(text)
		var lexemes int
		if err := s.DB().GetContext(ctx, &lexemes, `select length($1::tsvector)`, vec); err != nil {
			t.Fatalf("text %q: vector %q: %v", text, vec, err)
		}
		if want := strings.Count(vec, "':"); lexemes != want {
			t.Fatalf("text %q: vector %q read as %d lexemes, want %d", text, vec, lexemes, want)
		}
		if query == "" {
			continue
		}
		if _, err := s.DB().ExecContext(ctx, `select $1::tsquery`, query); err != nil {
			t.Fatalf("search %q: query %q: %v", text, query, err)
		}
	}
}

func BenchmarkTsvectorOf(b *testing.B) {
	words := strings.Fields("The customer said Acme offered forty percent off renewals, and that our pricing page " +
		"confuses their buyers. 競合の価格 was lower; they want a call on Tuesday about the integration roadmap.")
	r := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for sb.Len() < 5300 {
		sb.WriteString(words[r.IntN(len(words))])
		sb.WriteByte(' ')
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		store.TsvectorOf(text)
	}
}

// Any text gives a vector and a query of valid UTF-8, without a panic in
// the tokenizer or the stemmer.
func FuzzSearchLiterals(f *testing.F) {
	for _, s := range []string{"renewals", `"state of the art" or -acme.com`, "ライバルの製品", "Київ café\u0301", "o'brien \\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v := store.TsvectorOf(s); !utf8.ValidString(v) {
			t.Errorf("vector of %q is not UTF-8: %q", s, v)
		}
		if q := store.TsqueryOf(s); !utf8.ValidString(q) {
			t.Errorf("query of %q is not UTF-8: %q", s, q)
		}
	})
}
