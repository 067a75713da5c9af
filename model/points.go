package model

import "time"

// ReasonAdjust prefixes the reason of a manager's adjustment.
const ReasonAdjust = "adjust:"

// LedgerEntry is one line of the append-only points ledger.
type LedgerEntry struct {
	ID    int64
	RepID int64
	// ItemID is the item that earned the points; 0 for a manager's
	// adjustment without an item.
	ItemID int64
	Points int
	// Reason says why, e.g. "category:intel", "bonus:first-intel-of-month",
	// or ReasonAdjust and a manager's words. With ItemID it is unique, so
	// no item pays twice for the same reason.
	Reason string
	// Month is the month in the configured time zone.
	Month Month
	// Actor is "earshot" or the manager who adjusted.
	Actor string
	// CreatedAt is when the entry was written (UTC).
	CreatedAt time.Time
}

// Tally is a rep's standing in a month: the month's points and rank, the
// all-time total, and progress toward the monthly goals.
type Tally struct {
	Month Month
	// Points are the rep's points this month.
	Points int
	// Rank is the rep's place this month (ties share a place: 1, 2, 2, 4);
	// 0 when the rep has no points entry this month.
	Rank int
	// Ranked is how many reps have points entries this month.
	Ranked int
	// AllTime are the rep's points ever.
	AllTime int
	// Counts holds, per requested reason, how many entries the rep has
	// this month (one per item).
	Counts map[string]int
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

// Rep is a sales rep who earns points for contributions.
type Rep struct {
	ID      int64
	Name    string
	Team    string
	Manager string
	// Emails are folded addresses; Phones are E.164 numbers; Slack are
	// Slack user IDs (U0123ABCD).
	Emails []string
	Phones []string
	Slack  []string
	// Line is where the rep came from in an import file, for errors.
	Line int
}

// Standing is one rep's line on a monthly leaderboard.
type Standing struct {
	// Rank is standard competition ranking by points: 1, 2, 2, 4.
	Rank   int
	RepID  int64
	Name   string
	Team   string
	Points int
	// Intel and Feedback count the month's paid items per category.
	Intel    int
	Feedback int
	// Voicemails counts the month's paid voicemails.
	Voicemails int
	// Quality is the month's quality points: bonuses paid when owners
	// planned or shipped the rep's items (included in Points).
	Quality int
	// PrevPoints are the rep's points the month before; HadPrev is false
	// when the rep had no entry then.
	PrevPoints int
	HadPrev    bool
}

// Change is the points gained against the month before.
func (s Standing) Change() int { return s.Points - s.PrevPoints }

// TallyQuery asks for one rep's standing in one month.
type TallyQuery struct {
	RepID int64
	Month Month
	// Pending points are about to be written for this rep in Month (an
	// item being processed): they count as if already in the ledger.
	Pending int
	// Others are points about to be written for other reps in Month
	// (items completing with this one), by rep: they count in the rank
	// as if already in the ledger.
	Others map[int64]int
	// Reasons are counted for goal progress, e.g. "category:intel".
	Reasons []string
}

// BoardQuery asks for one month's leaderboard.
type BoardQuery struct {
	// Month is the month in the configured time zone.
	Month Month
	// Team keeps the reps of one team and ranks them among themselves;
	// empty means every rep.
	Team string
	// Limit keeps the first rows (all when <= 0).
	Limit int
}
