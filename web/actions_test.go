package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// act posts an action with the session's token and returns where it
// redirected to.
func act(t *testing.T, c *http.Client, base, path, token string, kv ...string) string {
	t.Helper()
	form := url.Values{"csrf": {token}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	resp, body := post(t, c, base+path, form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %s %v = %d %s", path, kv, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

func TestItemActions(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sc := seedScenario(t, e.st)
		c, token := e.signIn(t)
		item := fmt.Sprintf("/items/%d", sc.acme)
		tagged := func(kind, value string) string {
			tags, err := e.st.Tags(ctx, sc.acme)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range tags {
				if string(tg.Kind) == kind && tg.Value == value {
					return tg.Origin
				}
			}
			return ""
		}

		// Retag: the item moves from one competitor filter to another.
		if got := act(t, c, e.srv.URL, item+"/tags", token, "op", "add", "kind", "competitor", "value", "Globex"); got != item+"?done=tagged#tags" {
			t.Errorf("retag redirects to %q", got)
		}
		if o := tagged("competitor", "Globex"); o != "manager:maria" {
			t.Errorf("Globex tag origin %q, want manager:maria", o)
		}
		act(t, c, e.srv.URL, item+"/tags", token, "op", "remove", "kind", "competitor", "value", "Acme")
		if tagged("competitor", "Acme") != "" {
			t.Error("the Acme tag is still there")
		}
		_, acme := get(t, c, e.srv.URL+"/items?competitor=Acme")
		_, globex := get(t, c, e.srv.URL+"/items?competitor=Globex")
		if id := fmt.Sprint(sc.acme); slices.Contains(inboxIDs(acme), id) || !slices.Contains(inboxIDs(globex), id) {
			t.Errorf("after the retag: Acme lists %v, Globex lists %v", inboxIDs(acme), inboxIDs(globex))
		}
		if got := act(t, c, e.srv.URL, item+"/tags", token, "op", "add", "kind", "colour", "value", "red"); got != item+"?err=tag#tags" {
			t.Errorf("an unknown tag kind redirects to %q", got)
		}
		_, page := get(t, c, e.srv.URL+item+"?done=tagged")
		if !strings.Contains(page, `<p class="flash" role="status">Tag added.</p>`) {
			t.Error("no confirmation after the retag")
		}

		// Reassign and triage.
		act(t, c, e.srv.URL, item+"/owners", token, "op", "add", "owner", "pricing-pm")
		act(t, c, e.srv.URL, item+"/owners", token, "op", "remove", "owner", "ci-team")
		if got := act(t, c, e.srv.URL, item+"/owners", token, "op", "add", "owner", "  "); got != item+"?err=owner#routing" {
			t.Errorf("an empty owner redirects to %q", got)
		}
		act(t, c, e.srv.URL, item+"/triage", token)
		as, err := e.st.ItemAssignments(ctx, sc.acme)
		if err != nil || len(as) != 1 || as[0].Owner != "pricing-pm" || as[0].Route != "manager:maria" || as[0].TriagedBy != "maria" {
			t.Errorf("assignments = %+v, %v", as, err)
		}
		if got := act(t, c, e.srv.URL, item+"/triage", token); got != item+"?err=untriaged#routing" {
			t.Errorf("triaging twice redirects to %q", got)
		}

		// Adjust the item's points.
		adjust := []struct {
			name, item, points, reason, location string
		}{
			{"with a reason", item, "5", "great detail", item + "?done=adjusted#points"},
			{"the same again", item, "5", "great detail", item + "?err=duplicate#points"},
			{"without a reason", item, "5", " ", item + "?err=reason#points"},
			{"not a number", item, "lots", "x", item + "?err=points#points"},
			{"zero", item, "0", "x", item + "?err=points#points"},
			{"an unregistered sender", fmt.Sprintf("/items/%d", sc.billing), "2", "x", fmt.Sprintf("/items/%d?err=unregistered#points", sc.billing)},
		}
		for _, tc := range adjust {
			if got := act(t, c, e.srv.URL, tc.item+"/points", token, "points", tc.points, "reason", tc.reason); got != tc.location {
				t.Errorf("%s: redirects to %q, want %q", tc.name, got, tc.location)
			}
		}
		paid, err := e.st.ItemLedger(ctx, sc.acme)
		if err != nil || len(paid) != 3 || paid[2].Reason != "adjust:great detail" || paid[2].Actor != "maria" || paid[2].Month != "2026-03" {
			t.Errorf("ledger = %+v, %v", paid, err)
		}
		rows, err := e.st.Leaderboard(ctx, model.BoardQuery{Month: "2026-03", Limit: 1})
		if err != nil || rows[0].Name != "Ana Lima" || rows[0].Points != 15 {
			t.Errorf("leader = %+v, %v; want Ana Lima with 15", rows, err)
		}

		// A manager's transcript queues the item for processing again.
		pbx := fmt.Sprintf("/items/%d", sc.pbxMail)
		if got := act(t, c, e.srv.URL, pbx+"/transcript", token, "transcript", ""); got != pbx+"?err=transcript#transcript" {
			t.Errorf("an empty transcript redirects to %q", got)
		}
		act(t, c, e.srv.URL, pbx+"/transcript", token, "transcript", "Customer wants a callback about Acme.")
		tr, ok, err := e.st.ItemTranscript(ctx, sc.pbxMail)
		it, _ := e.st.Item(ctx, sc.pbxMail)
		if err != nil || !ok || tr.Text != "Customer wants a callback about Acme." || tr.Engine != "manager:maria" || it.State != model.StateReceived {
			t.Errorf("transcript = %+v %v %v, state %s", tr, ok, err, it.State)
		}

		if resp, _ := post(t, c, e.srv.URL+"/items/99999/tags", url.Values{"csrf": {token}, "kind": {"topic"}, "value": {"x"}}); resp.StatusCode != 404 {
			t.Errorf("an action on no item = %d, want 404", resp.StatusCode)
		}
	})
}

func TestRepAdjustment(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		c, token := e.signIn(t)
		rep := fmt.Sprintf("/reps/%d", sc.reps["Di Evans"])
		cases := []struct {
			name, points, month, reason, location string
		}{
			{"a deduction", "-2", "2026-03", "counted twice", rep + "?done=adjusted#history"},
			{"a bad month", "1", "March", "x", rep + "?err=month#adjust"},
			{"no reason", "1", "2026-03", "", rep + "?err=reason#adjust"},
		}
		for _, tc := range cases {
			if got := act(t, c, e.srv.URL, rep+"/points", token, "points", tc.points, "month", tc.month, "reason", tc.reason); got != tc.location {
				t.Errorf("%s: redirects to %q, want %q", tc.name, got, tc.location)
			}
		}
		_, page := get(t, c, e.srv.URL+rep)
		if !strings.Contains(page, "Adjustment: counted twice") || !strings.Contains(page, "<td class=\"num\">−2</td>") {
			t.Error("the rep's history lacks the deduction")
		}
		rows, _ := e.st.Leaderboard(context.Background(), model.BoardQuery{Month: "2026-03", Team: "East"})
		if len(rows) != 2 || rows[1].Name != "Di Evans" || rows[1].Points != 1 {
			t.Errorf("East = %+v; want Di Evans with 1", rows)
		}
	})
}

