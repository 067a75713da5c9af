package routing

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// matchOp is the operator of a route matcher.
type matchOp string

const (
	opEqual    matchOp = "="
	opNotEqual matchOp = "!="
	opRegexp   matchOp = "=~"
	opNotRegex matchOp = "!~"
)

// matcher is one parsed route condition on the tags of an item, such as competitor="Acme".
type matcher struct {
	label string // a tag kind
	op    matchOp
	value string
	re    *regexp.Regexp // anchored; for =~ and !~
}

// parseMatcher parses `label=value`, `label!=value`, `label=~regexp` or `label!~regexp`; the value may be
// double-quoted with Go escapes, and the regexp is anchored at both ends as in Alertmanager.
func parseMatcher(s string) (matcher, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] == '_' || 'a' <= s[i] && s[i] <= 'z' || 'A' <= s[i] && s[i] <= 'Z' || '0' <= s[i] && s[i] <= '9') {
		i++
	}
	m := matcher{label: s[:i]}
	if m.label == "" {
		return matcher{}, fmt.Errorf("matcher %q: want label=value, label!=value, label=~regexp or label!~regexp", s)
	}
	switch m.label {
	case KindCategory, KindCompetitor, KindProduct, KindTopic:
	default:
		return matcher{}, fmt.Errorf("matcher %q: unknown label %q (want category, competitor, product or topic)", s, m.label)
	}
	rest := strings.TrimLeft(s[i:], " \t")
	for _, op := range []matchOp{opRegexp, opNotRegex, opNotEqual, opEqual} {
		if strings.HasPrefix(rest, string(op)) {
			m.op = op
			rest = strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if m.op == "" {
		return matcher{}, fmt.Errorf("matcher %q: missing operator after %q (want =, !=, =~ or !~)", s, m.label)
	}
	m.value = rest
	if strings.HasPrefix(rest, `"`) {
		v, err := strconv.Unquote(rest)
		if err != nil {
			return matcher{}, fmt.Errorf("matcher %q: bad quoted value: %w", s, err)
		}
		m.value = v
	}
	if m.op == opRegexp || m.op == opNotRegex {
		re, err := regexp.Compile("^(?:" + m.value + ")$")
		if err != nil {
			return matcher{}, fmt.Errorf("matcher %q: bad regexp: %w", s, err)
		}
		m.re = re
	}
	return m, nil
}

// String renders the matcher as label op "value".
func (m matcher) String() string {
	return m.label + string(m.op) + strconv.Quote(m.value)
}

// holds reports whether the tags satisfy the matcher: for = and =~ some tag of the label's kind matches, for
// != and !~ none does.
func (m matcher) holds(tags []Tag) bool {
	some := false
	for _, t := range tags {
		if t.Kind != m.label {
			continue
		}
		if m.re != nil {
			some = m.re.MatchString(t.Value)
		} else {
			some = t.Value == m.value
		}
		if some {
			break
		}
	}
	if m.op == opNotEqual || m.op == opNotRegex {
		return !some
	}
	return some
}
