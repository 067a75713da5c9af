package routing

import (
	"slices"
	"testing"
)

func tags(kv ...string) []Tag {
	var out []Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, Tag{Kind: kv[i], Value: kv[i+1]})
	}
	return out
}

// testRoutes is a tree with first-match, continue, inheritance, regexp and negative matchers.
func testRoutes() Route {
	return Route{Owner: "triage", Routes: []Route{
		{Match: []string{"category=intel"}, Owner: "dana", Continue: true, Routes: []Route{
			{Match: []string{`competitor="Acme"`}, Owner: "ace"},
			{Match: []string{"competitor=~Big.*"}}, // inherits dana
		}},
		{Match: []string{`product=~"Billing|Invoices"`}, Owner: "priya"},
		{Match: []string{"product = Reporting", "topic!=pricing"}, Owner: "marco"},
		{Match: []string{"product=Reporting"}, Owner: "finance"},
		{Match: []string{`topic!~"bug|outage"`, "category=feedback"}, Owner: "pm"},
	}}
}

func TestAssign(t *testing.T) {
	tree, problems, err := NewTree(testRoutes(), []string{"triage", "dana", "ace", "priya", "marco", "finance", "pm"})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	tests := []struct {
		name string
		tags []Tag
		want []Assignment
	}{
		{"nothing matches: the root owner is the default",
			tags(KindCategory, "feedback", KindTopic, "bug"),
			[]Assignment{{"triage", "root"}}},
		{"a matching route whose children do not match takes the item",
			tags(KindCategory, "intel", KindCompetitor, "Northwind"),
			[]Assignment{{"dana", `root > {category="intel"}`}}},
		{"the first matching child wins over its parent",
			tags(KindCategory, "intel", KindCompetitor, "Acme"),
			[]Assignment{{"ace", `root > {category="intel"} > {competitor="Acme"}`}}},
		{"a child without an owner inherits its parent's",
			tags(KindCategory, "intel", KindCompetitor, "BigCorp"),
			[]Assignment{{"dana", `root > {category="intel"} > {competitor=~"Big.*"}`}}},
		{"continue lets later siblings match too",
			tags(KindCategory, "intel", KindCompetitor, "Acme", KindProduct, "Billing"),
			[]Assignment{{"ace", `root > {category="intel"} > {competitor="Acme"}`}, {"priya", `root > {product=~"Billing|Invoices"}`}}},
		{"without continue the first matching sibling stops the search",
			tags(KindProduct, "Invoices", KindProduct, "Reporting"),
			[]Assignment{{"priya", `root > {product=~"Billing|Invoices"}`}}},
		{"regexp matchers are anchored",
			tags(KindCategory, "feedback", KindTopic, "bug", KindProduct, "Billing Plus"),
			[]Assignment{{"triage", "root"}}},
		{"all matchers of a route must hold: != fails when some tag has the value",
			tags(KindProduct, "Reporting", KindTopic, "pricing"),
			[]Assignment{{"finance", `root > {product="Reporting"}`}}},
		{"!= holds when no tag has the value",
			tags(KindProduct, "Reporting", KindTopic, "bug"),
			[]Assignment{{"marco", `root > {product="Reporting", topic!="pricing"}`}}},
		{"!~ holds when no tag of the kind matches, including when there is none",
			tags(KindCategory, "feedback"),
			[]Assignment{{"pm", `root > {topic!~"bug|outage", category="feedback"}`}}},
		{"values are compared exactly",
			tags(KindCategory, "intel", KindCompetitor, "acme"),
			[]Assignment{{"dana", `root > {category="intel"}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tree.Assign(tt.tags); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestAssignWithoutCategory: an item with no category (a hang-up voicemail, "call me back") is nobody's by
// default; the root owner used to take it. A route that matches it still takes it.
func TestAssignWithoutCategory(t *testing.T) {
	tree, _, err := NewTree(Route{Owner: "triage", Routes: []Route{
		{Match: []string{"category=intel"}, Owner: "dana"},
		{Match: []string{"product=Billing"}, Owner: "priya"},
	}}, []string{"triage", "dana", "priya"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		why  string
		tags []Tag
		want []Assignment
	}{
		{"no tags at all", nil, nil},
		{"a topic but no category", tags(KindTopic, "pricing"), nil},
		{"with a category the root owner is the default", tags(KindCategory, "feedback"), []Assignment{{"triage", "root"}}},
		{"a route that matches takes it", tags(KindProduct, "Billing"), []Assignment{{"priya", `root > {product="Billing"}`}}},
	} {
		if got := tree.Assign(tc.tags); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.why, got, tc.want)
		}
	}
	// A route can say where such items go: category!~".+" holds when the item has no category.
	explicit, _, err := NewTree(Route{Owner: "triage", Routes: []Route{{Match: []string{`category!~".+"`}, Owner: "ops"}}},
		[]string{"triage", "ops"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := explicit.Assign(nil), []Assignment{{"ops", `root > {category!~".+"}`}}; !slices.Equal(got, want) {
		t.Errorf("explicit route: got %q, want %q", got, want)
	}
}

// TestAssignCollapsesOwners guards that an owner reached by two routes is assigned once, with the first path.
func TestAssignCollapsesOwners(t *testing.T) {
	tree, _, err := NewTree(Route{Owner: "triage", Routes: []Route{
		{Match: []string{"category=intel"}, Owner: "dana", Continue: true},
		{Match: []string{"competitor=Acme"}, Owner: "dana", Continue: true},
		{Match: []string{"product=Billing"}, Owner: "priya"},
	}}, []string{"triage", "dana", "priya"})
	if err != nil {
		t.Fatal(err)
	}
	got := tree.Assign(tags(KindCategory, "intel", KindCompetitor, "Acme", KindProduct, "Billing"))
	want := []Assignment{{"dana", `root > {category="intel"}`}, {"priya", `root > {product="Billing"}`}}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestNewTreeProblems(t *testing.T) {
	owners := []string{"triage", "dana"}
	tests := []struct {
		name    string
		root    Route
		want    []string
		wantErr bool
	}{
		{"unknown owner",
			Route{Owner: "triage", Routes: []Route{{Match: []string{"category=intel"}}, {Match: []string{"topic=bug"}, Owner: "bob"}}},
			[]string{`route.routes[1].owner: unknown owner "bob"`}, true},
		{"unknown label",
			Route{Owner: "triage", Routes: []Route{{Match: []string{"category=intel", "prodcut=Billing"}, Owner: "dana"}}},
			[]string{`route.routes[0].match[1]: matcher "prodcut=Billing": unknown label "prodcut" (want category, competitor, product or topic)`}, true},
		{"missing operator",
			Route{Owner: "triage", Routes: []Route{{Owner: "dana", Routes: []Route{{Match: []string{"category intel"}}}}}},
			[]string{`route.routes[0].routes[0].match[0]: matcher "category intel": missing operator after "category" (want =, !=, =~ or !~)`}, true},
		{"bad regexp",
			Route{Owner: "triage", Routes: []Route{{Match: []string{`product=~"Billing("`}, Owner: "dana"}}},
			[]string{"route.routes[0].match[0]: matcher \"product=~\\\"Billing(\\\"\": bad regexp: error parsing regexp: missing closing ): `^(?:Billing()$`"}, true},
		{"bad quoting",
			Route{Owner: "triage", Routes: []Route{{Match: []string{`product="Billing`}, Owner: "dana"}}},
			[]string{`route.routes[0].match[0]: matcher "product=\"Billing": bad quoted value: invalid syntax`}, true},
		{"no label",
			Route{Owner: "triage", Routes: []Route{{Match: []string{`=Billing`}, Owner: "dana"}}},
			[]string{`route.routes[0].match[0]: matcher "=Billing": want label=value, label!=value, label=~regexp or label!~regexp`}, true},
		{"the root needs an owner and no matchers",
			Route{Match: []string{"category=intel"}},
			[]string{"route.owner: the root route needs an owner, the default for items no route takes", "route.match: the root route takes every item and must not have matchers"}, true},
		{"a catch-all route before its siblings is only a warning",
			Route{Owner: "triage", Continue: true, Routes: []Route{{Owner: "dana"}, {Match: []string{"topic=bug"}}}},
			[]string{"route.continue: continue has no effect on the root route (warning)", "route.routes[0]: matches every item, so the routes after it are never tried (warning)"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, problems, err := NewTree(tt.root, owners)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems\n got  %q\n want %q", got, tt.want)
			}
			if (err != nil) != tt.wantErr || (tree == nil) != tt.wantErr {
				t.Errorf("error %v, tree %v; want error: %v", err, tree != nil, tt.wantErr)
			}
		})
	}
}

// TestEntityRoutes guards that owners named on competitors and products become continue routes that match.
func TestEntityRoutes(t *testing.T) {
	routes := EntityRoutes(
		[]Competitor{{Name: "Acme", Owner: "dana"}, {Name: `Big "Q" Corp`}},
		[]Product{{Name: "Billing", Owner: "priya"}},
	)
	tree, _, err := NewTree(Route{Owner: "triage", Routes: append(routes, Route{Match: []string{"category=intel"}, Owner: "lead"})},
		[]string{"triage", "dana", "priya", "lead"})
	if err != nil {
		t.Fatal(err)
	}
	got := tree.Assign(tags(KindCategory, "intel", KindCompetitor, "Acme", KindProduct, "Billing"))
	want := []Assignment{{"dana", `root > {competitor="Acme"}`}, {"priya", `root > {product="Billing"}`}, {"lead", `root > {category="intel"}`}}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
