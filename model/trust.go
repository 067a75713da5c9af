package model

import "time"

// Trust is what Earshot believes of who an item is from, decided when
// the item is processed. Only a contributor is acknowledged and only a
// rep (verified, or credited by a manager) earns points; everyone else's
// item is kept and tagged and waits for a manager.
type Trust string

// The levels of trust.
const (
	// TrustRep is a rep of the roster whose address or number verified
	// as the source's policy requires.
	TrustRep Trust = "rep"
	// TrustCredited is an item a manager credited to a rep.
	TrustCredited Trust = "credited"
	// TrustColleague is a verified sender of a colleague domain who is
	// not in the roster yet: acknowledged, no points until registered.
	TrustColleague Trust = "colleague"
	// TrustOpen is a sender accepted from anyone, where a mailbox opts in:
	// acknowledged within an hourly cap, no points.
	TrustOpen Trust = "open"
	// TrustUnverified is a sender who claims a rep's address or number,
	// but whose claim did not verify: nothing until a manager credits it.
	TrustUnverified Trust = "unverified"
	// TrustStranger is a sender Earshot does not know.
	TrustStranger Trust = "stranger"
	// TrustSpam is mail a trusted mail server marked as spam.
	TrustSpam Trust = "spam"
)

// Contributor reports whether the sender is acknowledged.
func (t Trust) Contributor() bool {
	switch t {
	case TrustRep, TrustCredited, TrustColleague, TrustOpen:
		return true
	}
	return false
}

// Earns reports whether the item earns a rep points.
func (t Trust) Earns() bool { return t == TrustRep || t == TrustCredited }

// Review is a manager's verdict on an item that waited for one.
type Review struct {
	ItemID int64
	// Verdict is ReviewCredit or ReviewDismiss.
	Verdict string
	// RepID is the rep an item is credited to.
	RepID int64
	// SendAck asks for an ack to the rep when the item is credited.
	SendAck    bool
	Actor      string
	ReviewedAt time.Time
}

// The verdicts of a review.
const (
	ReviewCredit  = "credit"
	ReviewDismiss = "dismiss"
)
