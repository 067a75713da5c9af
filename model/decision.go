package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is an owner's decision on an item.
type Status string

// The statuses of an item. An item without a decision is new; an item an
// owner has looked at is triaged; planned, shipped, declined and
// duplicate are decisions the rep hears about.
const (
	StatusNew       Status = "new"
	StatusTriaged   Status = "triaged"
	StatusPlanned   Status = "planned"
	StatusShipped   Status = "shipped"
	StatusDeclined  Status = "declined"
	StatusDuplicate Status = "duplicate"
)

// Statuses lists every status in the order of the workflow.
func Statuses() []Status {
	return []Status{StatusNew, StatusTriaged, StatusPlanned, StatusShipped, StatusDeclined, StatusDuplicate}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range Statuses() {
		if s == x {
			return true
		}
	}
	return false
}

// The ways a status changes.
const (
	ViaDashboard = "dashboard"
	ViaReply     = "reply"
	ViaAPI       = "api"
	ViaCLI       = "cli"
)

// StatusChange asks for an item's status to change.
type StatusChange struct {
	ItemID int64
	Status Status
	// DuplicateOf is the item this one duplicates (status duplicate only).
	DuplicateOf int64
	// Note is said to the rep (and kept in the history).
	Note string
	// Actor is who decided: a dashboard user, an owner, an API token.
	Actor string
	// Via is ViaDashboard, ViaReply, ViaAPI or ViaCLI.
	Via string
	// SourceItemID is the owner's reply mail that made the change; a
	// reply changes a status once however often it is processed.
	SourceItemID int64
}

// StatusEvent is one recorded change of an item's status.
type StatusEvent struct {
	ID          int64
	ItemID      int64
	Status      Status
	Previous    Status
	DuplicateOf int64
	Note        string
	Actor       string
	Via         string
	CreatedAt   time.Time
}

// ItemStatus is an item's current decision.
type ItemStatus struct {
	Status      Status
	DuplicateOf int64
	Note        string
	Actor       string
	Via         string
	// ChangedAt is zero for an item still new.
	ChangedAt time.Time
}

// ParseDecision reads a decision as an owner writes it on the first line
// of a reply or in a form: "planned", "shipped: in 4.2", "declined: on
// the roadmap for Q3", "duplicate 1234", "duplicate of #1234: same ask".
func ParseDecision(line string) (StatusChange, error) {
	line = strings.TrimSpace(line)
	word, rest := line, ""
	if i := strings.IndexAny(line, ": \t"); i >= 0 {
		word, rest = line[:i], strings.TrimSpace(line[i:])
	}
	st := Status(strings.ToLower(strings.TrimRight(word, ".!")))
	if !st.Valid() || st == StatusNew {
		return StatusChange{}, fmt.Errorf("%q is not a decision: write planned, shipped, declined, duplicate N or triaged, then an optional \": note\"", clipText(line, 60))
	}
	c := StatusChange{Status: st}
	if st == StatusDuplicate {
		r := strings.TrimSpace(strings.TrimPrefix(strings.TrimLeft(rest, ": "), "of "))
		num, after, _ := strings.Cut(strings.TrimLeft(r, "#"), ":")
		num = strings.TrimSpace(num)
		if f := strings.Fields(num); len(f) > 0 {
			num = strings.TrimLeft(f[0], "#")
		}
		id, err := strconv.ParseInt(num, 10, 64)
		if err != nil || id <= 0 {
			return StatusChange{}, fmt.Errorf("duplicate needs the number of the item it duplicates, e.g. \"duplicate 1234\"")
		}
		c.DuplicateOf, rest = id, after
	}
	c.Note = clipText(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":")), 1000)
	return c, nil
}

// clipText shortens s to at most n runes.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
