package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// A manager's actions on an item. Each is a POST with the session's CSRF
// token (checked by authorize) that redirects back to the item with its
// outcome.

// itemTarget reads the item of an action and the page to go back to.
func (d *Dashboard) itemTarget(r *http.Request) (store.ItemDetail, string, error) {
	id, err := pathID(r)
	if err != nil {
		return store.ItemDetail{}, "", err
	}
	it, err := d.store.ItemDetail(r.Context(), id)
	if err != nil {
		return it, "", err
	}
	return it, fmt.Sprintf("/items/%d", id), nil
}

// retag adds or removes a tag; a manager's tag has origin "manager:NAME".
func (d *Dashboard) retag(w http.ResponseWriter, r *http.Request, v *viewer) error {
	it, back, err := d.itemTarget(r)
	if err != nil {
		return err
	}
	id := it.ID
	kind := r.PostForm.Get("kind")
	value := clip(strings.TrimSpace(r.PostForm.Get("value")), 200)
	if !slices.Contains(tagKinds(), kind) || value == "" {
		redirectErr(w, r, back, "tag", "tags")
		return nil
	}
	done := "tagged"
	if r.PostForm.Get("op") == "remove" {
		err, done = d.store.RemoveTag(r.Context(), id, kind, value, v.Name), "untagged"
	} else {
		err = d.store.SetManagerTag(r.Context(), id, kind, value, v.Name)
	}
	if err != nil {
		return err
	}
	d.log.Info("item retagged", "item", id, "op", done, "kind", kind, "value", value, "user", v.Name)
	redirectDone(w, r, back, done, "tags")
	return nil
}

// reassign adds or removes an owner.
func (d *Dashboard) reassign(w http.ResponseWriter, r *http.Request, v *viewer) error {
	it, back, err := d.itemTarget(r)
	if err != nil {
		return err
	}
	id := it.ID
	owner := clip(strings.TrimSpace(r.PostForm.Get("owner")), 200)
	if owner == "" {
		redirectErr(w, r, back, "owner", "routing")
		return nil
	}
	done := "assigned"
	if r.PostForm.Get("op") == "remove" {
		err, done = d.store.Unassign(r.Context(), id, owner, v.Name), "unassigned"
	} else {
		err = d.store.Assign(r.Context(), id, owner, v.Name)
	}
	if err != nil {
		return err
	}
	d.log.Info("item reassigned", "item", id, "op", done, "owner", owner, "user", v.Name)
	redirectDone(w, r, back, done, "routing")
	return nil
}

// triage marks the item triaged for one owner, or for every owner.
func (d *Dashboard) triage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	it, back, err := d.itemTarget(r)
	if err != nil {
		return err
	}
	id := it.ID
	n, err := d.store.MarkTriaged(r.Context(), id, strings.TrimSpace(r.PostForm.Get("owner")), v.Name)
	if err != nil {
		return err
	}
	if n == 0 {
		redirectErr(w, r, back, "untriaged", "routing")
		return nil
	}
	d.log.Info("item triaged", "item", id, "assignments", n, "user", v.Name)
	redirectDone(w, r, back, "triaged", "routing")
	return nil
}

// adjustItem adds a manager's adjustment of the item's points, in the
// month the item was paid in (or received in).
func (d *Dashboard) adjustItem(w http.ResponseWriter, r *http.Request, v *viewer) error {
	it, back, err := d.itemTarget(r)
	if err != nil {
		return err
	}
	id := it.ID
	pts, reason, bad := adjustmentForm(r)
	if bad != "" {
		redirectErr(w, r, back, bad, "points")
		return nil
	}
	if it.RepID == 0 {
		redirectErr(w, r, back, "unregistered", "points")
		return nil
	}
	ledger, err := d.store.ItemLedger(r.Context(), id)
	if err != nil {
		return err
	}
	e, err := d.store.AdjustItemPoints(r.Context(), id, model.LedgerEntry{Points: pts, Reason: reason,
		Month: d.paidMonth(it, ledger), Actor: v.Name})
	if errors.Is(err, store.ErrDuplicateAdjustment) {
		redirectErr(w, r, back, "duplicate", "points")
		return nil
	}
	if err != nil {
		return err
	}
	d.log.Info("item points adjusted", "item", id, "rep", e.RepID, "points", e.Points, "user", v.Name)
	redirectDone(w, r, back, "adjusted", "points")
	return nil
}

