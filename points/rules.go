// Package points scores contributions: the rules that turn a processed
// item into ledger entries, the monthly tally a rep sees in an ack (month
// points, rank, all-time points, goal progress) and managers' adjustments.
package points

import (
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/routing"
)

// Ledger reasons. Each is written once per item; product weights and
// new-competitor bonuses append the product or competitor name.
const (
	ReasonCategory      = "category:"       // + category, e.g. "category:intel"
	ReasonChannel       = "channel:"        // + channel, e.g. "channel:voicemail"
	ReasonProductWeight = "product-weight:" // + product, e.g. "product-weight:Billing"
	ReasonFirstIntel    = "bonus:first-intel-of-month"
	ReasonNewCompetitor = "bonus:new-competitor:" // + competitor, e.g. "bonus:new-competitor:Acme"
)

// Categories.
const (
	Intel    = routing.CategoryIntel
	Feedback = routing.CategoryFeedback
)

// NewCompetitorWindow is how long a competitor must have gone unreported
// for the new-competitor bonus.
const NewCompetitorWindow = 30 * 24 * time.Hour

// NewCompetitorSince is the start of the window an item received at
// receivedAt looks back over; the window ends at receivedAt.
func NewCompetitorSince(receivedAt time.Time) time.Time {
	return receivedAt.Add(-NewCompetitorWindow)
}

// Rules are the scoring rules of one configuration.
type Rules struct {
	categories    map[string]int
	channels      map[string]int
	weights       map[string]float64 // by lower-case product name
	firstIntel    int
	newCompetitor int
	goals         []config.Goal
	loc           *time.Location
}

// PaysNewCompetitor reports whether the rules pay a bonus for naming a
// competitor nobody named in the window before (CompetitorReported's
// question).
func (r *Rules) PaysNewCompetitor() bool { return r.newCompetitor != 0 }

// NewRules builds the rules from the points configuration, the products
// (for their weights) and the time zone months are counted in (UTC when
// nil).
func NewRules(p config.Points, products []routing.Product, loc *time.Location) *Rules {
	if loc == nil {
		loc = time.UTC
	}
	r := &Rules{
		categories:    map[string]int{},
		channels:      map[string]int{},
		weights:       map[string]float64{},
		firstIntel:    p.FirstIntelBonus,
		newCompetitor: p.NewCompetitorBonus,
		goals:         append([]config.Goal(nil), p.Goals...),
		loc:           loc,
	}
	for k, v := range p.Categories {
		r.categories[strings.ToLower(k)] = v
	}
	for k, v := range p.Channels {
		r.channels[strings.ToLower(k)] = v
	}
	for _, pr := range products {
		if pr.Weight > 0 {
			r.weights[strings.ToLower(pr.Name)] = pr.Weight
		}
	}
	return r
}

// Month returns the month t falls in, in the configured zone.
func (r *Rules) Month(t time.Time) model.Month { return model.MonthOf(t, r.loc) }

// Location is the zone months are counted in.
func (r *Rules) Location() *time.Location { return r.loc }

// Goals returns the monthly goals.
func (r *Rules) Goals() []config.Goal { return append([]config.Goal(nil), r.goals...) }

// weight is a product's weight; 1 when it has none.
func (r *Rules) weight(product string) float64 {
	if w, ok := r.weights[strings.ToLower(product)]; ok {
		return w
	}
	return 1
}
