package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// The operator's pages: what went out, what failed to process, and how
// the sources are doing.

// outboxPageSize is how many messages a page of the outbox shows.
const outboxPageSize = 100

// outboxPage is what outbox.html shows.
type outboxPage struct {
	State    model.OutboxState
	States   []model.OutboxState
	Messages []model.OutboxMessage
	NextURL  string
}

// outbox lists sent, suppressed (with the reason), failed (with the
// server's answer) and pending messages, newest first.
func (d *Dashboard) outbox(w http.ResponseWriter, r *http.Request, v *viewer) error {
	state := model.OutboxState(r.URL.Query().Get("state"))
	states := []model.OutboxState{model.OutboxPending, model.OutboxSent, model.OutboxFailed, model.OutboxSuppressed}
	if state != "" && !slices.Contains(states, state) {
		return badRequest("Unknown state.")
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	msgs, err := d.store.OutboxList(r.Context(), store.OutboxQuery{State: state, BeforeID: before, Limit: outboxPageSize})
	if err != nil {
		return err
	}
	p := outboxPage{State: state, States: states, Messages: msgs}
	if len(msgs) == outboxPageSize {
		p.NextURL = "/outbox?" + urlValues("state", string(state), "before", fmt.Sprint(msgs[len(msgs)-1].ID)).Encode()
	}
	d.render(w, r, http.StatusOK, "outbox.html", v, "outbox", "Outbox", p)
	return nil
}

// quarantineLimit bounds the quarantine list.
const quarantineLimit = 500

// quarantine lists the items that failed too often, with their errors.
func (d *Dashboard) quarantine(w http.ResponseWriter, r *http.Request, v *viewer) error {
	items, err := d.store.Quarantined(r.Context(), quarantineLimit)
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "quarantine.html", v, "quarantine", "Quarantine", items)
	return nil
}

// retry makes one item due again with a fresh attempt count.
func (d *Dashboard) retry(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := d.store.Reprocess(r.Context(), []int64{id})
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	d.log.Info("item queued again", "item", id, "user", v.Name)
	redirectDone(w, r, "/quarantine", "retried", "")
	return nil
}

// retryAll makes every quarantined item due again.
func (d *Dashboard) retryAll(w http.ResponseWriter, r *http.Request, v *viewer) error {
	n, err := d.store.Reprocess(r.Context(), nil)
	if err != nil {
		return err
	}
	d.log.Info("quarantine queued again", "items", n, "user", v.Name)
	redirectDone(w, r, "/quarantine", "retried", "")
	return nil
}

// sourceView is a source with how long ago it last succeeded.
type sourceView struct {
	store.Source
	Lag time.Duration
}

// sources shows each mailbox and Twilio account: cursor, last success
// and lag, last error, disabled reason and lease.
func (d *Dashboard) sources(w http.ResponseWriter, r *http.Request, v *viewer) error {
	srcs, err := d.store.Sources(r.Context())
	if err != nil {
		return err
	}
	var out []sourceView
	for _, s := range srcs {
		sv := sourceView{Source: s}
		if !s.LastSuccessAt.IsZero() {
			sv.Lag = d.now().Sub(s.LastSuccessAt)
		}
		out = append(out, sv)
	}
	d.render(w, r, http.StatusOK, "sources.html", v, "sources", "Sources", out)
	return nil
}
