package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// A manager sets an item's status on its page, several at once from the
// inbox, and replays a dead letter from the outbox page.
func TestStatusActions(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sc := seedScenario(t, e.st)
		c, token := e.signIn(t)
		item := fmt.Sprintf("/items/%d", sc.acme)

		if got := act(t, c, e.srv.URL, item+"/status", token, "status", "planned", "note", "Q3 roadmap"); got != item+"?done=status#status" {
			t.Errorf("status redirects to %q", got)
		}
		if got := act(t, c, e.srv.URL, item+"/status", token, "status", "duplicate"); got != item+"?err=status#status" {
			t.Errorf("a duplicate without its item redirects to %q", got)
		}
		st, err := e.st.ItemStatus(ctx, sc.acme)
		if err != nil || st.Status != model.StatusPlanned || st.Note != "Q3 roadmap" || st.Actor != "maria" || st.Via != model.ViaDashboard {
			t.Fatalf("status = %+v, %v", st, err)
		}
		_, page := get(t, c, e.srv.URL+item)
		if !strings.Contains(page, `new &#8594; planned`) || !strings.Contains(page, "Q3 roadmap") {
			t.Errorf("the item page shows no history")
		}

		// Bulk from the inbox: both items declined, one history row each.
		form := url.Values{"csrf": {token}, "status": {"declined"}, "note": {"not this year"},
			"id": {fmt.Sprint(sc.acme), fmt.Sprint(sc.voicemail)}}
		resp, _ := post(t, c, e.srv.URL+"/items/status", form)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/items?done=status" {
			t.Fatalf("bulk = %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		all, _ := e.st.ItemStatuses(ctx, []int64{sc.acme, sc.voicemail})
		if all[sc.acme].Status != model.StatusDeclined || all[sc.voicemail].Status != model.StatusDeclined {
			t.Errorf("after bulk: %+v", all)
		}
		_, inbox := get(t, c, e.srv.URL+"/items")
		if !strings.Contains(inbox, `status-declined`) || !strings.Contains(inbox, `form="bulk"`) {
			t.Errorf("the inbox shows no status or selection")
		}
		if h, _ := e.st.StatusHistory(ctx, sc.acme); len(h) != 2 || h[1].Previous != model.StatusPlanned {
			t.Errorf("history = %+v", h)
		}

		// A dead letter: a webhook delivery that failed for good.
		e.clock.Add(time.Minute)
		if _, _, err := e.st.SetStatus(ctx, model.StatusChange{ItemID: sc.acme, Status: model.StatusShipped, Actor: "api", Via: model.ViaAPI},
			model.StatusDeclined, storeHook()); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.st.ClaimOutbox(ctx, "w", 10, time.Minute)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("claim = %v %v", msgs, err)
		}
		if _, err := e.st.FailOutbox(ctx, msgs[0].ID, "w", fmt.Errorf("HTTP 500"), false, 1); err != nil {
			t.Fatal(err)
		}
		_, ob := get(t, c, e.srv.URL+"/outbox?state=failed")
		if !strings.Contains(ob, fmt.Sprintf(`action="/outbox/%d/replay"`, msgs[0].ID)) {
			t.Fatalf("the failed delivery has no replay button:\n%s", ob)
		}
		if got := act(t, c, e.srv.URL, fmt.Sprintf("/outbox/%d/replay", msgs[0].ID), token); got != "/outbox?done=replayed" {
			t.Errorf("replay redirects to %q", got)
		}
		again, err := e.st.OutboxByID(ctx, msgs[0].ID)
		if err != nil || again.State != model.OutboxPending || again.Attempts != 0 {
			t.Errorf("replayed = %+v, %v; want pending from attempt 0", again, err)
		}
		if got := act(t, c, e.srv.URL, fmt.Sprintf("/outbox/%d/replay", msgs[0].ID), token); got != "/outbox?err=replay" {
			t.Errorf("a second replay redirects to %q", got)
		}
	})
}

func storeHook() (fx store.StatusEffects) {
	fx.Outbox = []model.OutboxMessage{{Kind: model.OutboxWebhook, Channel: model.ChannelWebhook, Recipient: "jira",
		Subject: config.EventItemStatusChanged, Body: []byte(`{}`)}}
	return fx
}
