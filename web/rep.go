package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// repPage is what rep.html shows.
type repPage struct {
	Rep       model.Rep
	Months    []store.MonthTotals
	Entries   []store.RepEntry
	ThisMonth model.Month
	AllTime   int
}

// repEntryLimit bounds the history shown on a rep's page.
const repEntryLimit = 300

// rep shows a rep's points per month and the ledger entries behind them,
// with adjustments and their reasons.
func (d *Dashboard) rep(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rep, err := d.store.RepByID(r.Context(), id)
	if err != nil {
		return err
	}
	months, err := d.store.RepMonths(r.Context(), id)
	if err != nil {
		return err
	}
	entries, err := d.store.RepEntries(r.Context(), id, repEntryLimit)
	if err != nil {
		return err
	}
	p := repPage{Rep: rep, Months: months, Entries: entries, ThisMonth: d.thisMonth()}
	for _, m := range months {
		p.AllTime += m.Points
	}
	d.render(w, r, http.StatusOK, "rep.html", v, "leaderboard", rep.Name, p)
	return nil
}

// adjustRep adds a manager's adjustment to a rep's month.
func (d *Dashboard) adjustRep(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	back := fmt.Sprintf("/reps/%d", id)
	pts, reason, bad := adjustmentForm(r)
	month, err := model.ParseMonth(strings.TrimSpace(r.PostForm.Get("month")))
	if bad == "" && err != nil {
		bad = "month"
	}
	if bad != "" {
		redirectErr(w, r, back, bad, "adjust")
		return nil
	}
	if _, err := d.store.RepByID(r.Context(), id); err != nil {
		return err
	}
	e, err := d.store.AdjustPoints(r.Context(), model.LedgerEntry{RepID: id, Points: pts, Reason: reason, Month: month, Actor: v.Name})
	if err != nil {
		return err
	}
	d.log.Info("points adjusted", "rep", id, "points", e.Points, "month", month, "user", v.Name)
	redirectDone(w, r, back, "adjusted", "history")
	return nil
}

// adjustmentForm reads points and reason; bad is an errText key.
func adjustmentForm(r *http.Request) (pts int, reason, bad string) {
	pts, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("points")))
	if err != nil || pts == 0 || pts > 100000 || pts < -100000 {
		return 0, "", "points"
	}
	reason = clip(strings.TrimSpace(r.PostForm.Get("reason")), 500)
	if reason == "" {
		return 0, "", "reason"
	}
	return pts, reason, ""
}