// transcript stores a transcript a manager typed; the store makes the
// item due for processing again, so tags, owners and points follow it.
func (d *Dashboard) transcript(w http.ResponseWriter, r *http.Request, v *viewer) error {
	it, back, err := d.itemTarget(r)
	if err != nil {
		return err
	}
	id := it.ID
	text := strings.TrimSpace(r.PostForm.Get("transcript"))
	if text == "" {
		redirectErr(w, r, back, "transcript", "transcript")
		return nil
	}
	if err := d.store.SetManagerTranscript(r.Context(), id, v.Name, text); err != nil {
		return err
	}
	d.log.Info("transcript typed", "item", id, "user", v.Name)
	redirectDone(w, r, back, "transcript", "transcript")
	return nil
}

// review credits an item to a rep (with an ack to the rep when asked) or
// dismisses it; processing it again applies the verdict.
func (d *Dashboard) review(w http.ResponseWriter, r *http.Request, v *viewer) error {
	it, back, err := d.itemTarget(r)
	if err != nil {
		return err
	}
	rv := model.Review{ItemID: it.ID, Actor: v.Name}
	done := "dismissed"
	switch r.PostForm.Get("op") {
	case "credit":
		rep, err := strconv.ParseInt(r.PostForm.Get("rep"), 10, 64)
		if err != nil || rep <= 0 {
			redirectErr(w, r, back, "rep", "sender")
			return nil
		}
		rv.Verdict, rv.RepID, rv.SendAck, done = model.ReviewCredit, rep, r.PostForm.Get("ack") == "1", "credited"
	case "dismiss":
		rv.Verdict = model.ReviewDismiss
	default:
		return badRequest("Unknown review.")
	}
	if err := d.store.ReviewItem(r.Context(), rv); errors.Is(err, store.ErrNotFound) {
		redirectErr(w, r, back, "rep", "sender")
		return nil
	} else if err != nil {
		return err
	}
	d.log.Info("item reviewed", "item", it.ID, "verdict", rv.Verdict, "rep", rv.RepID, "ack", rv.SendAck, "user", v.Name)
	redirectDone(w, r, back, done, "sender")
	return nil
}

// roster adds the item's sender (its address or number) to a rep and
// processes the item again: the sender is a rep from now on, verified as
// the mailbox requires.
func (d *Dashboard) roster(w http.ResponseWriter, r *http.Request, v *viewer) error {
	it, back, err := d.itemTarget(r)
	if err != nil {
		return err
	}
	rep, err := strconv.ParseInt(r.PostForm.Get("rep"), 10, 64)
	if err != nil || rep <= 0 || it.Sender == "" {
		redirectErr(w, r, back, "rep", "sender")
		return nil
	}
	kind := "phone"
	switch {
	case strings.Contains(it.Sender, "@"):
		kind = "email"
	case it.Kind == model.KindSlack:
		kind = "slack"
	}
	if err := d.store.AddRepContact(r.Context(), rep, kind, it.Sender); errors.Is(err, store.ErrNotFound) {
		redirectErr(w, r, back, "rep", "sender")
		return nil
	} else if err != nil {
		d.log.Info("add to roster refused", "item", it.ID, "rep", rep, "err", err)
		redirectErr(w, r, back, "contact", "sender")
		return nil
	}
	if _, err := d.store.Reprocess(r.Context(), []int64{it.ID}); err != nil {
		return err
	}
	d.log.Info("sender added to the roster", "item", it.ID, "rep", rep, "kind", kind, "user", v.Name)
	redirectDone(w, r, back, "rostered", "sender")
	return nil
}
