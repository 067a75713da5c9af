package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/earshot-dev/earshot/model"
)

// decideScenario gives the scenario's items statuses: Ana's Acme intel
// shipped with a bonus, the billing item planned.
func decideScenario(t *testing.T, e *env, sc scenario) {
	t.Helper()
	ctx := context.Background()
	e.cfg.Decisions.Points = map[string]int{"shipped": 10, "planned": 5}
	// The scenario's reps' items are verified reps' (quality bonuses are
	// paid to them only).
	if _, err := e.st.DB().Exec(`update items set trust = 'rep' where rep_id is not null`); err != nil {
		t.Fatal(err)
	}
	// ci-team has an item waiting past its SLA.
	if err := e.st.Assign(ctx, sc.voicemail, "ci-team", "maria"); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(30 * time.Hour)
	for _, c := range []model.StatusChange{
		{ItemID: sc.acme, Status: model.StatusShipped, Note: "in 4.2", Actor: "ci-team", Via: model.ViaReply},
		{ItemID: sc.billing, Status: model.StatusPlanned, Note: "Q3", Actor: "maria", Via: model.ViaDashboard},
	} {
		if _, _, err := e.dash.decide.Set(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
}

// A rep's link opens the rep's page without a login, shows only the rep's
// items; an expired, forged or revoked link does not open.
func TestRepPage(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sc := seedScenario(t, e.st)
		decideScenario(t, e, sc)
		ana := sc.reps["Ana Lima"]
		now := e.clock.Now()
		link := e.srv.URL + "/me/" + e.dash.signer.RepLink(ana, now, now.Add(24*time.Hour))
		c := e.client(t)
		resp, page := get(t, c, link)
		if resp.StatusCode != 200 || !strings.Contains(page, "Ana Lima") || !strings.Contains(page, "in 4.2") ||
			!strings.Contains(page, "status-shipped") {
			t.Fatalf("rep page = %d\n%s", resp.StatusCode, page)
		}
		if strings.Contains(page, "Customers keep asking") || strings.Contains(page, "Bo Chen</td><td class=\"num\">") && strings.Contains(page, "+15550100") {
			t.Error("the rep page shows another rep's item")
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Error("the rep page may be cached")
		}
		forged := strings.Replace(link, fmt.Sprintf("/me/%d.", ana), fmt.Sprintf("/me/%d.", sc.reps["Bo Chen"]), 1)
		if resp, _ := get(t, c, forged); resp.StatusCode != 404 {
			t.Errorf("a link altered to another rep = %d", resp.StatusCode)
		}
		e.clock.Add(25 * time.Hour)
		if resp, _ := get(t, c, link); resp.StatusCode != 410 {
			t.Errorf("an expired link = %d", resp.StatusCode)
		}
		now = e.clock.Now()
		fresh := e.srv.URL + "/me/" + e.dash.signer.RepLink(ana, now, now.Add(24*time.Hour))
		e.clock.Add(time.Second)
		if err := e.st.RevokeRepLinks(ctx, ana, "maria"); err != nil {
			t.Fatal(err)
		}
		if resp, _ := get(t, c, fresh); resp.StatusCode != 410 {
			t.Errorf("a revoked link = %d", resp.StatusCode)
		}
		e.clock.Add(time.Second)
		now = e.clock.Now()
		if resp, _ := get(t, c, e.srv.URL+"/me/"+e.dash.signer.RepLink(ana, now, now.Add(time.Hour))); resp.StatusCode != 200 {
			t.Errorf("a link issued after the revocation = %d", resp.StatusCode)
		}
	})
}

// The owner's queue, a competitor's page and its CSV.
func TestOwnerAndCompetitorPages(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		decideScenario(t, e, sc)
		c, _ := e.signIn(t)
		_, q := get(t, c, e.srv.URL+"/owners/ci-team")
		if !strings.Contains(q, fmt.Sprintf(`href="/items/%d"`, sc.acme)) || !strings.Contains(q, "status-shipped") {
			t.Errorf("ci-team's queue:\n%s", q)
		}
		_, cp := get(t, c, e.srv.URL+"/competitors/Acme?month=2026-03")
		if !strings.Contains(cp, fmt.Sprintf(`href="/items/%d"`, sc.acme)) || strings.Count(cp, `<progress class="bar"`) != 12 {
			t.Errorf("Acme's page:\n%s", cp)
		}
		resp, csv := get(t, c, e.srv.URL+"/competitors/Acme/csv?month=2026-03")
		if resp.StatusCode != 200 || !strings.HasPrefix(csv, "item,received,kind,rep,subject,status,text") || !strings.Contains(csv, ",shipped,") {
			t.Errorf("Acme's CSV = %d\n%s", resp.StatusCode, csv)
		}
		if resp, _ := get(t, c, e.srv.URL+"/competitors/Acme?month=March"); resp.StatusCode != 400 {
			t.Errorf("a bad month = %d", resp.StatusCode)
		}
	})
}

// Screenshots: the rep's page through its link, the owner's queue, a
// competitor's page.
func TestBrowserDecisionPages(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		decideScenario(t, e, sc)
		ctx := newBrowser(t)
		dialect := strings.TrimPrefix(t.Name(), "TestBrowserDecisionPages/")
		now := e.clock.Now()
		link := e.srv.URL + "/me/" + e.dash.signer.RepLink(sc.reps["Ana Lima"], now, now.Add(24*time.Hour))
		step(t, ctx, "open the rep's link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("contributions")))
		if got := eval[string](t, ctx, `document.querySelector("#contributions .state").textContent`); got != "shipped" {
			t.Errorf("the rep's first item shows %q", got)
		}
		screenshot(t, ctx, "rep-page-"+dialect+".png")

		step(t, ctx, "sign in",
			chromedp.Navigate(e.srv.URL+"/login?next=/owners/ci-team"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), "maria"),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(chromedp.ID("signin")),
			chromedp.WaitVisible(chromedp.ID("queue")))
		if first := eval[string](t, ctx, `document.querySelector("#queue tbody tr").className`); first != "overdue" {
			t.Errorf("the queue's first row is %q; want the untriaged item over its SLA", first)
		}
		screenshot(t, ctx, "owner-queue-"+dialect+".png")

		step(t, ctx, "open Acme", chromedp.Navigate(e.srv.URL+"/competitors/Acme?month=2026-03"), chromedp.WaitVisible(chromedp.ID("trend")))
		if n := eval[int](t, ctx, `document.querySelectorAll("#trend .bar").length`); n != 12 {
			t.Errorf("the trend has %d bars", n)
		}
		screenshot(t, ctx, "competitor-"+dialect+".png")
	})
}
