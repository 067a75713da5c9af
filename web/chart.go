package web

import (
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// The leaderboard's chart: contributions per month as stacked bars
// (intel below, feedback above), drawn as inline SVG on the server. The
// template only places the numbers computed here.

// Chart geometry, in SVG user units.
const (
	chartWidth  = 720
	chartHeight = 204
	plotLeft    = 40
	plotTop     = 18
	plotBottom  = 172
	barWidth    = 36
)

// chart is the view of the contributions chart.
type chart struct {
	Width, Height int
	Left, Right   int
	Base          int
	TickX         int
	MonthY, YearY int
	Title         string
	Empty         bool
	Grid          []gridLine
	Bars          []chartBar
}

// gridLine is a horizontal guide with its value.
type gridLine struct {
	Y     int
	Label string
}

// chartBar is one month.
type chartBar struct {
	Month    model.Month
	Tooltip  string
	Label    string
	Year     string
	X, W     int
	Center   int
	IntelY   int
	IntelH   int
	FeedY    int
	FeedH    int
	Total    int
	TotalY   int
	Selected bool
}

// buildChart lays out the months (oldest first) with their totals;
// months without totals show as zero. selected is highlighted.
func buildChart(months []model.Month, totals []store.MonthTotals, selected model.Month) chart {
	byMonth := map[model.Month]store.MonthTotals{}
	top := 0
	for _, t := range totals {
		byMonth[t.Month] = t
		top = max(top, t.Intel+t.Feedback)
	}
	c := chart{Width: chartWidth, Height: chartHeight, Left: plotLeft, Right: chartWidth - 8, Base: plotBottom,
		TickX: plotLeft - 6, MonthY: plotBottom + 14, YearY: plotBottom + 27, Empty: top == 0}
	if len(months) > 0 {
		c.Title = fmt.Sprintf("Contributions per month, %s to %s", months[0].Name(), months[len(months)-1].Name())
	}
	scale := niceCeiling(top)
	plotH := plotBottom - plotTop
	c.Grid = append(c.Grid, gridLine{Y: plotTop, Label: fmt.Sprint(scale)})
	if scale%2 == 0 {
		c.Grid = append(c.Grid, gridLine{Y: plotBottom - plotH/2, Label: fmt.Sprint(scale / 2)})
	}
	slot := 0
	if len(months) > 0 {
		slot = (c.Right - plotLeft) / len(months)
	}
	for i, m := range months {
		t := byMonth[m]
		b := chartBar{Month: m, X: plotLeft + i*slot + (slot-barWidth)/2, W: barWidth, Selected: m == selected}
		b.Center = b.X + barWidth/2
		b.IntelH = t.Intel * plotH / scale
		b.FeedH = (t.Intel+t.Feedback)*plotH/scale - b.IntelH
		b.IntelY = plotBottom - b.IntelH
		b.FeedY = b.IntelY - b.FeedH
		b.Total = t.Intel + t.Feedback
		b.TotalY = b.FeedY - 4
		b.Tooltip = fmt.Sprintf("%s: %d intel, %d feedback, %d voicemails, %d points",
			m.Name(), t.Intel, t.Feedback, t.Voicemails, t.Points)
		if at := m.Start(time.UTC); !at.IsZero() {
			b.Label = at.Format("Jan")
			if i == 0 || at.Month() == time.January {
				b.Year = at.Format("2006")
			}
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// niceCeiling rounds n up to 1, 2 or 5 times a power of ten (at least 1),
// so the top grid line carries a round number.
func niceCeiling(n int) int {
	if n <= 1 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}
