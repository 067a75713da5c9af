package routing

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestExplainGolden renders what `earshot route test` shows for a few items of the realistic configuration
// and compares it with testdata/explain.golden; run with -update after an intended change.
func TestExplainGolden(t *testing.T) {
	tagger, tree := loadConfig(t)
	items := []struct {
		name string
		in   Input
	}{
		{"intel mail naming two competitors, one only in forwarded text", Input{
			Mailboxes: []string{"intel"}, Subject: "lost Greystone to NWS",
			Text:      "They went with NW Software. Acme’s rep was in there too, 40% off.",
			Forwarded: []string{"FYI Northwind Software also bundles scheduling."},
		}},
		{"feedback mail about three products and a bug", Input{
			Mailboxes: []string{"feedback"}, Subject: "invoice pdf",
			Text: "The invoice PDF cuts off\nand the iPad app crashes on the dashboard.",
		}},
		{"voicemail naming Square in lower case with context", Input{
			Transcript: "hey it's ana the salon said they're switching to square for payments",
		}},
		{"voicemail naming a competitor as the recogniser heard it, with a spoken keyword", Input{
			Transcript: "hi it's mo the prospect went with ledger lee they wanted single sign on",
		}},
		{"nothing to tag", Input{}},
	}
	var b strings.Builder
	for _, it := range items {
		tags := tagger.Tag(it.in)
		b.WriteString("## " + it.name + "\n")
		b.WriteString(Explain(tags, tree.Assign(tags)))
		b.WriteString("\n")
	}
	golden := "testdata/explain.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("Explain output differs from %s (run with -update if intended):\n%s", golden, got)
	}
}

// TestExplainEmpty guards the rendering of an item with no tags and no assignment.
func TestExplainEmpty(t *testing.T) {
	want := "tags:\n  (none)\nassigned to:\n  (nobody)\n"
	if got := Explain(nil, nil); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
