package points_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/routing"
)

func rules(loc *time.Location) *points.Rules {
	return points.NewRules(config.Points{
		Categories:         map[string]int{"intel": 3, "feedback": 1},
		Channels:           map[string]int{"voicemail": 1},
		FirstIntelBonus:    2,
		NewCompetitorBonus: 2,
		Goals:              []config.Goal{{Name: "competitive nugget", Category: "intel", Count: 1}},
	}, []routing.Product{
		{Name: "Billing", Weight: 2},
		{Name: "Reports", Weight: 1.5},
		{Name: "Mobile", Weight: 0.5},
		{Name: "Search"},
	}, loc)
}

func lines(a points.Award) []string {
	var out []string
	for _, l := range a.Lines {
		out = append(out, fmt.Sprintf("%s=%d", l.Reason, l.Points))
	}
	return out
}

func TestScore(t *testing.T) {
	h := newHistory(t)
	march := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	// Dana already sent intel this March; Globex was reported ten days
	// ago by Sam, Initech forty days ago.
	h.add(march.AddDate(0, 0, -2), h.rep, []model.Tag{{Kind: "category", Value: "intel"}},
		model.LedgerEntry{RepID: h.rep, Points: 3, Reason: "category:intel", Month: "2026-03"})
	h.add(march.AddDate(0, 0, -10), 0, []model.Tag{{Kind: "competitor", Value: "Globex"}})
	h.add(march.AddDate(0, 0, -40), 0, []model.Tag{{Kind: "competitor", Value: "Initech"}})
	r := rules(time.UTC)

	cases := []struct {
		name     string
		it       points.Item
		want     []string
		withheld string
		waiting  bool
	}{
		{"feedback earns its category points",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"feedback"}},
			[]string{"category:feedback=1"}, "", false},
		{"intel after the month's first intel earns no bonus",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"intel"}},
			[]string{"category:intel=3"}, "", false},
		{"an item that is both earns both",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"feedback", "intel"}},
			[]string{"category:intel=3", "category:feedback=1"}, "", false},
		{"the highest product weight multiplies the category points",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"intel"}, Products: []string{"Reports", "Billing"}},
			[]string{"category:intel=3", "product-weight:Billing=3"}, "", false},
		{"a fractional weight rounds half away from zero (4 x 1.5 = 6)",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"intel", "feedback"}, Products: []string{"Reports"}},
			[]string{"category:intel=3", "category:feedback=1", "product-weight:Reports=2"}, "", false},
		{"1 x 1.5 rounds to 2",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"feedback"}, Products: []string{"Reports"}},
			[]string{"category:feedback=1", "product-weight:Reports=1"}, "", false},
		{"a weight below 1 takes points away",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"intel"}, Products: []string{"Mobile"}},
			[]string{"category:intel=3", "product-weight:Mobile=-1"}, "", false},
		{"a product without weight changes nothing",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"intel"}, Products: []string{"Search"}},
			[]string{"category:intel=3"}, "", false},
		{"voicemail adds its channel points",
			points.Item{RepID: h.rep, Channel: "voicemail", Categories: []string{"feedback"}},
			[]string{"category:feedback=1", "channel:voicemail=1"}, "", false},
		{"a competitor nobody reported in 30 days earns a bonus; one reported 10 days ago does not",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"intel"}, Competitors: []string{"Initech", "Globex"}},
			[]string{"category:intel=3", "bonus:new-competitor:Initech=2"}, "", false},
		{"an unregistered sender's points wait",
			points.Item{Channel: "email", Categories: []string{"intel"}},
			[]string{"category:intel=3"}, "", true},
		{"a duplicate earns nothing",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"intel"}, DuplicateOf: 7},
			nil, "duplicate of item 7", false},
		{"auto-generated mail earns nothing",
			points.Item{RepID: h.rep, Channel: "email", Categories: []string{"intel"}, AutoReason: "auto-submitted: auto-replied"},
			nil, "auto-generated mail (auto-submitted: auto-replied)", false},
		{"no category earns nothing",
			points.Item{RepID: h.rep, Channel: "email"},
			nil, "no category", false},
	}
	for _, c := range cases {
		c.it.ID, c.it.ReceivedAt = 100, march
		a, err := r.Score(context.Background(), h, c.it)
		if err != nil {
			t.Fatal(err)
		}
		if got := lines(a); !slices.Equal(got, c.want) || a.Withheld != c.withheld || a.Waiting != c.waiting {
			t.Errorf("%s:\n got %v withheld=%q waiting=%v\nwant %v withheld=%q waiting=%v",
				c.name, got, a.Withheld, a.Waiting, c.want, c.withheld, c.waiting)
		}
		sum := 0
		for _, l := range a.Lines {
			sum += l.Points
		}
		if a.Points != sum {
			t.Errorf("%s: points %d, lines sum to %d", c.name, a.Points, sum)
		}
		entries := a.Entries(c.it.RepID, c.it.ID)
		if (c.waiting || c.withheld != "") != (len(entries) == 0) {
			t.Errorf("%s: %d ledger entries", c.name, len(entries))
		}
	}
}

