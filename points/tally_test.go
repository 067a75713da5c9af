package points_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/points"
)

func TestTallyWithPendingEntriesAndGoals(t *testing.T) {
	h := newHistory(t)
	ctx := context.Background()
	r := rules(time.UTC)
	sam, err := h.FindRep(ctx, "sam@example.test")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	h.add(at, sam.ID, nil, model.LedgerEntry{RepID: sam.ID, Points: 4, Reason: "category:intel", Month: "2026-03"})
	h.add(at, h.rep, nil, model.LedgerEntry{RepID: h.rep, Points: 1, Reason: "category:feedback", Month: "2026-03"})

	before, err := r.Tally(ctx, h, h.rep, "2026-03", nil)
	if err != nil {
		t.Fatal(err)
	}
	if before.Points != 1 || before.Rank != 2 || before.Ranked != 2 || before.Goals[0].Done != 0 || before.Goals[0].Met() {
		t.Errorf("before = %+v", before)
	}
	// An intel item being processed: its entries are not written yet but
	// the ack must already count them.
	pending := []model.LedgerEntry{
		{RepID: h.rep, Points: 3, Reason: "category:intel", Month: "2026-03"},
		{RepID: h.rep, Points: 2, Reason: "bonus:first-intel-of-month", Month: "2026-03"},
	}
	after, err := r.Tally(ctx, h, h.rep, "2026-03", pending)
	if err != nil {
		t.Fatal(err)
	}
	g := after.Goals[0]
	if after.Points != 6 || after.Rank != 1 || after.AllTime != 6 || g.Done != 1 || g.Target != 1 || !g.Met() || g.Name != "competitive nugget" {
		t.Errorf("with pending entries = %+v", after)
	}
}

func TestUnpaid(t *testing.T) {
	paid := []model.LedgerEntry{{Reason: "category:intel", Points: 3}}
	entries := []model.LedgerEntry{{Reason: "category:intel", Points: 3}, {Reason: "bonus:new-competitor:Acme", Points: 2}}
	got := points.Unpaid(entries, paid)
	if len(got) != 1 || got[0].Reason != "bonus:new-competitor:Acme" {
		t.Errorf("unpaid = %+v, want only the new reason", got)
	}
}

func TestAdjustChangesTheTally(t *testing.T) {
	h := newHistory(t)
	ctx := context.Background()
	r := rules(time.UTC)
	sam, _ := h.FindRep(ctx, "Sam Okafor")
	at := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	h.add(at, sam.ID, nil, model.LedgerEntry{RepID: sam.ID, Points: 4, Reason: "category:intel", Month: "2026-03"})
	h.add(at, h.rep, nil, model.LedgerEntry{RepID: h.rep, Points: 3, Reason: "category:intel", Month: "2026-03"})
	now := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)

	var out bytes.Buffer
	_, err := points.Adjust(ctx, &out, h, r, points.Adjustment{Rep: "Dana+phone@Example.test", Points: 2, Reason: "intel shared in a call", Actor: "kim"}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := "adjusted Dana Reyes by +2 points in 2026-03 (intel shared in a call); now 5 points, rank 1 of 2, 5 all time\n"
	if out.String() != want {
		t.Errorf("output = %q\nwant %q", out.String(), want)
	}
	// The next ack's tally sees the adjustment.
	next, _ := r.Tally(ctx, h, h.rep, "2026-03", []model.LedgerEntry{{Points: 1, Reason: "category:feedback", Month: "2026-03"}})
	if next.Points != 6 || next.Rank != 1 {
		t.Errorf("next tally = %+v, want 6 points, rank 1", next)
	}

	bad := []struct {
		name string
		a    points.Adjustment
		want string
	}{
		{"a reason is required", points.Adjustment{Rep: "Dana Reyes", Points: 2, Actor: "kim"}, "reason is required"},
		{"the rep must exist", points.Adjustment{Rep: "Nobody", Points: 2, Reason: "x", Actor: "kim"}, "not found"},
		{"a month must be YYYY-MM", points.Adjustment{Rep: "Dana Reyes", Points: 2, Reason: "x", Month: "March", Actor: "kim"}, "not YYYY-MM"},
		{"a rep is required", points.Adjustment{Points: 2, Reason: "x", Actor: "kim"}, "rep is required"},
	}
	for _, c := range bad {
		if _, err := points.Adjust(ctx, &out, h, r, c.a, now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	// A past month can be adjusted explicitly.
	if _, err := points.Adjust(ctx, &out, h, r, points.Adjustment{Rep: "sam@example.test", Points: -1, Reason: "double count", Month: "2026-02", Actor: "kim"}, now); err != nil {
		t.Fatal(err)
	}
	feb, _ := r.Tally(ctx, h, sam.ID, "2026-02", nil)
	if feb.Points != -1 || feb.AllTime != 3 {
		t.Errorf("february = %+v", feb)
	}
}

func TestLabel(t *testing.T) {
	cases := map[string]string{
		"category:intel":                  "Competitive intel",
		"category:feedback":               "Product feedback",
		"product-weight:Billing":          "Billing weight",
		"channel:voicemail":               "Voicemail",
		"bonus:first-intel-of-month":      "First intel this month",
		"bonus:new-competitor:Acme":       "First report of Acme in 30 days",
		"adjust:won the Globex deal":      "Adjustment: won the Globex deal",
		"something a later version wrote": "something a later version wrote",
	}
	for reason, want := range cases {
		if got := points.Label(reason); got != want {
			t.Errorf("Label(%q) = %q, want %q", reason, got, want)
		}
	}
}
