package intake

import (
	netmail "net/mail"
	"regexp"
	"strings"
	"time"
)

// dateLayouts are the shapes of dates seen in real mail that net/mail does
// not accept, and the shapes mail clients write in forwarded-message headers.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04 MST",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05",
	// Forwarded-message headers (Gmail, Apple Mail, Outlook, Thunderbird).
	"Mon, Jan 2, 2006 3:04 PM",
	"Mon, Jan 2, 2006 3:04:05 PM",
	"January 2, 2006 3:04:05 PM MST",
	"January 2, 2006 3:04:05 PM",
	"January 2, 2006 3:04 PM",
	"Monday, January 2, 2006 3:04 PM",
	"Monday, January 2, 2006 3:04:05 PM",
	"Monday, January 2, 2006 15:04",
	"Monday, 2 January 2006 15:04",
	"Monday, 2 January 2006 3:04 PM",
	"2 January 2006 15:04",
	"Mon, 2 Jan 2006, 15:04",
	"1/2/2006 3:04 PM",
	"1/2/2006 3:04:05 PM",
	"02/01/2006 15:04",
	"2006-01-02 15:04",
}

var (
	// dateComment matches a trailing "(PST)"-style comment.
	dateComment = regexp.MustCompile(`\s*\([^()]*\)\s*$`)
	// dateAt matches the " at " Gmail and Apple Mail put between date and time.
	dateAt = regexp.MustCompile(`(?i)\s+at\s+`)
)

// parseDate parses a Date header value, or the date of a forwarded-message
// header, leniently.
func parseDate(v string) (time.Time, bool) {
	v = oneLine(v)
	if v == "" || len(v) > 200 {
		return time.Time{}, false
	}
	if t, err := netmail.ParseDate(v); err == nil {
		return t, true
	}
	s := dateComment.ReplaceAllString(v, "")
	s = dateAt.ReplaceAllString(s, " ")
	s = strings.ReplaceAll(s, "\u202f", " ") // narrow no-break space before AM/PM
	s = strings.Join(strings.Fields(s), " ")
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return withKnownZone(t), true
		}
	}
	// A day-of-week prefix that does not match the layout ("Thursday, ...").
	if i := strings.Index(s, ", "); i > 0 && i < 10 {
		if t, ok := parseDateNoWeekday(s[i+2:]); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseDateNoWeekday tries the layouts that have no day of the week.
func parseDateNoWeekday(s string) (time.Time, bool) {
	for _, layout := range dateLayouts {
		if strings.HasPrefix(layout, "Mon") {
			continue
		}
		if t, err := time.Parse(layout, s); err == nil {
			return withKnownZone(t), true
		}
	}
	if t, err := netmail.ParseDate(s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// zoneOffsets are the offsets of the zone abbreviations mail clients write
// in forwarded-message dates. time.Parse knows an abbreviation's offset only
// for the local zone; elsewhere it records the name with a zero offset.
var zoneOffsets = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"AKST": -9, "AKDT": -8, "HST": -10,
	"WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
	"JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
}

// withKnownZone gives t the offset of its zone abbreviation when time.Parse
// left it at zero.
func withKnownZone(t time.Time) time.Time {
	name, off := t.Zone()
	hours, known := zoneOffsets[name]
	if !known || off == hours*3600 {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone(name, hours*3600))
}
