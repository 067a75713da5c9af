package routing

import (
	"slices"
	"strings"
	"testing"
)

// labelledItem is one hand-labelled message of testdata/labelled.yaml.
type labelledItem struct {
	ID          string   `yaml:"id"`
	Mailbox     string   `yaml:"mailbox"`
	Subject     string   `yaml:"subject"`
	Text        string   `yaml:"text"`
	Quoted      string   `yaml:"quoted"`
	Forwarded   []string `yaml:"forwarded"`
	Transcript  string   `yaml:"transcript"`
	Category    string   `yaml:"category"`
	Products    []string `yaml:"products"`
	Competitors []string `yaml:"competitors"`
}

func (l labelledItem) input() Input {
	in := Input{Subject: l.Subject, Text: l.Text, Quoted: l.Quoted, Forwarded: l.Forwarded, Transcript: l.Transcript}
	switch l.Mailbox {
	case "":
	case "both":
		in.Mailboxes = []string{CategoryFeedback, CategoryIntel}
	default:
		in.Mailboxes = []string{l.Mailbox}
	}
	return in
}

// wantCategories turns the label (feedback, intel, both, none) into category values.
func (l labelledItem) wantCategories() []string {
	switch l.Category {
	case "both":
		return []string{CategoryFeedback, CategoryIntel}
	case "none":
		return nil
	default:
		return []string{l.Category}
	}
}

// score counts set agreement over all items of one tag kind.
type score struct{ tp, fp, fn int }

func (s *score) add(got, want []string) {
	for _, g := range got {
		if slices.Contains(want, g) {
			s.tp++
		} else {
			s.fp++
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			s.fn++
		}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (s score) precision() float64 { return ratio(s.tp, s.tp+s.fp) }
func (s score) recall() float64    { return ratio(s.tp, s.tp+s.fn) }
func (s score) f1() float64 {
	p, r := s.precision(), s.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func values(tags []Tag, kind string) []string {
	var out []string
	for _, t := range tags {
		if t.Kind == kind {
			out = append(out, t.Value)
		}
	}
	return out
}

// TestLabelledAccuracy measures tagging on the labelled set. The set holds 66 messages with deliberate traps,
// some of which the tagger is known to miss (misspellings, a competitor name used for a customer); each message
// is 1.5% of the set. The floors sit a few messages below the measured figures, so one or two new errors are
// tolerated and a real regression fails: category accuracy >= 0.90, competitor F1 >= 0.90, product F1 >= 0.90
// (measured: 0.985, 0.967, 0.981; a transcription that splits a name, "ledger lee", is now found by sound).
func TestLabelledAccuracy(t *testing.T) {
	tagger, tree := loadConfig(t)
	var items []labelledItem
	loadYAML(t, "labelled.yaml", &items)
	if len(items) < 60 {
		t.Fatalf("labelled set has %d items, want at least 60", len(items))
	}
	var competitors, products, categories score
	correct := 0
	for _, it := range items {
		tags := tagger.Tag(it.input())
		// An item without a category is nobody's; every other item has an owner.
		if as := tree.Assign(tags); (len(as) == 0) != (it.Category == "none") {
			t.Errorf("%s (category %s): assigned to %v", it.ID, it.Category, as)
		}
		gotCat, wantCat := values(tags, KindCategory), it.wantCategories()
		categories.add(gotCat, wantCat)
		slices.Sort(gotCat)
		if slices.Equal(gotCat, wantCat) {
			correct++
		} else {
			t.Logf("%s: category %v, want %v", it.ID, gotCat, wantCat)
		}
		for _, k := range []struct {
			kind  string
			want  []string
			score *score
		}{{KindCompetitor, it.Competitors, &competitors}, {KindProduct, it.Products, &products}} {
			got := values(tags, k.kind)
			k.score.add(got, k.want)
			if !sameSet(got, k.want) {
				t.Logf("%s: %s %v, want %v", it.ID, k.kind, got, k.want)
			}
		}
	}
	accuracy := ratio(correct, len(items))
	t.Logf("%d items: category accuracy %.3f (%d/%d)", len(items), accuracy, correct, len(items))
	for _, r := range []struct {
		name string
		s    score
	}{{"category", categories}, {"competitor", competitors}, {"product", products}} {
		t.Logf("%-10s precision %.3f recall %.3f F1 %.3f (tp %d fp %d fn %d)", r.name, r.s.precision(), r.s.recall(), r.s.f1(), r.s.tp, r.s.fp, r.s.fn)
	}
	for _, floor := range []struct {
		name       string
		got, floor float64
	}{{"category accuracy", accuracy, 0.90}, {"competitor F1", competitors.f1(), 0.90}, {"product F1", products.f1(), 0.90}} {
		if floor.got < floor.floor {
			t.Errorf("%s %.3f is below the floor %.2f", floor.name, floor.got, floor.floor)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}
