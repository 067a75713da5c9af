package web

import (
	"regexp"
	"time"
)

// monthLayout is how months are written: YYYY-MM.
const monthLayout = "2006-01"

// validMonth matches YYYY-MM.
func validMonth(s string) bool {
	ok, _ := regexp.MatchString(`^\d{4}-(0[1-9]|1[0-2])$`, s)
	return ok
}

// monthOf is the month of t in the zone points are counted in.
func (d *Dashboard) monthOf(t time.Time) string { return t.In(d.loc).Format(monthLayout) }

// thisMonth is the current month in the configured zone.
func (d *Dashboard) thisMonth() string { return d.monthOf(d.now()) }

// addMonths moves a valid YYYY-MM month by n months.
func addMonths(month string, n int) string {
	t, err := time.Parse(monthLayout, month)
	if err != nil {
		return month
	}
	return t.AddDate(0, n, 0).Format(monthLayout)
}

// monthRange lists the n months that end with last, oldest first.
func monthRange(last string, n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = addMonths(last, i-n+1)
	}
	return out
}
