package routing

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchName makes up a pronounceable name from syllables; every name ends with its index in syllables, so
// none collide.
func benchName(r *rand.Rand, i int) string {
	syllables := []string{"ka", "lo", "ven", "tri", "mar", "zu", "pel", "dor", "qui", "sa", "nex", "bri", "tal", "ro", "fen", "gi"}
	var b strings.Builder
	for range 2 + r.IntN(2) {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	b.WriteString(syllables[i%len(syllables)])
	b.WriteString(syllables[i/len(syllables)%len(syllables)])
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// benchConfig generates 200 competitors with 5 aliases each (one multi-word, one exact-case, one ambiguous) and
// 100 products with 5 keywords each, the same on every run.
func benchConfig(r *rand.Rand) ([]Competitor, []Product, []string) {
	var competitors []Competitor
	var phrases []string
	for i := range 200 {
		n := benchName(r, i)
		c := Competitor{Name: n, Aliases: []string{n + " Cloud", n + "IQ", n + "ly", "The " + n + " Suite"}}
		if i%10 == 0 {
			c.ExactCase = []string{n + "IQ"}
		}
		if i%7 == 0 {
			c.Ambiguous = []string{n + "ly"}
		}
		competitors = append(competitors, c)
		phrases = append(phrases, n, n+"’s", n+" Cloud", strings.ToLower(n)+"iq")
	}
	var products []Product
	for i := range 100 {
		n := fmt.Sprintf("Module %d", i)
		var kws []string
		for k := range 5 {
			kws = append(kws, fmt.Sprintf("%s%s %d", strings.ToLower(benchName(r, i)), "x", k))
		}
		products = append(products, Product{Name: n, Keywords: kws})
		phrases = append(phrases, kws[0])
	}
	return competitors, products, phrases
}

// benchTexts returns n texts of about 2 KB of ordinary sales-rep vocabulary (with words that share prefixes
// with the generated names, and some accents) and a few competitor and product mentions each.
func benchTexts(r *rand.Rand, phrases []string, n int) []string {
	benchFiller := strings.Fields(`the customer said they want pricing on the renewal and the invoice was wrong
	again so please check billing before friday we lost one deal last week but the pilot went well kan lov tri
	dashboard export report mobile app crashes sometimes when they sync with the ERP and café résumé naïve
	discount quote competitor switch vendor meeting call tomorrow thanks regards`)
	texts := make([]string, n)
	for i := range texts {
		var b strings.Builder
		for b.Len() < 2048 {
			if r.IntN(40) == 0 {
				b.WriteString(phrases[r.IntN(len(phrases))])
			} else {
				b.WriteString(benchFiller[r.IntN(len(benchFiller))])
			}
			if r.IntN(12) == 0 {
				b.WriteString(".\n")
			} else {
				b.WriteString(" ")
			}
		}
		texts[i] = b.String()
	}
	return texts
}

// BenchmarkTag tags 2 KB texts against 200 competitors × 5 aliases and 100 products; the target is at least
// 20,000 items/s on one core.
func BenchmarkTag(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	competitors, products, phrases := benchConfig(r)
	tg, err := NewTagger(competitors, products, DefaultTopics())
	if err != nil {
		b.Fatal(err)
	}
	texts := benchTexts(r, phrases, 64)
	tagged := 0
	b.SetBytes(2048)
	i := 0
	for b.Loop() {
		tags := tg.Tag(Input{Mailboxes: []string{CategoryFeedback}, Subject: "notes from today", Text: texts[i%len(texts)]})
		tagged += len(tags)
		i++
	}
	if tagged == 0 {
		b.Fatal("no tags: the generated texts mention nothing")
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkNewTagger measures compiling the same configuration, paid once at start-up.
func BenchmarkNewTagger(b *testing.B) {
	competitors, products, _ := benchConfig(rand.New(rand.NewPCG(1, 2)))
	for b.Loop() {
		if _, err := NewTagger(competitors, products, DefaultTopics()); err != nil {
			b.Fatal(err)
		}
	}
}
