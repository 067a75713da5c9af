package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// TestSlack covers what migration 00010 adds on both databases: the slack
// kinds of sources, items, rep contacts and outbox messages, and the
// changes (edits, deletions, the author's replies) kept with an item.
func TestSlack(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		if err := s.EnsureSource(ctx, "field-intel", "slack"); err != nil {
			t.Fatalf("a slack source: %v", err)
		}
		key := "T1:C1:1712345678.000100"
		item := model.RawItem{SourceKey: key, Kind: model.KindSlack, ContentHash: "slack-" + key,
			Raw: []byte(`{"type":"message","text":"Acme cut prices"}`), Meta: `{"team":"T1","channel":"C1","ts":"1712345678.000100"}`}
		b := model.Batch{Source: "field-intel", Items: []model.RawItem{item}}
		if res, err := s.Receive(ctx, b); err != nil || res.Inserted != 1 {
			t.Fatalf("receive a slack message = %+v, %v", res, err)
		}
		// A redelivery of the same (team, channel, ts) is the same item.
		if res, err := s.Receive(ctx, b); err != nil || res.Repeated != 1 {
			t.Fatalf("redelivery = %+v, %v; want repeated", res, err)
		}
		rep := model.Rep{Name: "Dana", Slack: []string{"U0DANA001"}, Line: 2}
		if _, err := s.ImportReps(ctx, []model.Rep{rep}); err != nil {
			t.Fatalf("a slack contact: %v", err)
		}
		got, err := s.RepByContact(ctx, "slack", "U0DANA001")
		if err != nil || got.Name != "Dana" {
			t.Fatalf("rep by slack user = %+v, %v", got, err)
		}
		if full, _ := s.RepByID(ctx, got.ID); len(full.Slack) != 1 || len(full.Phones) != 0 {
			t.Errorf("rep's contacts = %+v, want the slack user filed as such", full)
		}

		edit := model.SlackChange{Kind: model.SlackEdit, TS: "1712345690.000200", Text: "Acme cut prices by 20%", Raw: []byte(`{}`)}
		for i, want := range []bool{true, false} {
			if isNew, err := s.ReceiveSlackChange(ctx, "field-intel", key, edit); err != nil || isNew != want {
				t.Fatalf("edit %d = %v, %v; want new %v", i, isNew, err, want)
			}
		}
		del := model.SlackChange{Kind: model.SlackDelete, TS: "1712345700.000300", Raw: []byte(`{}`)}
		if _, err := s.ReceiveSlackChange(ctx, "field-intel", key, del); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReceiveSlackChange(ctx, "field-intel", "T1:C1:1.2", edit); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a change of an unknown message = %v, want ErrNotFound", err)
		}
		var id int64
		if err := s.DB().Get(&id, `select id from items where kind = 'slack'`); err != nil {
			t.Fatal(err)
		}
		chs, err := s.SlackChanges(ctx, id)
		if err != nil || len(chs) != 2 || chs[0].Kind != model.SlackEdit || chs[0].Text != edit.Text || chs[1].Kind != model.SlackDelete {
			t.Fatalf("changes = %+v, %v; want the edit, then the deletion", chs, err)
		}
		// An outbox message on the slack channel.
		p := model.Processed{Outbox: []model.OutboxMessage{{Kind: model.OutboxAck, Channel: model.ChannelSlack,
			Recipient: "C1/1712345678.000100", RecipientKey: "slack:u0dana001", Body: []byte(`{"channel":"C1"}`)}}}
		if _, err := s.Claim(ctx, "w", 1, 60e9); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, id, "w", p); err != nil {
			t.Fatalf("complete with a slack ack: %v", err)
		}
		msgs, err := s.ItemOutbox(ctx, id)
		if err != nil || len(msgs) != 1 || msgs[0].Channel != model.ChannelSlack {
			t.Fatalf("outbox = %+v, %v", msgs, err)
		}
	})
}