func TestFirstIntelOfTheMonth(t *testing.T) {
	h := newHistory(t)
	r := rules(time.UTC)
	// Intel in February does not use up March's bonus.
	h.add(time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC), h.rep, []model.Tag{{Kind: "category", Value: "intel"}},
		model.LedgerEntry{RepID: h.rep, Points: 3, Reason: "category:intel", Month: "2026-02"})
	it := points.Item{ID: 50, RepID: h.rep, Channel: "email", Categories: []string{"intel"}, ReceivedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	a, err := r.Score(context.Background(), h, it)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"category:intel=3", "bonus:first-intel-of-month=2"}; !slices.Equal(lines(a), want) {
		t.Errorf("first intel of March = %v, want %v", lines(a), want)
	}
	e := a.Entries(h.rep, 50)
	if len(e) != 2 || e[1].Month != "2026-03" || e[1].ItemID == 0 || e[1].ItemID != 50 {
		t.Errorf("entries = %+v", e)
	}
}

func TestMonthFollowsTheConfiguredZone(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		at   time.Time
		loc  *time.Location
		want model.Month
	}{
		{"23:30 on March 31 in Los Angeles is still March there", time.Date(2026, 3, 31, 23, 30, 0, 0, la), la, "2026-03"},
		{"the same instant counted in UTC is April", time.Date(2026, 3, 31, 23, 30, 0, 0, la), time.UTC, "2026-04"},
		{"00:30 UTC on April 1 is March 31 in Los Angeles", time.Date(2026, 4, 1, 0, 30, 0, 0, time.UTC), la, "2026-03"},
		{"New Year's Eve in Los Angeles", time.Date(2026, 12, 31, 23, 59, 0, 0, la), la, "2026-12"},
	}
	for _, c := range cases {
		if got := rules(c.loc).Month(c.at); got != c.want {
			t.Errorf("%s: month %s, want %s", c.name, got, c.want)
		}
	}
	// Scoring and the tally put such an item in March.
	h := newHistory(t)
	r := rules(la)
	at := time.Date(2026, 3, 31, 23, 30, 0, 0, la)
	a, err := r.Score(context.Background(), h, points.Item{ID: 1, RepID: h.rep, Channel: "email", Categories: []string{"intel"}, ReceivedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	h.add(at, h.rep, nil, a.Entries(h.rep, 1)...)
	march, err := r.Tally(context.Background(), h, h.rep, "2026-03", nil)
	if err != nil {
		t.Fatal(err)
	}
	april, _ := r.Tally(context.Background(), h, h.rep, "2026-04", nil)
	if march.Points != 5 || april.Points != 0 {
		t.Errorf("March %d points, April %d; want 5 and 0", march.Points, april.Points)
	}
}
