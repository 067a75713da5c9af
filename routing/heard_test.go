package routing

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// heardSet is testdata/heard.yaml.
type heardSet struct {
	Competitors []Competitor `yaml:"competitors"`
	Products    []Product    `yaml:"products"`
	Items       []struct {
		ID          string   `yaml:"id"`
		Source      string   `yaml:"source"`
		Said        string   `yaml:"said"`
		Transcript  string   `yaml:"transcript"`
		Competitors []string `yaml:"competitors"`
	} `yaml:"items"`
}

// TestHeardNames measures competitor tagging on transcripts with and without matching names by sound and
// spelling, per source of transcripts, and logs the table. Measured (118 transcripts, 10 competitors):
//
//	transcripts                        n   without: precision recall   with: precision recall
//	pocketsphinx, espeak-ng at 8 kHz   28            –         0.00              –         0.00
//	pocketsphinx, flite at 8 kHz       28         1.00         0.10           1.00         0.10
//	pocketsphinx, flite at 16 kHz      28         1.00         0.10           1.00         0.35
//	written (ASR-style, with traps)    34         0.50         0.05           0.91         0.95
//
// At 8 kHz the recogniser leaves nothing of the names to match. The floors apply to the 16 kHz and written
// transcripts (without: 0.75 / 0.07, with: 0.93 / 0.66): with matching, precision at least 0.80 and recall at
// least 0.60 and above the recall without it.
func TestHeardNames(t *testing.T) {
	var set heardSet
	loadYAML(t, "heard.yaml", &set)
	if len(set.Items) < 100 {
		t.Fatalf("%d transcripts, want at least 100", len(set.Items))
	}
	with, err := NewTagger(set.Competitors, set.Products, DefaultTopics())
	if err != nil {
		t.Fatal(err)
	}
	without, err := NewTagger(set.Competitors, set.Products, DefaultTopics(), WithoutHeardNames())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		n             int
		with, without score
	}
	rows := map[string]*row{}
	var sources []string
	var usable row // what the floors apply to: transcripts a recogniser can get names from
	for _, it := range set.Items {
		r := rows[it.Source]
		if r == nil {
			r = &row{}
			rows[it.Source] = r
			sources = append(sources, it.Source)
		}
		r.n++
		want := it.Competitors
		got := values(with.Tag(Input{Transcript: it.Transcript}), KindCompetitor)
		r.with.add(got, want)
		base := values(without.Tag(Input{Transcript: it.Transcript}), KindCompetitor)
		r.without.add(base, want)
		if !strings.Contains(it.Source, "8 kHz") {
			usable.n++
			usable.with.add(got, want)
			usable.without.add(base, want)
		}
		if !sameSet(got, want) {
			t.Logf("%s: %v, want %v: %q", it.ID, got, want, it.Transcript)
		}
	}
	cell := func(s score) string {
		p := "–"
		if s.tp+s.fp > 0 {
			p = fmt.Sprintf("%.2f", s.precision())
		}
		return fmt.Sprintf("%4s  %.2f  (tp %2d fp %2d fn %2d)", p, s.recall(), s.tp, s.fp, s.fn)
	}
	t.Logf("| transcripts | n | without matching: precision recall | with matching: precision recall |")
	all := row{}
	slices.Sort(sources)
	for _, src := range sources {
		r := rows[src]
		t.Logf("| %-34s | %3d | %s | %s |", src, r.n, cell(r.without), cell(r.with))
		all.n += r.n
		all.with = score{all.with.tp + r.with.tp, all.with.fp + r.with.fp, all.with.fn + r.with.fn}
		all.without = score{all.without.tp + r.without.tp, all.without.fp + r.without.fp, all.without.fn + r.without.fn}
	}
	t.Logf("| %-34s | %3d | %s | %s |", "all", all.n, cell(all.without), cell(all.with))
	t.Logf("| %-34s | %3d | %s | %s |", "16 kHz and written (the floors)", usable.n, cell(usable.without), cell(usable.with))
	if p := usable.with.precision(); p < 0.80 {
		t.Errorf("precision with matching %.2f is below the floor 0.80", p)
	}
	if r := usable.with.recall(); r < 0.60 || r <= usable.without.recall() {
		t.Errorf("recall with matching %.2f is below the floor 0.60 or no better than without (%.2f)", r, usable.without.recall())
	}
}

