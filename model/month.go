package model

import (
	"fmt"
	"regexp"
	"time"
)

// Month is a calendar month written YYYY-MM, as points are counted: in the
// configured time zone.
type Month string

// monthLayout is how a Month is written.
const monthLayout = "2006-01"

var monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// ParseMonth reads a YYYY-MM month.
func ParseMonth(s string) (Month, error) {
	if !monthPattern.MatchString(s) {
		return "", fmt.Errorf("month %q is not YYYY-MM", s)
	}
	return Month(s), nil
}

// MonthOf is the month of t in loc.
func MonthOf(t time.Time, loc *time.Location) Month {
	return Month(t.In(loc).Format(monthLayout))
}

// Valid reports whether m is a YYYY-MM month.
func (m Month) Valid() bool { return monthPattern.MatchString(string(m)) }

// Start is the first instant of m in loc.
func (m Month) Start(loc *time.Location) time.Time {
	t, err := time.ParseInLocation(monthLayout, string(m), loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Add returns the month n months after m (before it for negative n). An
// invalid m is returned unchanged.
func (m Month) Add(n int) Month {
	t, err := time.Parse(monthLayout, string(m))
	if err != nil {
		return m
	}
	return Month(t.AddDate(0, n, 0).Format(monthLayout))
}

// Prev is the month before m.
func (m Month) Prev() Month { return m.Add(-1) }

// Range lists the n months that end with m, oldest first.
func (m Month) Range(n int) []Month {
	out := make([]Month, n)
	for i := range n {
		out[i] = m.Add(i - n + 1)
	}
	return out
}

// Name is the month for people, e.g. "March 2026"; an invalid m is
// returned as it is.
func (m Month) Name() string {
	t, err := time.Parse(monthLayout, string(m))
	if err != nil {
		return string(m)
	}
	return t.Format("January 2006")
}

// String returns YYYY-MM.
func (m Month) String() string { return string(m) }
