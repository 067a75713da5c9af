package pipeline

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// An award in a batch counts what the items before it write: their acks
// in every cap's count (the recipient's, the domain's, the hour's and the
// hour's to senders outside the roster) and their ledger entries in the
// first-intel check, added to what the database holds.
func TestPendingStore(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "e.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var p Pending
	p.Add(model.Processed{Trust: model.TrustOpen,
		Unpaid: []model.LedgerEntry{{RepID: 7, ItemID: 5, Month: "2026-03", Reason: "bonus:first-intel-of-month", Points: 2}},
		Outbox: []model.OutboxMessage{
			{Kind: model.OutboxAck, Recipient: "Ana@Example.test", State: model.OutboxPending},
			{Kind: model.OutboxOwnerNotice, Recipient: "ci@example.test", RecipientKey: "ci@example.test", State: model.OutboxPending},
		}})
	p.Add(model.Processed{Trust: model.TrustRep, Outbox: []model.OutboxMessage{
		{Kind: model.OutboxAck, Recipient: "bo@example.test", RecipientKey: "bo@example.test", State: model.OutboxPending},
	}})
	p.Add(model.Processed{Trust: model.TrustRep, Outbox: []model.OutboxMessage{
		{Kind: model.OutboxAck, Recipient: "+14155550101", RecipientKey: "+14155550101", Channel: model.ChannelSMS, State: model.OutboxPending},
	}})
	p.Add(model.Processed{Trust: model.TrustOpen, Outbox: []model.OutboxMessage{
		{Kind: model.OutboxAck, Recipient: "ana@example.test", RecipientKey: "ana@example.test", State: model.OutboxSuppressed},
	}})
	ps := pendingStore{AwardStore: s, p: p}

	now := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	q := model.AckQuery{RecipientKey: "ana@example.test", Domain: "example.test", Day: now.Add(-10 * time.Hour),
		Hour: now.Add(-time.Hour), Upto: model.AckCounts{Recipient: 10, Domain: 10, Hour: 10, OpenHour: 10}}
	c, err := ps.AckCounts(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// Suppressed acks and owner notices count for no cap.
	if want := (model.AckCounts{Recipient: 1, Domain: 2, Hour: 3, OpenHour: 1}); c != want {
		t.Errorf("counts with the batch's acks = %+v, want %+v", c, want)
	}

	for _, tc := range []struct {
		rep    int64
		month  model.Month
		except int64
		want   bool
	}{
		{7, "2026-03", 6, true},  // paid by item 5 before it
		{7, "2026-03", 5, false}, // item 5 itself, awarded again
		{7, "2026-04", 6, false},
		{8, "2026-03", 6, false},
	} {
		got, err := ps.HasLedgerReason(ctx, tc.rep, tc.month, "bonus:first-intel-of-month", tc.except)
		if err != nil || got != tc.want {
			t.Errorf("rep %d %s except item %d: paid %v %v, want %v", tc.rep, tc.month, tc.except, got, err, tc.want)
		}
	}
	p.Reset()
	if len(p.Ledger) != 0 || len(p.Acks) != 0 {
		t.Errorf("after Reset: %+v", p)
	}
}
