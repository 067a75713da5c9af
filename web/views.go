package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/internal/sign"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// Pages for owners and reps: an owner's queue, a product's or a
// competitor's month with its trend and topics, and a rep's own page
// opened by the signed link in every ack.

// mePage is what me.html shows a rep.
type mePage struct {
	Rep      model.Rep
	Month    model.Month
	Standing *model.Standing
	Ranked   int
	Board    []model.Standing
	Items    []store.RepItem
	AllTime  int
	Expires  time.Time
}

// me is a rep's own page, read-only, opened by a signed link: the rep's
// contributions and their status, points, and the month's standing. It
// shows nothing of other reps' items.
func (d *Dashboard) me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	fail := func(code int, msg string) {
		d.render(w, r, code, "error.html", nil, "", "Your page", msg)
	}
	if d.signer == nil {
		fail(http.StatusNotFound, "Reps' pages are not available.")
		return
	}
	repID, issued, err := d.signer.CheckRepLink(r.PathValue("token"), d.now())
	if errors.Is(err, sign.ErrExpiredLink) {
		fail(http.StatusGone, "This link has expired. The next acknowledgment you receive carries a fresh one.")
		return
	}
	if err != nil {
		fail(http.StatusNotFound, "This link is not valid.")
		return
	}
	ctx := r.Context()
	if before, err := d.store.RepLinksRevokedBefore(ctx, repID); err != nil {
		d.log.Error("rep page", "err", err)
		fail(http.StatusInternalServerError, "Something went wrong.")
		return
	} else if !before.IsZero() && !issued.After(before) {
		fail(http.StatusGone, "This link was revoked. The next acknowledgment you receive carries a fresh one.")
		return
	}
	rep, err := d.store.RepByID(ctx, repID)
	if err != nil {
		fail(http.StatusNotFound, "This link is not valid.")
		return
	}
	p := mePage{Rep: rep, Month: d.thisMonth()}
	err = func() error {
		if p.Items, err = d.store.RepItems(ctx, repID, 200); err != nil {
			return err
		}
		board, err := d.store.Leaderboard(ctx, model.BoardQuery{Month: p.Month})
		if err != nil {
			return err
		}
		p.Ranked = len(board)
		for i := range board {
			if board[i].RepID == repID {
				p.Standing = &board[i]
			}
		}
		// The board's top five, names and points only.
		for _, b := range board[:min(5, len(board))] {
			p.Board = append(p.Board, model.Standing{Rank: b.Rank, Name: b.Name, Points: b.Points})
		}
		months, err := d.store.RepMonths(ctx, repID)
		for _, m := range months {
			p.AllTime += m.Points
		}
		return err
	}()
	if err != nil {
		d.log.Error("rep page", "rep", repID, "err", err)
		fail(http.StatusInternalServerError, "Something went wrong.")
		return
	}
	d.render(w, r, http.StatusOK, "me.html", nil, "", rep.Name, p)
}

// revokeLinks stops every link to a rep's page issued so far.
func (d *Dashboard) revokeLinks(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := d.store.RevokeRepLinks(r.Context(), id, v.Name); err != nil {
		return err
	}
	d.log.Info("rep links revoked", "rep", id, "user", v.Name)
	redirectDone(w, r, "/reps/"+strconv.FormatInt(id, 10), "revoked", "")
	return nil
}

// ownerPage is what owner.html shows.
type ownerPage struct {
	Owner string
	SLA   time.Duration
	Items []queueRow
	Open  int
}

type queueRow struct {
	store.QueueItem
	Age     time.Duration
	Overdue bool
}

