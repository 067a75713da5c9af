package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/points"
)

// pageFiles are the page templates; each defines "content", which
// layout.html renders.
func pageFiles() []string {
	return []string{"login.html", "leaderboard.html", "rep.html", "inbox.html", "item.html",
		"outbox.html", "quarantine.html", "sources.html", "error.html",
		"me.html", "owner.html", "tag.html"}
}

// layoutData is what the layout renders around every page's content.
type layoutData struct {
	Title  string
	Nav    string
	Viewer *viewer
	Flash  flash
	// P is the page's own data.
	P any
}

// flash is the message shown after an action.
type flash struct {
	Text  string
	Error bool
}

// parseTemplates parses every page with the layout and the shared parts.
func (d *Dashboard) parseTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageFiles() {
		t, err := template.New(name).Funcs(d.funcs()).ParseFS(templateFS,
			"templates/layout.html", "templates/parts.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// funcs are the template functions.
func (d *Dashboard) funcs() template.FuncMap {
	return template.FuncMap{
		"when":      d.when,
		"ago":       func(t time.Time) string { return ago(d.now().Sub(t)) },
		"duration":  ago,
		"isAdjust":  func(reason string) bool { return strings.HasPrefix(reason, model.ReasonAdjust) },
		"monthName": model.Month.Name,
		"label":     points.Label,
		"signed":    signed,
		"size":      size,
		"percent":   func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"trust":     trustLabel,
	}
}

// trustLabel says who an item is from, as far as Earshot trusts it.
func trustLabel(t model.Trust) string {
	switch t {
	case model.TrustRep:
		return "verified rep"
	case model.TrustCredited:
		return "credited by a manager"
	case model.TrustColleague:
		return "colleague, not on the roster"
	case model.TrustOpen:
		return "open mailbox, not on the roster"
	case model.TrustUnverified:
		return "sender not verified"
	case model.TrustStranger:
		return "unregistered"
	case model.TrustSpam:
		return "spam"
	}
	return ""
}

// render writes a page: the named template inside the layout.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, code int, name string, v *viewer, nav, title string, data any) {
	t, ok := d.pages[name]
	if !ok {
		d.log.Error("render: no such template", "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	p := layoutData{Title: title, Nav: nav, Viewer: v, Flash: flashFrom(r), P: data}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		d.log.Error("render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// flashFrom reads the outcome an action redirected with. Only known keys
// show, so a crafted link cannot put words on the page.
func flashFrom(r *http.Request) flash {
	if k := r.URL.Query().Get("done"); k != "" {
		if t := doneText(k); t != "" {
			return flash{Text: t}
		}
	}
	if k := r.URL.Query().Get("err"); k != "" {
		if t := errText(k); t != "" {
			return flash{Text: t, Error: true}
		}
	}
	return flash{}
}

func doneText(key string) string {
	switch key {
	case "status":
		return "Status recorded."
	case "revoked":
		return "Every link to this rep's page sent so far stops opening; the next ack carries a new one."
	case "replayed":
		return "The message will be sent again."
	case "tagged":
		return "Tag added."
	case "untagged":
		return "Tag removed."
	case "assigned":
		return "Owner added."
	case "unassigned":
		return "Owner removed."
	case "triaged":
		return "Marked triaged."
	case "adjusted":
		return "Points adjusted."
	case "transcript":
		return "Transcript saved: the item will be processed again."
	case "retried":
		return "Queued for processing again."
	case "credited":
		return "Credited: the item will be processed again for the rep."
	case "dismissed":
		return "Dismissed."
	case "rostered":
		return "Sender added to the rep: the item will be processed again."
	}
	return ""
}

func errText(key string) string {
	switch key {
	case "status":
		return "Choose a status; a duplicate needs the number of another processed item."
	case "bulk":
		return "Select items and a status; a duplicate needs the number of another item."
	case "replay":
		return "Only a failed message can be sent again."
	case "reason":
		return "An adjustment needs a reason."
	case "points":
		return "Points must be a whole number other than zero."
	case "month":
		return "The month must be YYYY-MM."
	case "duplicate":
		return "This item already has an adjustment with that reason."
	case "unregistered":
		return "The sender is not a registered rep: there is nobody to adjust."
	case "tag":
		return "Choose a tag kind and a value."
	case "owner":
		return "Name an owner."
	case "transcript":
		return "The transcript is empty."
	case "untriaged":
		return "Nothing to mark: every owner has triaged the item."
	case "rep":
		return "Choose a rep."
	case "contact":
		return "That address or number already belongs to another rep."
	}
	return ""
}

// when formats a time in the configured zone; a zero time is a dash.
func (d *Dashboard) when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(d.loc).Format("2006-01-02 15:04")
}

// signed formats a change: +5, −3 or 0.
func signed(n int) string {
	switch {
	case n > 0:
		return fmt.Sprintf("+%d", n)
	case n < 0:
		return fmt.Sprintf("−%d", -n)
	}
	return "0"
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// ago formats a duration roughly: 45s, 12m, 3h 5m, 2d 4h.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}
