package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/routing"
	"github.com/earshot-dev/earshot/store"
)

// inboxPageSize is how many items a page of the inbox shows.
const inboxPageSize = 50

// inboxCSVLimit bounds one CSV export of the inbox.
const inboxCSVLimit = 100000

// inboxPage is what inbox.html shows.
type inboxPage struct {
	Filter  inboxFilter
	Items   []store.InboxItem
	NextURL string
	CSVURL  string
	// Options lists the choices of each filter.
	Options map[string][]string
	States  []model.ItemState
	Trusts  []model.Trust
	// Status is each listed item's decision; Statuses the choices.
	Status   map[int64]model.ItemStatus
	Statuses []model.Status
}

// inboxFilter is the inbox's query string.
type inboxFilter struct {
	Category, Competitor, Product, Topic, Owner, State string
	Unregistered                                       bool
	// Listen keeps the listen queue: transcripts that may be wrong.
	Listen bool
	Trust  string
	Text   string
}

// values encodes the filter as a query.
func (f inboxFilter) values() url.Values {
	u, l := "", ""
	if f.Unregistered {
		u = "1"
	}
	if f.Listen {
		l = "1"
	}
	return urlValues("category", f.Category, "competitor", f.Competitor, "product", f.Product, "topic", f.Topic,
		"owner", f.Owner, "state", f.State, "unregistered", u, "listen", l, "trust", f.Trust, "q", f.Text)
}

// Active reports whether any filter is set.
func (f inboxFilter) Active() bool { return len(f.values()) > 0 }

// parseInbox reads the filters and the page cursor.
func parseInbox(r *http.Request) (inboxFilter, store.InboxQuery, error) {
	g := func(k string) string { return clip(strings.TrimSpace(r.URL.Query().Get(k)), 200) }
	f := inboxFilter{Category: g("category"), Competitor: g("competitor"), Product: g("product"), Topic: g("topic"),
		Owner: g("owner"), State: g("state"), Unregistered: g("unregistered") == "1", Listen: g("listen") == "1", Text: g("q"),
		Trust: g("trust")}
	if f.Trust != "" && trustLabel(model.Trust(f.Trust)) == "" {
		return f, store.InboxQuery{}, badRequest("Unknown sender.")
	}
	switch model.ItemState(f.State) {
	case "", model.StateReceived, model.StateProcessed, model.StateQuarantined:
	default:
		return f, store.InboxQuery{}, badRequest("Unknown state.")
	}
	q := store.InboxQuery{Category: f.Category, Competitor: f.Competitor, Product: f.Product, Topic: f.Topic,
		Owner: f.Owner, State: model.ItemState(f.State), Unregistered: f.Unregistered, Listen: f.Listen, Text: f.Text,
		Trust: model.Trust(f.Trust)}
	if after := r.URL.Query().Get("after"); after != "" {
		c, err := parseCursor(after)
		if err != nil {
			return f, q, badRequest("Bad page link.")
		}
		q.After = &c
	}
	return f, q, nil
}

// cursorString encodes a page cursor: received time (RFC 3339, UTC) and id.
func cursorString(c store.InboxCursor) string {
	return c.ReceivedAt.UTC().Format(time.RFC3339Nano) + "_" + strconv.FormatInt(c.ID, 10)
}

func parseCursor(s string) (store.InboxCursor, error) {
	at, id, ok := strings.Cut(s, "_")
	if !ok {
		return store.InboxCursor{}, fmt.Errorf("cursor %q: no id", s)
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return store.InboxCursor{}, fmt.Errorf("cursor %q: %w", s, err)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return store.InboxCursor{}, fmt.Errorf("cursor %q: %w", s, err)
	}
	return store.InboxCursor{ReceivedAt: t, ID: n}, nil
}

// inbox lists items with filters, search and pages.
func (d *Dashboard) inbox(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f, q, err := parseInbox(r)
	if err != nil {
		return err
	}
	q.Limit = inboxPageSize
	items, next, err := d.store.Inbox(r.Context(), q)
	if err != nil {
		return err
	}
	opts, err := d.filterOptions(r)
	if err != nil {
		return err
	}
	p := inboxPage{Filter: f, Items: items, Options: opts, CSVURL: "/items.csv?" + f.values().Encode(),
		States: []model.ItemState{model.StateReceived, model.StateProcessed, model.StateQuarantined},
		Trusts: []model.Trust{model.TrustRep, model.TrustCredited, model.TrustColleague, model.TrustOpen,
			model.TrustUnverified, model.TrustStranger, model.TrustSpam}}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	if p.Status, err = d.store.ItemStatuses(r.Context(), ids); err != nil {
		return err
	}
	p.Statuses = model.Statuses()[1:]
	if next != nil {
		nv := f.values()
		nv.Set("after", cursorString(*next))
		p.NextURL = "/items?" + nv.Encode()
	}
	nav, title := "inbox", "Inbox"
	if f.Listen {
		// The listen queue: voicemail whose transcript may be wrong.
		nav, title = "listen", "Listen"
	}
	d.render(w, r, http.StatusOK, "inbox.html", v, nav, title, p)
	return nil
}

// filterOptions are the values in use merged with the configured ones.
func (d *Dashboard) filterOptions(r *http.Request) (map[string][]string, error) {
	used, err := d.store.TagValues(r.Context())
	if err != nil {
		return nil, err
	}
	owners, err := d.store.AssignedOwners(r.Context())
	if err != nil {
		return nil, err
	}
	out := map[string][]string{"owner": merged(d.owners, owners)}
	for _, k := range tagKinds() {
		out[k] = merged(d.vocabulary[k], used[k])
	}
	return out, nil
}

// inboxCSV downloads every item that matches the filters.
func (d *Dashboard) inboxCSV(w http.ResponseWriter, r *http.Request, v *viewer) error {
	_, q, err := parseInbox(r)
	if err != nil {
		return err
	}
	q.Limit = 500
	items, next, err := d.store.Inbox(r.Context(), q)
	if err != nil {
		return err
	}
	cw, err := csvDownload(w, "items-"+d.now().In(d.loc).Format("2006-01-02")+".csv", []string{"id", "received",
		"kind", "state", "sender", "rep", "subject", "categories", "competitors", "products", "topics", "owners",
		"points"})
	if err != nil {
		return nil
	}
	written := 0
	for {
		for _, it := range items {
			cw.Write([]string{strconv.FormatInt(it.ID, 10), it.ReceivedAt.In(d.loc).Format(time.RFC3339), string(it.Kind),
				string(it.State), csvText(it.Sender), csvText(it.RepName), csvText(it.Subject),
				csvText(tagList(it.Tags, routing.KindCategory)), csvText(tagList(it.Tags, routing.KindCompetitor)),
				csvText(tagList(it.Tags, routing.KindProduct)), csvText(tagList(it.Tags, routing.KindTopic)),
				csvText(strings.Join(it.Owners, "; ")), strconv.Itoa(it.Points)})
		}
		written += len(items)
		if next == nil || written >= inboxCSVLimit {
			break
		}
		q.After = next
		if items, next, err = d.store.Inbox(r.Context(), q); err != nil {
			// The header is sent: end the file; the log keeps the cause.
			d.log.Error("inbox csv", "err", err)
			break
		}
	}
	cw.Flush()
	return nil
}

// tagList joins the values of one kind of tag.
func tagList(tags []model.Tag, kind string) string {
	var vals []string
	for _, t := range tags {
		if string(t.Kind) == kind {
			vals = append(vals, t.Value)
		}
	}
	return strings.Join(vals, "; ")
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
