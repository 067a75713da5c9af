package points_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
)

// history is an in-memory ledger with processed items: what scoring,
// tallies and adjustments read and write.
type history struct {
	t      *testing.T
	items  []histItem
	ledger []model.LedgerEntry
	reps   []model.Rep
	rep    int64 // Dana's id
}

type histItem struct {
	id   int64
	at   time.Time
	tags []model.Tag
}

func newHistory(t *testing.T) *history {
	return &history{t: t, rep: 1, reps: []model.Rep{
		{ID: 1, Name: "Dana Reyes", Emails: []string{"dana@example.test"}},
		{ID: 2, Name: "Sam Okafor", Emails: []string{"sam@example.test"}},
	}}
}

// add records a processed item received at `at` with tags and ledger
// entries, and returns its id.
func (h *history) add(at time.Time, rep int64, tags []model.Tag, ledger ...model.LedgerEntry) int64 {
	id := int64(len(h.items) + 1)
	h.items = append(h.items, histItem{id: id, at: at, tags: tags})
	for _, e := range ledger {
		e.ItemID = id
		h.ledger = append(h.ledger, e)
	}
	return id
}

func (h *history) HasLedgerReason(ctx context.Context, repID int64, month model.Month, reason string, exceptItem int64) (bool, error) {
	return slices.ContainsFunc(h.ledger, func(e model.LedgerEntry) bool {
		return e.RepID == repID && e.Month == month && e.Reason == reason && e.ItemID != exceptItem
	}), nil
}

func (h *history) CompetitorReported(ctx context.Context, competitor string, from, to time.Time, exceptItem int64) (bool, error) {
	for _, it := range h.items {
		if it.id == exceptItem || it.at.Before(from) || it.at.After(to) {
			continue
		}
		if slices.ContainsFunc(it.tags, func(t model.Tag) bool { return t.Kind == model.TagCompetitor && t.Value == competitor }) {
			return true, nil
		}
	}
	return false, nil
}

// Tally ranks by month totals as the store does: standard competition
// ranking among the reps with entries, pending points counted as paid.
func (h *history) Tally(ctx context.Context, q model.TallyQuery) (model.Tally, error) {
	totals := map[int64]int{}
	t := model.Tally{Month: q.Month, Counts: map[string]int{}}
	for _, e := range h.ledger {
		if e.RepID == q.RepID {
			t.AllTime += e.Points
		}
		if e.Month != q.Month {
			continue
		}
		totals[e.RepID] += e.Points
		if e.RepID == q.RepID && slices.Contains(q.Reasons, e.Reason) {
			t.Counts[e.Reason]++
		}
	}
	t.AllTime += q.Pending
	mine, found := totals[q.RepID]
	t.Points = mine + q.Pending
	for rep, pts := range totals {
		if rep == q.RepID {
			continue
		}
		t.Ranked++
		if pts > t.Points {
			t.Rank++
		}
	}
	if found || q.Pending != 0 {
		t.Rank, t.Ranked = t.Rank+1, t.Ranked+1
	} else {
		t.Rank = 0
	}
	return t, nil
}

func (h *history) FindRep(ctx context.Context, nameOrEmail string) (model.Rep, error) {
	for _, r := range h.reps {
		if strings.EqualFold(r.Name, nameOrEmail) || slices.Contains(r.Emails, nameOrEmail) {
			return r, nil
		}
	}
	return model.Rep{}, fmt.Errorf("rep %q: %w", nameOrEmail, model.ErrNotFound)
}

func (h *history) AdjustPoints(ctx context.Context, e model.LedgerEntry) (model.LedgerEntry, error) {
	reason := strings.TrimSpace(e.Reason)
	switch {
	case reason == "":
		return e, fmt.Errorf("adjust points: a reason is required")
	case !e.Month.Valid():
		return e, fmt.Errorf("adjust points: month %q is not YYYY-MM", e.Month)
	}
	e.Reason = model.ReasonAdjust + reason
	e.ID = int64(len(h.ledger) + 1)
	h.ledger = append(h.ledger, e)
	return e, nil
}
