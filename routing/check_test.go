package routing

import (
	"slices"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name        string
		competitors []Competitor
		products    []Product
		topics      []Topic
		want        []string
	}{
		{"a clean configuration has no problems",
			[]Competitor{{Name: "Acme", Aliases: []string{"Acme Corp"}}},
			[]Product{{Name: "Billing", Keywords: []string{"invoice"}}},
			[]Topic{{Name: "pricing", Keywords: []string{"price"}}},
			nil},
		{"an alias claimed by two competitors, even with other case and accents, is an error",
			[]Competitor{{Name: "Émeraude"}, {Name: "Green", Aliases: []string{"EMERAUDE"}}}, nil, nil,
			[]string{`competitors[1].aliases[0]: alias "EMERAUDE" is also claimed by competitors[0] (Émeraude)`}},
		{"an alias repeated within one competitor is fine",
			[]Competitor{{Name: "Acme", Aliases: []string{"acme", "ACME"}}}, nil, nil,
			nil},
		{"empty names are errors",
			[]Competitor{{Name: " "}}, []Product{{Keywords: []string{"x"}}}, []Topic{{Keywords: []string{"y"}}},
			[]string{"competitors[0].name: empty name", "products[0].name: empty name", "topics[0].name: empty name"}},
		{"a name used twice in one kind is an error",
			[]Competitor{{Name: "Acme"}, {Name: "acme"}}, nil, nil,
			[]string{`competitors[1].name: name "acme" is also used by competitors[0]`, `competitors[1].name: alias "acme" is also claimed by competitors[0] (Acme)`}},
		{"empty aliases and keywords are errors",
			[]Competitor{{Name: "Acme", Aliases: []string{""}}},
			[]Product{{Name: "Billing", Keywords: []string{"  "}}},
			[]Topic{{Name: "pricing", Keywords: []string{""}}},
			[]string{"competitors[0].aliases[0]: empty alias", "products[0].keywords[0]: empty keyword", "topics[0].keywords[0]: empty keyword"}},
		{"a product keyword equal to a competitor alias is a warning",
			[]Competitor{{Name: "Acme", Aliases: []string{"AcmePay"}}},
			[]Product{{Name: "Payments", Keywords: []string{"acmepay"}}}, nil,
			[]string{`products[0].keywords[0]: keyword "acmepay" is also an alias of competitors[0] (Acme), so it tags both (warning)`}},
		{"a keyword shared by two products is a warning",
			nil, []Product{{Name: "Billing", Keywords: []string{"invoice"}}, {Name: "Invoices", Keywords: []string{"Invoice"}}}, nil,
			[]string{`products[1].keywords[0]: keyword "Invoice" is also a keyword of products[0] (warning)`}},
		{"a product without keywords is a warning, a negative weight an error",
			nil, []Product{{Name: "Billing", Weight: -1}}, nil,
			[]string{"products[0].weight: negative weight -1", "products[0].keywords: no keywords, so the product is never tagged (warning)"}},
		{"exact-case and ambiguous entries outside the aliases are warnings",
			[]Competitor{{Name: "Box", ExactCase: []string{"BOX"}, Ambiguous: []string{"Bx"}}}, nil, nil,
			[]string{`competitors[0].ambiguous[0]: "Bx" is not among the name and aliases; it is matched as an extra alias (warning)`}},
		{"context words without ambiguous aliases are a warning",
			[]Competitor{{Name: "Acme", Context: []string{"deal"}}}, nil, nil,
			[]string{"competitors[0].context: context words have no effect without ambiguous aliases (warning)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range Check(tt.competitors, tt.products, tt.topics) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestDefaultTopicsAreValid guards the built-in topics against empty or duplicate entries.
func TestDefaultTopicsAreValid(t *testing.T) {
	topics := DefaultTopics()
	if len(topics) != 10 {
		t.Errorf("%d default topics, want 10", len(topics))
	}
	for _, p := range Check(nil, nil, topics) {
		t.Error(p)
	}
}
