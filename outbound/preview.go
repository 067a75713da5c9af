package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/templates"
)

// PreviewStore is what previewing a stored item reads.
type PreviewStore interface {
	points.TallyStore
	Item(ctx context.Context, id int64) (model.Item, error)
	Tags(ctx context.Context, itemID int64) ([]model.Tag, error)
	Assignments(ctx context.Context, itemID int64) ([]model.Assignment, error)
	Mailboxes(ctx context.Context, itemID int64) ([]string, error)
	ItemLedger(ctx context.Context, itemID int64) ([]model.LedgerEntry, error)
	RepByID(ctx context.Context, id int64) (model.Rep, error)
	Leaderboard(ctx context.Context, q model.BoardQuery) ([]model.Standing, error)
}

// PreviewOptions choose what `earshot templates preview` renders.
type PreviewOptions struct {
	// Kind is one of templates.PreviewKinds: ack, sms, notice, digest,
	// reminder, manager-digest.
	Kind string
	// ItemID renders a stored item; 0 renders the sample data.
	ItemID int64
	// Owners are the configured owners, for notices and digests.
	Owners []config.Owner
}

// Preview is the handler of `earshot templates preview -c FILE [--item ID |
// --sample] [--kind K]`: it renders one kind of message to w, with the
// sample data or with what the store holds about an item (its tags,
// owners, paid points and the rep's standing now).
func Preview(ctx context.Context, w io.Writer, st PreviewStore, c *Composer, r *points.Rules, o PreviewOptions) error {
	if o.ItemID == 0 {
		return templates.Preview(w, c.Templates, o.Kind, templates.SampleFor(o.Kind))
	}
	ct, err := storedContribution(ctx, st, r, o.ItemID)
	if err != nil {
		return err
	}
	d := c.Data(ct)
	owner := config.Owner{Name: "owner", Email: "owner@example.com"}
	for _, x := range o.Owners {
		if len(ct.Owners) > 0 && x.Name == ct.Owners[0] {
			owner = x
		}
	}
	d.Owner = templates.Owner{Name: owner.Name, Email: owner.Email}
	switch o.Kind {
	case "digest":
		d.Items, d.Period = []templates.Item{d.Item}, "preview"
	case "reminder":
		d.Item.Waiting = time.Since(ct.Item.ReceivedAt).Round(time.Hour)
		d.Items = []templates.Item{d.Item}
	case "manager-digest":
		board, err := st.Leaderboard(ctx, model.BoardQuery{Month: ct.Award.Month, Limit: 10})
		if err != nil {
			return err
		}
		for _, b := range board {
			d.Leaderboard = append(d.Leaderboard, templates.Standing{Rank: b.Rank, Name: b.Name, Team: b.Team, Points: b.Points, Quality: b.Quality})
		}
		d.Month, d.Items = ct.Award.Month.Name(), []templates.Item{d.Item}
	}
	return templates.Preview(w, c.Templates, o.Kind, d)
}

// storedContribution rebuilds a processed item's contribution from the
// store: the award is what the ledger paid for it.
func storedContribution(ctx context.Context, st PreviewStore, r *points.Rules, id int64) (Contribution, error) {
	it, err := st.Item(ctx, id)
	if err != nil {
		return Contribution{}, err
	}
	ct := Contribution{Item: it, Subject: it.Subject, Text: it.Text(), From: model.Address{Addr: it.Sender}}
	if it.Kind == "voicemail" {
		ct.CallerNumber = it.Sender
	}
	if ct.Tags, err = st.Tags(ctx, id); err != nil {
		return ct, err
	}
	as, err := st.Assignments(ctx, id)
	if err != nil {
		return ct, err
	}
	for _, a := range as {
		ct.Owners = append(ct.Owners, a.Owner)
	}
	if mbs, err := st.Mailboxes(ctx, id); err != nil {
		return ct, err
	} else if len(mbs) > 0 {
		ct.Mailbox = mbs[0]
	}
	ledger, err := st.ItemLedger(ctx, id)
	if err != nil {
		return ct, err
	}
	ct.Award.Month = r.Month(it.ReceivedAt)
	for _, e := range ledger {
		ct.Award.Lines = append(ct.Award.Lines, points.Line{Reason: e.Reason, Points: e.Points})
		ct.Award.Points += e.Points
	}
	switch {
	case it.AutoReason != "":
		ct.Award.Withheld = "auto-generated mail (" + it.AutoReason + ")"
	case it.RepID == 0:
		ct.Award.Waiting = true
	}
	if it.RepID != 0 {
		rep, err := st.RepByID(ctx, it.RepID)
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			return ct, err
		}
		if err == nil {
			ct.Rep = &rep
		}
		if ct.Tally, err = r.Tally(ctx, st, it.RepID, ct.Award.Month, nil); err != nil {
			return ct, fmt.Errorf("preview item %d: %w", id, err)
		}
	}
	return ct, nil
}