func TestQuarantineRetry(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		var ids []int64
		for i := range 2 {
			if err := e.st.EnsureSource(ctx, "test", "imap"); err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("q:%d", i)
			if _, err := e.st.Receive(ctx, model.Batch{Source: "test", Items: []model.RawItem{{SourceKey: key, Kind: "email",
				ContentHash: key, Raw: []byte("Subject: broken\r\n\r\nx")}}}); err != nil {
				t.Fatal(err)
			}
			got, err := e.st.Claim(ctx, "w", 1, time.Minute)
			if err != nil || len(got) != 1 {
				t.Fatal(got, err)
			}
			if q, err := e.st.Fail(ctx, got[0].ID, "w", errors.New("parse: unexpected EOF"), 1); err != nil || !q {
				t.Fatal(q, err)
			}
			ids = append(ids, got[0].ID)
		}
		c, token := e.signIn(t)
		_, page := get(t, c, e.srv.URL+"/quarantine")
		if !strings.Contains(page, "parse: unexpected EOF") || strings.Count(page, ">Retry</button>") != 2 {
			t.Error("the quarantine page lacks the items, errors or retry buttons")
		}
		if got := act(t, c, e.srv.URL, fmt.Sprintf("/quarantine/%d/retry", ids[0]), token); got != "/quarantine?done=retried" {
			t.Errorf("retry redirects to %q", got)
		}
		if it, _ := e.st.Item(ctx, ids[0]); it.State != model.StateReceived || it.Attempts != 0 {
			t.Errorf("retried item: %s after %d attempts", it.State, it.Attempts)
		}
		if it, _ := e.st.Item(ctx, ids[1]); it.State != model.StateQuarantined {
			t.Errorf("the other item is %s", it.State)
		}
		act(t, c, e.srv.URL, "/quarantine/retry", token)
		if it, _ := e.st.Item(ctx, ids[1]); it.State != model.StateReceived {
			t.Errorf("after retry all: %s", it.State)
		}
	})
}

