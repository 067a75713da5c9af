// Package reps reads the rep roster that reps are imported from.
package reps

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/model"
)

// columns are the CSV header names, in any order; name is required.
var columns = []string{"name", "emails", "phones", "slack", "team", "manager"}

// LineError is a bad row of the roster.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ParseCSV reads a roster with a header row (name, emails, phones, slack,
// team, manager; slack holds Slack user IDs like U0123ABCD). Several
// values in one cell are separated by ";". Phones are normalised to E.164, reading numbers without a
// country code as in region (e.g. "US"). Every bad row is reported with
// its line number; none of the file is returned then.
func ParseCSV(r io.Reader, region string) ([]model.Rep, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("roster is empty: want a header row name,emails,phones,team,manager")
	}
	if err != nil {
		return nil, fmt.Errorf("roster header: %w", err)
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range columns {
			known = known || c == h
		}
		if !known {
			return nil, &LineError{1, fmt.Errorf("unknown column %q (want %s)", h, strings.Join(columns, ", "))}
		}
		idx[h] = i
	}
	if _, ok := idx["name"]; !ok {
		return nil, &LineError{1, errors.New("no name column")}
	}
	var (
		out  []model.Rep
		errs []error
		seen = map[string]int{}
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A *csv.ParseError names its line itself.
			errs = append(errs, err)
			if _, ok := err.(*csv.ParseError); ok && len(rec) == 0 {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		get := func(col string) string {
			if i, ok := idx[col]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		rep, err := parseRow(get, region)
		if err != nil {
			errs = append(errs, &LineError{line, err})
			continue
		}
		rep.Line = line
		for _, c := range slices.Concat(rep.Emails, rep.Phones, rep.Slack) {
			if prev, ok := seen[c]; ok {
				errs = append(errs, &LineError{line, fmt.Errorf("%s is also on line %d", c, prev)})
			}
			seen[c] = line
		}
		out = append(out, rep)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func parseRow(get func(string) string, region string) (model.Rep, error) {
	rep := model.Rep{Name: get("name"), Team: get("team"), Manager: get("manager")}
	if rep.Name == "" {
		return rep, errors.New("name is empty")
	}
	for _, e := range split(get("emails")) {
		a, err := mail.ParseAddress(e)
		if err != nil {
			return rep, fmt.Errorf("email %q: %w", e, err)
		}
		rep.Emails = append(rep.Emails, intake.FoldAddress(a.Address))
	}
	for _, p := range split(get("phones")) {
		n, err := NormalizePhone(p, region)
		if err != nil {
			return rep, err
		}
		rep.Phones = append(rep.Phones, n)
	}
	for _, u := range split(get("slack")) {
		if !slackUser.MatchString(u) {
			return rep, fmt.Errorf("slack %q: want a Slack user ID like U0123ABCD", u)
		}
		rep.Slack = append(rep.Slack, u)
	}
	if len(rep.Emails) == 0 && len(rep.Phones) == 0 && len(rep.Slack) == 0 {
		return rep, fmt.Errorf("%s has no email, no phone and no slack user", rep.Name)
	}
	return rep, nil
}

// slackUser matches a Slack user ID (U…, or W… in Enterprise Grid).
var slackUser = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// split separates a cell's values on ";" (and "," for emails written
// that way), keeping phone numbers with spaces whole.
func split(cell string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == '|' }) {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// NormalizePhone returns the E.164 form of a phone number, reading a
// number without a country code as in region.
func NormalizePhone(s, region string) (string, error) {
	num, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return "", fmt.Errorf("phone %q: %w", s, err)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("phone %q is not a valid number", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
