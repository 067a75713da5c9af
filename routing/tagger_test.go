package routing

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// unitTagger is a small configuration with one competitor per matching mechanism.
func unitTagger(t testing.TB) *Tagger {
	t.Helper()
	tg, err := NewTagger([]Competitor{
		{Name: "Acme", Aliases: []string{"Acme Corp", "AcmeCloud"}},
		{Name: "BigCorp", Aliases: []string{"Big Corp CRM"}},
		{Name: "Apple", Ambiguous: []string{"Apple"}},
		{Name: "Box", ExactCase: []string{"Box"}},
		{Name: "Émeraude", Aliases: []string{"Emeraude Software"}},
		{Name: "Orbit", Ambiguous: []string{"Orbit"}, Context: []string{"satellite"}},
	}, []Product{
		{Name: "Billing", Keywords: []string{"billing", "invoice"}},
		{Name: "CRM", Keywords: []string{"crm"}},
	}, append(DefaultTopics(), Topic{Name: "event", Keywords: []string{"Acme Summit"}}))
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// brief renders tags as kind=value, with the first evidence of competitor and product tags as
// kind=value@field:offset:"phrase" so that tests check the original phrase and its offset.
func brief(tags []Tag) []string {
	var out []string
	for _, t := range tags {
		if t.Kind == KindTopic {
			continue
		}
		s := t.Kind + "=" + t.Value
		if t.Kind == KindCompetitor || t.Kind == KindProduct {
			ev := t.Evidence[0]
			s += fmt.Sprintf("@%s:%d:%q", ev.Field, ev.Offset, ev.Phrase)
		}
		out = append(out, s)
	}
	return out
}

func TestTag(t *testing.T) {
	tg := unitTagger(t)
	fb := []string{CategoryFeedback}
	tests := []struct {
		name string
		in   Input
		want []string
	}{
		{"ambiguous alias without context is a common word, not a competitor",
			Input{Mailboxes: fb, Text: "Brought apple pie to the QBR, the team loved it"},
			[]string{"category=feedback"}},
		{"ambiguous alias with a context word nearby counts",
			Input{Mailboxes: fb, Text: "they might switch to Apple for the tablets"},
			[]string{"category=feedback", "category=intel", `competitor=Apple@text:21:"Apple"`}},
		{"ambiguous alias with the context word too far away does not count",
			Input{Mailboxes: fb, Text: "apple pie was great and so were the cookies and the coffee and the cake, then pricing"},
			[]string{"category=feedback"}},
		{"ambiguous alias ignores the default context words when the competitor has its own",
			Input{Mailboxes: fb, Text: "Orbit pricing went up"},
			[]string{"category=feedback"}},
		{"ambiguous alias counts with the competitor's own context word",
			Input{Mailboxes: fb, Text: "they run the Orbit satellite kit"},
			[]string{"category=feedback", "category=intel", `competitor=Orbit@text:13:"Orbit"`}},
		{"an alias only in quoted text does not count",
			Input{Mailboxes: fb, Text: "thanks, see below", Quoted: "> Acme offered them 20% off"},
			[]string{"category=feedback"}},
		{"a competitor only in forwarded customer mail is intel",
			Input{Mailboxes: fb, Text: "fyi", Forwarded: []string{"We are also evaluating Acme Corp next quarter."}},
			[]string{"category=feedback", "category=intel", `competitor=Acme@forwarded:23:"Acme Corp"`}},
		{"offsets in a later forwarded part count the earlier parts and a blank line",
			Input{Mailboxes: fb, Forwarded: []string{"hello", "AcmeCloud is cheaper"}},
			[]string{"category=feedback", "category=intel", `competitor=Acme@forwarded:7:"AcmeCloud"`}},
		{"a voicemail naming a competitor is intel",
			Input{Transcript: "hey it's mike they told me acme came in forty percent lower"},
			[]string{"category=intel", `competitor=Acme@transcript:27:"acme"`}},
		{"a voicemail naming a competitor and a product is intel, with the product tagged",
			Input{Transcript: "acme has better billing"},
			[]string{"category=intel", `competitor=Acme@transcript:0:"acme"`, `product=Billing@transcript:16:"billing"`}},
		{"a voicemail about a product is feedback",
			Input{Transcript: "the invoice went out twice"},
			[]string{"category=feedback", `product=Billing@transcript:4:"invoice"`}},
		{"a voicemail with only a topic is feedback",
			Input{Transcript: "the portal is down again"},
			[]string{"category=feedback"}},
		{"a substantive voicemail without keywords is feedback",
			Input{Transcript: "hi it's priya customers keep telling me onboarding takes too long and they want a checklist"},
			[]string{"category=feedback"}},
		{"a voicemail that says nothing has no category",
			Input{Transcript: "hello? hello sorry wrong number"},
			nil},
		{"an exact-case alias in a transcript needs a context word instead of its case",
			Input{Transcript: "they are moving the files to box for the cheaper pricing"},
			[]string{"category=intel", `competitor=Box@transcript:29:"box"`}},
		{"an exact-case alias in a transcript without context does not count",
			Input{Transcript: "put the invoice in the box"},
			[]string{"category=feedback", `product=Billing@transcript:8:"invoice"`}},
		{"possessive with a straight apostrophe",
			Input{Mailboxes: fb, Text: "Acme's rep called"},
			[]string{"category=feedback", "category=intel", `competitor=Acme@text:0:"Acme's"`}},
		{"possessive with a curly apostrophe keeps the original bytes",
			Input{Mailboxes: fb, Text: "so Acme\u2019s rep called"},
			[]string{"category=feedback", "category=intel", "competitor=Acme@text:3:\"Acme\u2019s\""}},
		{"plural",
			Input{Mailboxes: fb, Text: "the Acmes of this world"},
			[]string{"category=feedback", "category=intel", `competitor=Acme@text:4:"Acmes"`}},
		{"accents and case fold both ways",
			Input{Mailboxes: fb, Text: "EMERAUDE and émeraude"},
			[]string{"category=feedback", "category=intel", `competitor=Émeraude@text:0:"EMERAUDE"`}},
		{"a decomposed accent stays in the phrase and later offsets stay right",
			Input{Mailboxes: fb, Text: "Eme\u0301raude, then invoice"},
			[]string{"category=feedback", "category=intel", "competitor=Émeraude@text:0:\"Eme\u0301raude\"", `product=Billing@text:17:"invoice"`}},
		{"an accent before the match shifts the offset by its bytes",
			Input{Mailboxes: fb, Text: "café: Acme"},
			[]string{"category=feedback", "category=intel", `competitor=Acme@text:7:"Acme"`}},
		{"a multi-word alias across repeated spaces and a line break",
			Input{Mailboxes: fb, Text: "demo of Big  Corp\nCRM today"},
			[]string{"category=feedback", "category=intel", "competitor=BigCorp@text:8:\"Big  Corp\\nCRM\""}},
		{"the longer alias wins over a product keyword inside it",
			Input{Mailboxes: fb, Text: "Big Corp CRM vs our crm"},
			[]string{"category=feedback", "category=intel", `competitor=BigCorp@text:0:"Big Corp CRM"`, `product=CRM@text:20:"crm"`}},
		{"a topic phrase that contains a competitor name does not hide the competitor",
			Input{Mailboxes: fb, Text: "see you at the Acme Summit"},
			[]string{"category=feedback", "category=intel", `competitor=Acme@text:15:"Acme"`}},
		{"word boundary: Acmeville is not Acme",
			Input{Mailboxes: fb, Text: "Acmeville Dental wants a discount"},
			[]string{"category=feedback"}},
		{"word boundary: no match inside a longer word at the start",
			Input{Mailboxes: fb, Text: "the NewAcme brand"},
			[]string{"category=feedback"}},
		{"exact-case alias does not fire on the common word",
			Input{Mailboxes: fb, Text: "ship it in a box"},
			[]string{"category=feedback"}},
		{"exact-case alias fires with its case",
			Input{Mailboxes: fb, Text: "they use Box today"},
			[]string{"category=feedback", "category=intel", `competitor=Box@text:9:"Box"`}},
		{"the subject counts",
			Input{Mailboxes: []string{CategoryIntel}, Subject: "Lost to AcmeCloud"},
			[]string{"category=intel", `competitor=Acme@subject:8:"AcmeCloud"`}},
		{"a competitor named only in a reply's subject is the quoted thread's, not intel (route test, labelled set)",
			Input{Mailboxes: fb, Subject: "Re: Acme comparison deck?", Text: "sent it over this morning"},
			[]string{"category=feedback"}},
		{"a competitor named again by the rep counts, with the subject among its evidence",
			Input{Mailboxes: fb, Subject: "Re: Acme comparison deck?", Text: "they said Acme dropped the price"},
			[]string{"category=feedback", "category=intel", `competitor=Acme@subject:4:"Acme"`}},
		{"forward and counter prefixes are reply subjects too",
			Input{Mailboxes: fb, Subject: "RE[2]: Fwd: AcmeCloud pricing", Text: "see below"},
			[]string{"category=feedback"}},
		{"a product in a reply's subject still says what the reply is about",
			Input{Mailboxes: fb, Subject: "Re: invoice totals", Text: "still wrong for them"},
			[]string{"category=feedback", `product=Billing@subject:4:"invoice"`}},
		{"a subject that merely starts with a word like Re is not a reply",
			Input{Mailboxes: fb, Subject: "Renewal: Acme offer", Text: "see subject"},
			[]string{"category=feedback", "category=intel", `competitor=Acme@subject:9:"Acme"`}},
		{"both mailboxes give both categories",
			Input{Mailboxes: []string{CategoryFeedback, CategoryIntel}, Text: "invoice totals are wrong"},
			[]string{"category=feedback", "category=intel", `product=Billing@text:0:"invoice"`}},
		{"tags come in configuration order whatever the text order",
			Input{Mailboxes: fb, Text: "Box and Acme"},
			[]string{"category=feedback", "category=intel", `competitor=Acme@text:8:"Acme"`, `competitor=Box@text:0:"Box"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := brief(tg.Tag(tt.in))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestTagEvidence(t *testing.T) {
	tg := unitTagger(t)
	tests := []struct {
		name string
		in   Input
		kind string
		want []string
	}{
		{"intel from a mention quotes the mailbox first, then the phrase",
			Input{Mailboxes: []string{CategoryIntel}, Text: "lost to Acme"}, KindCategory,
			[]string{`intel mailbox mailbox[0] "intel"`, `intel mailbox text@8 "Acme"`}},
		{"a topic tag carries its keyword",
			Input{Mailboxes: []string{CategoryFeedback}, Text: "they got 30% off"}, KindTopic,
			[]string{`discount keyword text@11 "% off"`}},
		{"a keyword and the plural of a shorter keyword do not both quote the same word",
			Input{Mailboxes: []string{CategoryFeedback}, Text: "the app crashes"}, KindTopic,
			[]string{`bug keyword text@8 "crashes"`}},
		{"evidence is capped per tag",
			Input{Mailboxes: []string{CategoryFeedback}, Text: strings.Repeat("Acme ", 9)}, KindCompetitor,
			[]string{`Acme alias text@0 "Acme"`, `Acme alias text@5 "Acme"`, `Acme alias text@10 "Acme"`, `Acme alias text@15 "Acme"`, `Acme alias text@20 "Acme"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tag := range tg.Tag(tt.in) {
				if tag.Kind != tt.kind {
					continue
				}
				for _, ev := range tag.Evidence {
					got = append(got, tag.Value+" "+tag.Rule+" "+describeEvidence(ev))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestTagConcurrent guards the promise that one Tagger serves many goroutines: each must see the same tags.
func TestTagConcurrent(t *testing.T) {
	tg := unitTagger(t)
	in := Input{Mailboxes: []string{CategoryFeedback}, Text: "Émeraude’s invoice vs Acme and Big Corp CRM"}
	want := brief(tg.Tag(in))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := brief(tg.Tag(in)); !slices.Equal(got, want) {
					errs <- fmt.Sprintf("got %q, want %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestNewTaggerRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name        string
		competitors []Competitor
		products    []Product
		wantErr     string
	}{
		{"alias claimed twice names both entries",
			[]Competitor{{Name: "Acme", Aliases: []string{"AC"}}, {Name: "Acorn", Aliases: []string{"ac"}}}, nil,
			`competitors[1].aliases[0]: alias "ac" is also claimed by competitors[0] (Acme)`},
		{"empty product name names the entry",
			nil, []Product{{Name: "Billing", Keywords: []string{"billing"}}, {Keywords: []string{"x"}}},
			"products[1].name: empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTagger(tt.competitors, tt.products, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestTagEmptyConfig guards a configuration with no competitors, products or topics: mailboxes still decide.
func TestTagEmptyConfig(t *testing.T) {
	tg, err := NewTagger(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := brief(tg.Tag(Input{Mailboxes: []string{CategoryIntel}, Text: "Acme is cheaper"}))
	if want := []string{"category=intel"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
