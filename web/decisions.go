package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/decision"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// statusForm reads a status change from a form: status, note and, for a
// duplicate, duplicate_of.
func statusForm(r *http.Request, actor string) (model.StatusChange, bool) {
	c := model.StatusChange{Status: model.Status(r.PostForm.Get("status")), Note: clip(strings.TrimSpace(r.PostForm.Get("note")), 1000),
		Actor: actor, Via: model.ViaDashboard}
	if !c.Status.Valid() || c.Status == model.StatusNew {
		return c, false
	}
	if c.Status == model.StatusDuplicate {
		n, err := strconv.ParseInt(strings.TrimLeft(strings.TrimSpace(r.PostForm.Get("duplicate_of")), "#"), 10, 64)
		if err != nil || n <= 0 {
			return c, false
		}
		c.DuplicateOf = n
	}
	return c, true
}

// setStatus records a manager's decision on one item.
func (d *Dashboard) setStatus(w http.ResponseWriter, r *http.Request, v *viewer) error {
	it, back, err := d.itemTarget(r)
	if err != nil {
		return err
	}
	if d.decide == nil {
		return badRequest("Decisions are not available.")
	}
	c, ok := statusForm(r, v.Name)
	if !ok {
		redirectErr(w, r, back, "status", "status")
		return nil
	}
	c.ItemID = it.ID
	if _, _, err := d.decide.Set(r.Context(), c); err != nil {
		if errors.Is(err, decision.ErrBadChange) || errors.Is(err, store.ErrNotFound) {
			redirectErr(w, r, back, "status", "status")
			return nil
		}
		return err
	}
	d.log.Info("status set", "item", it.ID, "status", c.Status, "user", v.Name)
	redirectDone(w, r, back, "status", "status")
	return nil
}

// bulkStatus records one decision on every selected item of the inbox.
func (d *Dashboard) bulkStatus(w http.ResponseWriter, r *http.Request, v *viewer) error {
	back := "/items"
	if d.decide == nil {
		return badRequest("Decisions are not available.")
	}
	c, ok := statusForm(r, v.Name)
	ids := r.PostForm["id"]
	if !ok || len(ids) == 0 || len(ids) > 500 {
		redirectErr(w, r, back, "bulk", "")
		return nil
	}
	n := 0
	for _, s := range ids {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return badRequest("Bad item id.")
		}
		c.ItemID = id
		if _, changed, err := d.decide.Set(r.Context(), c); err != nil {
			if errors.Is(err, decision.ErrBadChange) || errors.Is(err, store.ErrNotFound) {
				continue
			}
			return fmt.Errorf("item %d: %w", id, err)
		} else if changed {
			n++
		}
	}
	d.log.Info("bulk status set", "status", c.Status, "items", n, "user", v.Name)
	redirectDone(w, r, back, "status", "")
	return nil
}

// replay sends a dead letter again.
func (d *Dashboard) replay(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := d.store.ReplayOutbox(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			redirectErr(w, r, "/outbox", "replay", "")
			return nil
		}
		return err
	}
	d.log.Info("outbox message replayed", "outbox", id, "user", v.Name)
	redirectDone(w, r, "/outbox", "replayed", "")
	return nil
}
