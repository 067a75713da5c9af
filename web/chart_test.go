package web

import (
	"bytes"
	"testing"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

func TestChartGolden(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	months := model.Month("2026-03").Range(12)
	c := buildChart(months, []store.MonthTotals{
		{Month: "2025-04", Intel: 2, Feedback: 5, Voicemails: 1, Points: 11},
		{Month: "2025-12", Intel: 9, Feedback: 3, Points: 40},
		{Month: "2026-01", Intel: 0, Feedback: 4, Voicemails: 2, Points: 4},
		{Month: "2026-03", Intel: 6, Feedback: 7, Voicemails: 3, Points: 48},
	}, "2026-03")
	var buf bytes.Buffer
	if err := e.dash.pages["leaderboard.html"].ExecuteTemplate(&buf, "chart", c); err != nil {
		t.Fatal(err)
	}
	golden(t, "chart.svg", buf.Bytes())
}

func TestChartScale(t *testing.T) {
	c := buildChart([]model.Month{"2026-01", "2026-02", "2026-03"}, []store.MonthTotals{
		{Month: "2026-02", Intel: 3, Feedback: 10}, {Month: "2026-03", Intel: 20},
	}, "2026-02")
	// The tallest month (20) fills the plot under a top line of 20.
	plotH := plotBottom - plotTop
	cases := []struct {
		name                 string
		bar                  chartBar
		intelH, feedH, total int
		label, year          string
		selected             bool
	}{
		{"an empty month", c.Bars[0], 0, 0, 0, "Jan", "2026", false},
		{"stacked intel and feedback", c.Bars[1], 3 * plotH / 20, 13*plotH/20 - 3*plotH/20, 13, "Feb", "", true},
		{"the tallest month fills the plot", c.Bars[2], plotH, 0, 20, "Mar", "", false},
	}
	for _, tc := range cases {
		b := tc.bar
		if b.IntelH != tc.intelH || b.FeedH != tc.feedH || b.Total != tc.total || b.Label != tc.label || b.Year != tc.year ||
			b.Selected != tc.selected || b.IntelY+b.IntelH != plotBottom || b.FeedY+b.FeedH != b.IntelY {
			t.Errorf("%s: %+v", tc.name, b)
		}
	}
	if len(c.Grid) != 2 || c.Grid[0].Label != "20" || c.Grid[0].Y != plotTop || c.Grid[1].Label != "10" {
		t.Errorf("grid = %+v, want lines at 20 and 10", c.Grid)
	}
	if empty := buildChart([]model.Month{"2026-03"}, nil, ""); !empty.Empty || empty.Bars[0].IntelH != 0 {
		t.Errorf("a chart without totals = %+v", empty)
	}
}

func TestNiceCeiling(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 5: 5, 6: 10, 11: 20, 20: 20, 21: 50, 99: 100, 101: 200, 4999: 5000} {
		if got := niceCeiling(in); got != want {
			t.Errorf("niceCeiling(%d) = %d, want %d", in, got, want)
		}
	}
}