// TestHeard pins the rules on single cases: where a case comes from a transcript of the measurement set, its id
// is named.
func TestHeard(t *testing.T) {
	tg, err := NewTagger([]Competitor{
		{Name: "Acme"}, {Name: "Globex"}, {Name: "Initech"}, {Name: "Northwind"}, {Name: "Vandelay"},
		{Name: "Square", Ambiguous: []string{"Square"}}, {Name: "Box", ExactCase: []string{"Box"}},
	}, []Product{{Name: "Integrations", Keywords: []string{"netsuite", "zapier"}}, {Name: "Billing", Keywords: []string{"dunning"}}},
		DefaultTopics(), WithSpokenForms(map[string][]string{"zapier": {"zappy er"}, "api": nil}))
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		value, phrase, rule string
		conf                float64
	}
	cases := []struct {
		why  string
		in   Input
		want []ev // competitor and product evidence, in tag order
	}{
		{"words joined (flite 16 kHz northwind-move)", Input{Transcript: "the clinic group is moving to north wind next quarter"},
			[]ev{{"Northwind", "north wind", RuleJoined, 0.9}}},
		{"sounds and is spelled like (written globex)", Input{Transcript: "quick one globe ex undercut us"},
			[]ev{{"Globex", "globe ex", RuleSoundsLike, 0.8}}},
		{"common words need a context word: with one (flite 16 kHz acme-discount)",
			Input{Transcript: "boston office at me is offering big discounts"}, []ev{{"Acme", "at me", RuleSpelledLike, 0.4}}},
		{"common words need a context word: without one", Input{Transcript: "the office manager yelled at me about it"}, nil},
		{"a common word in the phrase needs context: with one (written initech)",
			Input{Transcript: "heads up in a tech quoted half our price"}, []ev{{"Initech", "in a tech", RuleSoundsLike, 0.7}}},
		{"a common word in the phrase needs context: without one", Input{Transcript: "she is in a tech role now"}, nil},
		{"a different rhythm is another word: vandal is not Vandelay", Input{Transcript: "a vandal broke the card reader, they want a quote"}, nil},
		{"the exact name is the dictionary's, not a heard one", Input{Transcript: "globex undercut us"},
			[]ev{{"Globex", "globex", "", 0}}},
		{"names that are common words are never matched by sound", Input{Transcript: "they went with squire for the pricing"}, nil},
		{"only transcripts: mail is typed, not heard", Input{Mailboxes: []string{CategoryFeedback}, Text: "globe ex undercut us"}, nil},
		{"a product keyword needs sound and spelling both: net suite joined", Input{Transcript: "they want the net suite connector"},
			[]ev{{"Integrations", "net suite", RuleJoined, 0.9}}},
		{"a product keyword is never a common word heard: running is not dunning", Input{Transcript: "the running emails look robotic"}, nil},
		{"a configured spoken form counts in a transcript", Input{Transcript: "they use zappy er for everything"},
			[]ev{{"Integrations", "zappy er", RuleSpokenForm, 0}}},
		{"a spoken form does not count in mail", Input{Mailboxes: []string{CategoryFeedback}, Text: "they use zappy er for everything"}, nil},
	}
	for _, c := range cases {
		var got []ev
		for _, tag := range tg.Tag(c.in) {
			if tag.Kind != KindCompetitor && tag.Kind != KindProduct {
				continue
			}
			e := tag.Evidence[0]
			got = append(got, ev{tag.Value, e.Phrase, e.Rule, e.Confidence})
			if want := max(e.Confidence, float64(b2i(e.Confidence == 0))); tag.Confidence != want {
				t.Errorf("%s: tag confidence %v, want %v", c.why, tag.Confidence, want)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.why, got, c.want)
		}
	}
	// The default spoken forms count, and a configured empty list removes one.
	security := func(text string) bool {
		return slices.Contains(values(tg.Tag(Input{Transcript: text}), KindTopic), "security")
	}
	if !security("they need single sign on first") || !security("is it soc two compliant") {
		t.Error("default spoken forms of sso and soc 2 do not count")
	}
	if slices.Contains(values(tg.Tag(Input{Transcript: "can we get the a p i docs"}), KindTopic), "integration") {
		t.Error("the spoken form of api was removed by the configuration, yet it counts")
	}
}
