package points

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/model"
)

// Item is what scoring needs to know about a processed item.
type Item struct {
	ID int64
	// RepID is the contributing rep; 0 for a sender who is not registered.
	RepID int64
	// Channel is email or voicemail.
	Channel    string
	ReceivedAt time.Time
	// Categories, Products and Competitors are the item's tag values.
	Categories  []string
	Products    []string
	Competitors []string
	// AutoReason is intake's reason for mail a machine generated.
	AutoReason string
	// DuplicateOf is the item this one repeats, or 0.
	DuplicateOf int64
}

// History answers what scoring must know about earlier items.
type History interface {
	// HasLedgerReason reports whether the rep was paid for reason in month
	// for another item.
	HasLedgerReason(ctx context.Context, repID int64, month model.Month, reason string, exceptItem int64) (bool, error)
	// CompetitorReported reports whether another processed item received
	// between from and to names the competitor.
	CompetitorReported(ctx context.Context, competitor string, from, to time.Time, exceptItem int64) (bool, error)
}

// Line is one reason an item earns points, as written in the ledger.
type Line struct {
	Reason string
	Points int
}

// Award is what an item earns.
type Award struct {
	// Month is the item's month in the configured zone.
	Month model.Month
	// Lines are the reasons and their points, one per reason.
	Lines []Line
	// Points is the sum of Lines.
	Points int
	// Withheld says why the item earns nothing, e.g. "duplicate of item
	// 12"; empty when it earns.
	Withheld string
	// Waiting is set when the sender is not a registered rep: Lines show
	// what the item will pay once the sender is registered, and nothing
	// is written to the ledger until then.
	Waiting bool
}

// Score works out what an item earns: points per category (an item that
// is both intel and feedback earns both), multiplied by the highest weight
// among its products, plus the channel's points, a bonus for the rep's
// first intel of the month and one per competitor nobody reported in the
// last 30 days. Duplicates and machine-generated mail earn nothing.
func (r *Rules) Score(ctx context.Context, h History, it Item) (Award, error) {
	a := Award{Month: r.Month(it.ReceivedAt)}
	switch {
	case it.AutoReason != "":
		a.Withheld = "auto-generated mail (" + it.AutoReason + ")"
		return a, nil
	case it.DuplicateOf != 0:
		a.Withheld = fmt.Sprintf("duplicate of item %d", it.DuplicateOf)
		return a, nil
	}
	cats := categories(it.Categories)
	if len(cats) == 0 {
		a.Withheld = "no category"
		return a, nil
	}
	base := 0
	for _, c := range cats {
		n := r.categories[c]
		a.Lines = append(a.Lines, Line{ReasonCategory + c, n})
		base += n
	}
	if p, w := r.heaviest(it.Products); w != 1 && base != 0 {
		if extra := int(math.Round(float64(base)*w)) - base; extra != 0 {
			a.Lines = append(a.Lines, Line{ReasonProductWeight + p, extra})
		}
	}
	if n := r.channels[strings.ToLower(it.Channel)]; n != 0 {
		a.Lines = append(a.Lines, Line{ReasonChannel + strings.ToLower(it.Channel), n})
	}
	if r.firstIntel != 0 && it.RepID != 0 && slices.Contains(cats, Intel) {
		had, err := h.HasLedgerReason(ctx, it.RepID, a.Month, ReasonCategory+Intel, it.ID)
		if err != nil {
			return a, fmt.Errorf("first intel bonus: %w", err)
		}
		if !had {
			a.Lines = append(a.Lines, Line{ReasonFirstIntel, r.firstIntel})
		}
	}
	if r.newCompetitor != 0 {
		for _, c := range unique(it.Competitors) {
			seen, err := h.CompetitorReported(ctx, c, NewCompetitorSince(it.ReceivedAt), it.ReceivedAt, it.ID)
			if err != nil {
				return a, fmt.Errorf("new competitor bonus: %w", err)
			}
			if !seen {
				a.Lines = append(a.Lines, Line{ReasonNewCompetitor + c, r.newCompetitor})
			}
		}
	}
	for _, l := range a.Lines {
		a.Points += l.Points
	}
	a.Waiting = it.RepID == 0
	return a, nil
}

// Entries are the ledger entries to write for the award: none when the
// item earns nothing or the sender is not registered yet.
func (a Award) Entries(repID, itemID int64) []model.LedgerEntry {
	if a.Withheld != "" || a.Waiting || repID == 0 {
		return nil
	}
	out := make([]model.LedgerEntry, 0, len(a.Lines))
	for _, l := range a.Lines {
		out = append(out, model.LedgerEntry{
			RepID: repID, ItemID: itemID,
			Points: l.Points, Reason: l.Reason, Month: a.Month, Actor: "earshot",
		})
	}
	return out
}

// Unpaid returns the entries whose reason is not among those already paid
// for the item: what writing entries will add to the ledger.
func Unpaid(entries, paid []model.LedgerEntry) []model.LedgerEntry {
	var out []model.LedgerEntry
	for _, e := range entries {
		if !slices.ContainsFunc(paid, func(p model.LedgerEntry) bool { return p.Reason == e.Reason }) {
			out = append(out, e)
		}
	}
	return out
}

// heaviest returns the product with the highest weight (the first by name
// on a tie) and that weight; 1 when no product has a weight.
func (r *Rules) heaviest(products []string) (string, float64) {
	name, best := "", 1.0
	for i, p := range unique(products) {
		if w := r.weight(p); i == 0 || w > best {
			name, best = p, w
		}
	}
	return name, best
}

// categories returns the known categories among tags, intel first.
func categories(tags []string) []string {
	var out []string
	for _, c := range []string{Intel, Feedback} {
		if slices.ContainsFunc(tags, func(t string) bool { return strings.EqualFold(t, c) }) {
			out = append(out, c)
		}
	}
	return out
}

// unique returns the values sorted, without repeats.
func unique(vs []string) []string {
	out := slices.Clone(vs)
	slices.Sort(out)
	return slices.Compact(out)
}
