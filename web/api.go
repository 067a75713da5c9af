package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/decision"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/store"
)

// The JSON API: items with their tags, owners and status, and setting a
// status. Every request carries "Authorization: Bearer TOKEN" of a token
// made by `earshot tokens create`; read tokens list and read, write
// tokens also set statuses.

// apiHandler is an API endpoint; the token has been checked.
type apiHandler func(w http.ResponseWriter, r *http.Request, tok store.APIToken) (any, error)

// apiError is an error the API answers with its status.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func (d *Dashboard) api(write bool, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fail := func(code int, msg string) {
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]string{"error": msg})
		}
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(secret) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="earshot"`)
			fail(http.StatusUnauthorized, "send Authorization: Bearer TOKEN (earshot tokens create)")
			return
		}
		tok, err := d.store.APITokenBySecret(r.Context(), strings.TrimSpace(secret))
		if errors.Is(err, model.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="earshot", error="invalid_token"`)
			fail(http.StatusUnauthorized, "unknown or revoked token")
			return
		}
		if err != nil {
			d.log.Error("api token", "err", err)
			fail(http.StatusInternalServerError, "internal error")
			return
		}
		if write && tok.Scope != "write" {
			fail(http.StatusForbidden, "this token may only read")
			return
		}
		out, err := h(w, r, tok)
		var ae *apiError
		switch {
		case errors.As(err, &ae):
			fail(ae.code, ae.msg)
		case errors.Is(err, model.ErrNotFound):
			fail(http.StatusNotFound, "no such item")
		case err != nil:
			d.log.Error("api", "path", r.URL.Path, "err", err)
			fail(http.StatusInternalServerError, "internal error")
		default:
			json.NewEncoder(w).Encode(out)
		}
	})
}

// registerAPI adds the API's routes.
func (d *Dashboard) registerAPI(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/items", d.api(false, d.apiItems))
	mux.Handle("GET /api/v1/items/{id}", d.api(false, d.apiItem))
	mux.Handle("POST /api/v1/items/{id}/status", d.api(true, d.apiSetStatus))
}

// itemJSON describes one item.
func (d *Dashboard) itemJSON(ctx context.Context, id int64) (outbound.ItemJSON, error) {
	it, err := d.store.Item(ctx, id)
	if err != nil {
		return outbound.ItemJSON{}, err
	}
	tags, err := d.store.Tags(ctx, id)
	if err != nil {
		return outbound.ItemJSON{}, err
	}
	as, err := d.store.Assignments(ctx, id)
	if err != nil {
		return outbound.ItemJSON{}, err
	}
	var owners []string
	for _, a := range as {
		owners = append(owners, a.Owner)
	}
	st, err := d.store.ItemStatus(ctx, id)
	if err != nil {
		return outbound.ItemJSON{}, err
	}
	var rep *model.Rep
	if it.RepID != 0 {
		if r, err := d.store.RepByID(ctx, it.RepID); err == nil {
			rep = &r
		}
	}
	return outbound.NewItemJSON(it, tags, owners, rep, st, d.publicURL), nil
}

// apiItems lists processed items by id: ?after=ID&status=S&owner=O&limit=N
// (limit 1–100, default 50); next_after continues the list.
func (d *Dashboard) apiItems(w http.ResponseWriter, r *http.Request, _ store.APIToken) (any, error) {
	q := r.URL.Query()
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	status := model.Status(q.Get("status"))
	if status != "" && !status.Valid() {
		return nil, &apiError{http.StatusBadRequest, "unknown status " + strconv.Quote(string(status))}
	}
	ids, err := d.store.ItemIDs(r.Context(), after, status, q.Get("owner"), limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Items     []outbound.ItemJSON `json:"items"`
		NextAfter int64               `json:"next_after,omitempty"`
	}{Items: []outbound.ItemJSON{}}
	for _, id := range ids {
		j, err := d.itemJSON(r.Context(), id)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, j)
	}
	if len(ids) == limit {
		out.NextAfter = ids[len(ids)-1]
	}
	return out, nil
}

func (d *Dashboard) apiItem(w http.ResponseWriter, r *http.Request, _ store.APIToken) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, model.ErrNotFound
	}
	return d.itemJSON(r.Context(), id)
}

// apiSetStatus sets an item's status: {"status": "shipped", "note": "in
// 4.2"} or {"status": "duplicate", "duplicate_of": 12}.
func (d *Dashboard) apiSetStatus(w http.ResponseWriter, r *http.Request, tok store.APIToken) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, model.ErrNotFound
	}
	if d.decide == nil {
		return nil, &apiError{http.StatusServiceUnavailable, "decisions are not available"}
	}
	var body struct {
		Status      string `json:"status"`
		Note        string `json:"note"`
		DuplicateOf int64  `json:"duplicate_of"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, &apiError{http.StatusBadRequest, "want a JSON object with status, note and duplicate_of: " + err.Error()}
	}
	c := model.StatusChange{ItemID: id, Status: model.Status(body.Status), Note: body.Note, DuplicateOf: body.DuplicateOf,
		Actor: "api:" + tok.Name, Via: model.ViaAPI}
	ev, changed, err := d.decide.Set(r.Context(), c)
	if errors.Is(err, decision.ErrBadChange) {
		return nil, &apiError{http.StatusUnprocessableEntity, err.Error()}
	}
	if err != nil {
		return nil, err
	}
	j, err := d.itemJSON(r.Context(), id)
	if err != nil {
		return nil, err
	}
	d.log.Info("status set", "item", id, "status", c.Status, "token", tok.Name, "changed", changed)
	return struct {
		Item    outbound.ItemJSON `json:"item"`
		Changed bool              `json:"changed"`
		EventID int64             `json:"event_id,omitempty"`
	}{j, changed, ev.ID}, nil
}
