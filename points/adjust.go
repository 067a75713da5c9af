package points

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/model"
)

// AdjustStore is what a manager's adjustment needs of the store.
type AdjustStore interface {
	TallyStore
	FindRep(ctx context.Context, nameOrEmail string) (model.Rep, error)
	AdjustPoints(ctx context.Context, e model.LedgerEntry) (model.LedgerEntry, error)
}

// Adjustment is a manager's correction of a rep's points.
type Adjustment struct {
	// Rep names the rep by name or email address.
	Rep string
	// Points to add; negative to take away. Not zero.
	Points int
	// Reason is required; it is kept in the ledger.
	Reason string
	// Month is YYYY-MM; the current month in the configured zone when empty.
	Month string
	// Actor is the manager making the adjustment.
	Actor string
}

// Adjust appends a manager's adjustment to the ledger and writes a line
// saying what changed and the rep's new standing to w. It is the handler
// of `earshot points adjust`; now gives the default month.
func Adjust(ctx context.Context, w io.Writer, st AdjustStore, r *Rules, a Adjustment, now time.Time) (model.LedgerEntry, error) {
	who := strings.TrimSpace(a.Rep)
	if who == "" {
		return model.LedgerEntry{}, fmt.Errorf("adjust points: a rep is required")
	}
	if strings.Contains(who, "@") {
		who = intake.FoldAddress(who)
	}
	rep, err := st.FindRep(ctx, who)
	if err != nil {
		return model.LedgerEntry{}, fmt.Errorf("adjust points: %w", err)
	}
	month := r.Month(now)
	if a.Month != "" {
		if month, err = model.ParseMonth(a.Month); err != nil {
			return model.LedgerEntry{}, fmt.Errorf("adjust points: %w", err)
		}
	}
	e, err := st.AdjustPoints(ctx, model.LedgerEntry{RepID: rep.ID, Points: a.Points, Reason: a.Reason, Month: month, Actor: a.Actor})
	if err != nil {
		return e, err
	}
	t, err := r.Tally(ctx, st, rep.ID, month, nil)
	if err != nil {
		return e, err
	}
	_, err = fmt.Fprintf(w, "adjusted %s by %+d points in %s (%s); now %d points, rank %d of %d, %d all time\n",
		rep.Name, e.Points, month, strings.TrimPrefix(e.Reason, model.ReasonAdjust), t.Points, t.Rank, t.Ranked, t.AllTime)
	return e, err
}