// ownerQueue is an owner's queue: untriaged first, with their age
// against the owner's SLA.
func (d *Dashboard) ownerQueue(w http.ResponseWriter, r *http.Request, v *viewer) error {
	name := r.PathValue("name")
	p := ownerPage{Owner: name, SLA: 24 * time.Hour}
	for _, o := range d.ownerCfg {
		if o.Name == name && o.SLA > 0 {
			p.SLA = o.SLA
		}
	}
	items, err := d.store.OwnerQueue(r.Context(), name, 500)
	if err != nil {
		return err
	}
	now := d.now()
	for _, it := range items {
		row := queueRow{QueueItem: it, Age: now.Sub(it.AssignedAt)}
		if it.Status == string(model.StatusNew) {
			p.Open++
			row.Overdue = row.Age > p.SLA
		}
		p.Items = append(p.Items, row)
	}
	d.render(w, r, http.StatusOK, "owner.html", v, "inbox", name+"'s queue", p)
	return nil
}

// tagPage is what tag.html shows of a product or a competitor.
type tagPage struct {
	Kind, Value string
	Month       model.Month
	Items       []store.TagItem
	Trend       []trendBar
	Topics      []store.TopicCount
	CSVURL      string
	PrevURL     string
	NextURL     string
}

type trendBar struct {
	Month   model.Month
	N       int
	Percent int
}

// tagView is the month of a product or competitor: its items, the trend
// over twelve months and the top topics.
func (d *Dashboard) tagView(kind string) handler {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) error {
		p, err := d.tagData(r, kind)
		if err != nil {
			return err
		}
		d.render(w, r, http.StatusOK, "tag.html", v, "inbox", p.Value, p)
		return nil
	}
}

func (d *Dashboard) tagData(r *http.Request, kind string) (tagPage, error) {
	value := strings.TrimSpace(r.PathValue("name"))
	month := d.thisMonth()
	if m := r.URL.Query().Get("month"); m != "" {
		month = model.Month(m)
		if !month.Valid() {
			return tagPage{}, badRequest("The month must be YYYY-MM.")
		}
	}
	from, to := month.Start(d.loc), month.Add(1).Start(d.loc)
	p := tagPage{Kind: kind, Value: value, Month: month}
	base := "/" + kind + "s/" + url.PathEscape(value)
	p.CSVURL = base + "/csv?month=" + string(month)
	p.PrevURL = base + "?month=" + string(month.Prev())
	if month != d.thisMonth() {
		p.NextURL = base + "?month=" + string(month.Add(1))
	}
	ctx := r.Context()
	var err error
	if p.Items, err = d.store.TagItems(ctx, kind, value, from, to, 1000); err != nil {
		return p, err
	}
	if p.Topics, err = d.store.TopTopics(ctx, kind, value, from, to, 10); err != nil {
		return p, err
	}
	first := month
	for range 11 {
		first = first.Prev()
	}
	times, err := d.store.TagTimes(ctx, kind, value, first.Start(d.loc))
	if err != nil {
		return p, err
	}
	counts := map[model.Month]int{}
	for _, t := range times {
		counts[d.monthOf(t)]++
	}
	most := 1
	for m := first; ; m = m.Add(1) {
		p.Trend = append(p.Trend, trendBar{Month: m, N: counts[m]})
		most = max(most, counts[m])
		if m == month {
			break
		}
	}
	for i := range p.Trend {
		p.Trend[i].Percent = p.Trend[i].N * 100 / most
	}
	return p, nil
}

// tagCSV downloads the month's items of a product or competitor.
func (d *Dashboard) tagCSV(kind string) handler {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) error {
		p, err := d.tagData(r, kind)
		if err != nil {
			return err
		}
		cw, err := csvDownload(w, kind+"-"+csvFileName(p.Value)+"-"+string(p.Month)+".csv",
			[]string{"item", "received", "kind", "rep", "subject", "status", "text"})
		if err != nil {
			return nil
		}
		for _, it := range p.Items {
			cw.Write([]string{strconv.FormatInt(it.ID, 10), it.ReceivedAt.In(d.loc).Format(time.RFC3339), it.Kind,
				csvText(it.RepName), csvText(it.Subject), it.Status, csvText(clip(it.Text, 2000))})
		}
		cw.Flush()
		return nil
	}
}

// csvFileName keeps letters, digits and dashes of a name.
func csvFileName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
