package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// A status change is recorded with who and when, pays its quality bonus
// once, holds the rep's note to the daily cap shared with acks, and a
// reply mail changes a status once.
func TestSetStatus(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		reps := dashReps(t, s, "dana/East")
		at := clk.Now()
		item := dashItem(t, s, "email", "a", at, model.Processed{RepID: reps["dana"], Trust: model.TrustRep, Subject: "Export",
			Assignments: []model.Assignment{{Owner: "billing-pm"}},
			Outbox:      []model.OutboxMessage{{Kind: model.OutboxAck, Channel: model.ChannelEmail, Recipient: "dana@example.test"}}})
		other := dashItem(t, s, "email", "b", at, model.Processed{RepID: reps["dana"], Trust: model.TrustRep, Subject: "Export too"})

		st, err := s.ItemStatus(ctx, item)
		if err != nil || st.Status != model.StatusNew {
			t.Fatalf("status of a fresh item = %+v, %v; want new", st, err)
		}
		// Triage of an assignment reads as triaged.
		if _, err := s.MarkTriaged(ctx, item, "billing-pm", "pat"); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.ItemStatus(ctx, item); st.Status != model.StatusTriaged || st.Actor != "pat" {
			t.Fatalf("after triage: %+v; want triaged by pat", st)
		}
		// A change planned against a stale status is refused.
		if _, _, err := s.SetStatus(ctx, model.StatusChange{ItemID: item, Status: model.StatusPlanned, Actor: "pat", Via: model.ViaDashboard},
			model.StatusNew, store.StatusEffects{}); !errors.Is(err, store.ErrStatusChanged) {
			t.Fatalf("stale change: %v; want ErrStatusChanged", err)
		}
		cap := &model.AckCap{Recipient: "dana@example.test", Since: at.Add(-time.Hour), Max: 2}
		note := func() model.OutboxMessage {
			return model.OutboxMessage{Kind: model.OutboxStatusNote, Channel: model.ChannelEmail, Recipient: "dana@example.test", Body: []byte("x")}
		}
		clk.Add(time.Minute)
		ev, ok, err := s.SetStatus(ctx, model.StatusChange{ItemID: item, Status: model.StatusShipped, Note: "in 4.2", Actor: "billing-pm",
			Via: model.ViaReply, SourceItemID: other}, model.StatusTriaged, store.StatusEffects{
			Ledger:  []model.LedgerEntry{{RepID: reps["dana"], Points: 10, Reason: "quality:shipped", Month: "2026-03"}},
			Outbox:  []model.OutboxMessage{note(), {Kind: model.OutboxWebhook, Channel: model.ChannelWebhook, Recipient: "jira", Body: []byte("{}")}},
			NoteCap: cap})
		if err != nil || !ok || ev.Previous != model.StatusTriaged || ev.Note != "in 4.2" {
			t.Fatalf("shipped: %+v %v %v", ev, ok, err)
		}
		// The same reply processed again changes nothing.
		if _, ok, err := s.SetStatus(ctx, model.StatusChange{ItemID: item, Status: model.StatusShipped, Actor: "billing-pm",
			Via: model.ViaReply, SourceItemID: other}, model.StatusShipped, store.StatusEffects{}); err != nil || ok {
			t.Fatalf("the same reply again: applied %v, %v; want nothing", ok, err)
		}
		if done, _ := s.StatusFromSource(ctx, other); !done {
			t.Fatal("StatusFromSource does not know the reply")
		}
		// The bonus is paid once however often the status is set again.
		clk.Add(time.Minute)
		if _, _, err := s.SetStatus(ctx, model.StatusChange{ItemID: item, Status: model.StatusShipped, Note: "in 4.2.1", Actor: "pat", Via: model.ViaDashboard},
			model.StatusShipped, store.StatusEffects{
				Ledger:  []model.LedgerEntry{{RepID: reps["dana"], Points: 10, Reason: "quality:shipped", Month: "2026-03"}},
				Outbox:  []model.OutboxMessage{note()},
				NoteCap: cap}); err != nil {
			t.Fatal(err)
		}
		q, err := s.QualityPoints(ctx, "2026-03", "quality:")
		if err != nil || q[reps["dana"]] != 10 {
			t.Fatalf("quality points = %v, %v; want dana 10", q, err)
		}
		hist, err := s.StatusHistory(ctx, item)
		if err != nil || len(hist) != 2 || hist[0].Actor != "billing-pm" || hist[0].Via != model.ViaReply || hist[1].Note != "in 4.2.1" {
			t.Fatalf("history = %+v, %v", hist, err)
		}
		// Ack + first note fill the cap of 2: the second note is suppressed.
		msgs, err := s.StatusOutbox(ctx, item)
		if err != nil || len(msgs) != 3 {
			t.Fatalf("status messages = %+v, %v; want 3", msgs, err)
		}
		if msgs[0].State != model.OutboxPending || msgs[1].Kind != model.OutboxWebhook || msgs[2].State != model.OutboxSuppressed {
			t.Errorf("states = %s %s %s; want the first note pending, the webhook, the second note suppressed by the cap",
				msgs[0].State, msgs[1].Kind, msgs[2].State)
		}
		counts, err := s.RepStatusCounts(ctx, reps["dana"], at)
		if err != nil || counts[model.StatusShipped] != 1 {
			t.Errorf("rep status counts = %v, %v", counts, err)
		}
		// A duplicate names an existing other item.
		if _, _, err := s.SetStatus(ctx, model.StatusChange{ItemID: other, Status: model.StatusDuplicate, DuplicateOf: other, Actor: "pat", Via: model.ViaCLI},
			model.StatusNew, store.StatusEffects{}); err == nil {
			t.Error("an item was marked a duplicate of itself")
		}
		if _, _, err := s.SetStatus(ctx, model.StatusChange{ItemID: other, Status: model.StatusDuplicate, DuplicateOf: 99999, Actor: "pat", Via: model.ViaCLI},
			model.StatusNew, store.StatusEffects{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("duplicate of a missing item: %v; want ErrNotFound", err)
		}
		if _, _, err := s.SetStatus(ctx, model.StatusChange{ItemID: other, Status: model.StatusDuplicate, DuplicateOf: item, Actor: "pat", Via: model.ViaCLI},
			model.StatusNew, store.StatusEffects{}); err != nil {
			t.Fatal(err)
		}
		all, err := s.ItemStatuses(ctx, []int64{item, other})
		if err != nil || all[other].DuplicateOf != item || all[item].Status != model.StatusShipped {
			t.Errorf("statuses = %+v, %v", all, err)
		}
		a, err := s.AppSecret(ctx, "links", func() ([]byte, error) { return []byte("one"), nil })
		b, err2 := s.AppSecret(ctx, "links", func() ([]byte, error) { return []byte("two"), nil })
		if err != nil || err2 != nil || string(a) != "one" || string(b) != "one" {
			t.Errorf("secret = %q %q (%v %v); want the first kept", a, b, err, err2)
		}
	})
}
