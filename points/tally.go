package points

import (
	"context"
	"slices"

	"github.com/earshot-dev/earshot/model"
)

// TallyStore computes a rep's standing.
type TallyStore interface {
	Tally(ctx context.Context, q model.TallyQuery) (model.Tally, error)
}

// Tally returns a rep's standing in month with the progress toward each
// monthly goal. Pending entries (those about to be written for an item
// being processed, see Unpaid) count as written, and so do others, the
// entries about to be written for items completing before it (of any rep).
func (r *Rules) Tally(ctx context.Context, st TallyStore, repID int64, month model.Month, pending []model.LedgerEntry, others ...model.LedgerEntry) (model.Tally, error) {
	q := model.TallyQuery{RepID: repID, Month: month}
	for _, e := range others {
		switch {
		case e.Month != month:
		case e.RepID == repID:
			pending = append(slices.Clip(pending), e)
		default:
			if q.Others == nil {
				q.Others = map[int64]int{}
			}
			q.Others[e.RepID] += e.Points
		}
	}
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
		return model.Tally{}, err
	}
	for _, g := range r.goals {
		done := t.Counts[ReasonCategory+g.Category]
		for _, e := range pending {
			if e.Month == month && e.Reason == ReasonCategory+g.Category {
				done++
			}
		}
		t.Goals = append(t.Goals, model.GoalProgress{Name: g.Name, Category: g.Category, Done: done, Target: g.Count})
	}
	return t, nil
}
