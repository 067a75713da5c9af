package points

import (
	"context"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/store"
)

// TallyStore computes a rep's standing.
type TallyStore interface {
	Tally(ctx context.Context, q store.TallyQuery) (store.Tally, error)
}

// Tally is a rep's standing as an ack shows it.
type Tally struct {
	// Month is YYYY-MM.
	Month string
	// Points are the rep's points this month.
	Points int
	// Rank is the rep's place this month (ties share a place: 1, 2, 2, 4);
	// 0 when the rep has no points entry this month.
	Rank int
	// Ranked is how many reps have points entries this month.
	Ranked int
	// AllTime are the rep's points ever.
	AllTime int
	// Goals is the progress toward each monthly goal.
	Goals []GoalProgress
}

// GoalProgress is how far a rep is toward one monthly goal.
type GoalProgress struct {
	// Name is the goal's name, e.g. "competitive nugget".
	Name string
	// Category is what counts: intel or feedback items.
	Category string
	// Done counts this month's paid items of the category; Target is the goal.
	Done, Target int
}

// Met reports whether the goal is reached.
func (g GoalProgress) Met() bool { return g.Done >= g.Target }

// Tally returns a rep's standing in month. Pending entries (those about to
// be written for an item being processed, see Unpaid) count as written.
func (r *Rules) Tally(ctx context.Context, st TallyStore, repID int64, month string, pending []store.LedgerEntry) (Tally, error) {
	q := store.TallyQuery{RepID: repID, Month: month}
	for _, e := range pending {
		if e.Month == month {
			q.Pending += e.Points
		}
	}
	for _, g := range r.goals {
		q.Reasons = append(q.Reasons, ReasonCategory+g.Category)
	}
	t, err := st.Tally(ctx, q)
	if err != nil {
		return Tally{}, err
	}
	out := Tally{Month: month, Points: t.MonthPoints, Rank: t.Rank, Ranked: t.Ranked, AllTime: t.AllTime}
	for _, g := range r.goals {
		done := t.Counts[ReasonCategory+g.Category]
		for _, e := range pending {
			if e.Month == month && e.Reason == ReasonCategory+g.Category {
				done++
			}
		}
		out.Goals = append(out.Goals, GoalProgress{Name: g.Name, Category: g.Category, Done: done, Target: g.Count})
	}
	return out, nil
}

// MonthName formats a YYYY-MM month for people, e.g. "March 2026".
func MonthName(month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return t.Format("January 2006")
}

// PreviousMonth returns the month before a YYYY-MM month.
func PreviousMonth(month string) (string, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return "", fmt.Errorf("month %q is not YYYY-MM", month)
	}
	return t.AddDate(0, -1, 0).Format("2006-01"), nil
}