// A manager reviews an unregistered sender's item: it waits in the review
// queue, shows who sent it and why it earns nothing; crediting it to a rep
// queues it for processing again and takes it out of the queue; adding the
// sender's address to a rep does the same for the sender's next items;
// dismissing takes an item out of the queue.
func TestReviewActions(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sc := seedScenario(t, e.st)
		c, token := e.signIn(t)
		item := fmt.Sprintf("/items/%d", sc.billing)
		queue := func() []int64 {
			items, _, err := e.st.Inbox(ctx, store.InboxQuery{Unregistered: true})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, it := range items {
				ids = append(ids, it.ID)
			}
			return ids
		}
		if q := queue(); !slices.Equal(q, []int64{sc.billing}) {
			t.Fatalf("review queue %v, want the unregistered sender's item %d", q, sc.billing)
		}
		_, page := get(t, c, e.srv.URL+item)
		for _, want := range []string{`id="sender"`, "unregistered", "not on the rep roster", "Credit to", "Add someone@customer.test to"} {
			if !strings.Contains(page, want) {
				t.Errorf("item page lacks %q", want)
			}
		}
		_, inbox := get(t, c, e.srv.URL+"/items?unregistered=1")
		if !strings.Contains(inbox, "Billing page is confusing") || strings.Contains(inbox, "Onboarding feedback") {
			t.Error("the inbox's review filter does not show exactly the waiting item")
		}

		if got := act(t, c, e.srv.URL, item+"/review", token, "op", "credit", "rep", "0"); got != item+"?err=rep#sender" {
			t.Errorf("a credit without a rep redirects to %q", got)
		}
		ana := sc.reps["Ana Lima"]
		if got := act(t, c, e.srv.URL, item+"/review", token, "op", "credit", "rep", fmt.Sprint(ana), "ack", "1"); got != item+"?done=credited#sender" {
			t.Errorf("credit redirects to %q", got)
		}
		r, ok, err := e.st.ItemReview(ctx, sc.billing)
		if err != nil || !ok || r.Verdict != model.ReviewCredit || r.RepID != ana || !r.SendAck || r.Actor != "maria" {
			t.Fatalf("review %+v %v %v", r, ok, err)
		}
		if it, _ := e.st.Item(ctx, sc.billing); it.State != model.StateReceived {
			t.Errorf("credited item is %s, want received again", it.State)
		}
		if q := queue(); len(q) != 0 {
			t.Errorf("review queue after the credit: %v", q)
		}

		if got := act(t, c, e.srv.URL, item+"/roster", token, "rep", fmt.Sprint(sc.reps["Bo Chen"])); got != item+"?done=rostered#sender" {
			t.Errorf("roster redirects to %q", got)
		}
		if rep, err := e.st.RepByContact(ctx, "email", "someone@customer.test"); err != nil || rep.ID != sc.reps["Bo Chen"] {
			t.Errorf("the sender's address belongs to %+v, %v; want Bo Chen", rep, err)
		}
		// An address that is another rep's cannot be added again.
		if got := act(t, c, e.srv.URL, item+"/roster", token, "rep", fmt.Sprint(ana)); got != item+"?err=contact#sender" {
			t.Errorf("adding another rep's address redirects to %q", got)
		}

		if got := act(t, c, e.srv.URL, item+"/review", token, "op", "dismiss"); got != item+"?done=dismissed#sender" {
			t.Errorf("dismiss redirects to %q", got)
		}
		if r, _, _ := e.st.ItemReview(ctx, sc.billing); r.Verdict != model.ReviewDismiss {
			t.Errorf("review after dismissing: %+v", r)
		}
	})
}
