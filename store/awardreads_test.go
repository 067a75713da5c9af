package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// TestAwardReadsMatchStore checks that what ReadAwards reads for a batch
// answers every question as the store's own reads do, and declines what
// it did not read.
func TestAwardReadsMatchStore(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := importReps(t, s, "ana@example.test", "bo@example.test", "cy@example.test", "di@example.test", "ed@example.test")
		ana, bo, cy, di, ed := ids[0], ids[1], ids[2], ids[3], ids[4]
		if err := s.AddRepContact(ctx, bo, "slack", "U0BO"); err != nil {
			t.Fatal(err)
		}
		seed(t, s, 7)
		var items []int64
		for _, p := range []model.Processed{
			{RepID: ana, Ledger: []model.LedgerEntry{entry(ana, 3, "category:intel", "2026-03"), entry(ana, 7, "bonus:first-intel-of-month", "2026-03")}},
			{RepID: ana, Ledger: []model.LedgerEntry{entry(ana, 3, "category:intel", "2026-03")}},
			{RepID: bo, Ledger: []model.LedgerEntry{entry(bo, 7, "category:intel", "2026-03")}},
			{RepID: cy, Ledger: []model.LedgerEntry{entry(cy, 7, "category:feedback", "2026-03")}},
			{RepID: di, Ledger: []model.LedgerEntry{entry(di, 3, "category:feedback", "2026-03"), entry(di, 50, "category:intel", "2026-02")}},
			{RepID: bo, Ledger: []model.LedgerEntry{entry(bo, 4, "category:feedback", "2026-03")}}, // bo ties cy at 11
			{RepID: cy},
		} {
			id, err := completeNext(t, s, p)
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, id)
		}
		if _, err := s.AdjustPoints(ctx, model.LedgerEntry{RepID: cy, Points: 4, Reason: "won the Globex deal", Month: "2026-03", Actor: "kim"}); err != nil {
			t.Fatal(err)
		}
		since := clk.Now().Add(-time.Hour)
		for i, st := range []model.Status{model.StatusShipped, model.StatusPlanned, model.StatusShipped} {
			id := items[[]int{0, 1, 2}[i]]
			cur, err := s.ItemStatus(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.SetStatus(ctx, model.StatusChange{ItemID: id, Status: st, Actor: "kim", Via: model.ViaDashboard},
				cur.Status, store.StatusEffects{}); err != nil {
				t.Fatal(err)
			}
		}

		// ed has nothing; di's month is February.
		reads, err := s.ReadAwards(ctx, "2026-03", []int64{ana, bo, cy, ed}, since)
		if err != nil {
			t.Fatal(err)
		}
		reasons := []string{"category:intel", "category:feedback", "bonus:first-intel-of-month",
			"adjust:won the Globex deal", "category:none"}
		for _, rep := range []int64{ana, bo, cy, ed} {
			want, err := s.RepByID(ctx, rep)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := reads.RepByID(rep); !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("rep %d = %+v, %v; want %+v", rep, got, ok, want)
			}
			wantCounts, err := s.RepStatusCounts(ctx, rep, since)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := reads.RepStatusCounts(rep, since); !ok || fmt.Sprint(got) != fmt.Sprint(wantCounts) {
				t.Errorf("rep %d statuses = %v, %v; want %v", rep, got, ok, wantCounts)
			}
			for _, reason := range reasons {
				for _, except := range append([]int64{0}, items...) {
					want, err := s.HasLedgerReason(ctx, rep, "2026-03", reason, except)
					if err != nil {
						t.Fatal(err)
					}
					if got, ok := reads.HasLedgerReason(rep, "2026-03", reason, except); !ok || got != want {
						t.Errorf("rep %d has %s except item %d = %v, %v; want %v", rep, reason, except, got, ok, want)
					}
				}
			}
			for _, q := range []model.TallyQuery{
				{RepID: rep, Month: "2026-03"},
				{RepID: rep, Month: "2026-03", Pending: 5, Reasons: reasons},
				{RepID: rep, Month: "2026-03", Pending: 1, Others: map[int64]int{ana: 1, di: 20, ed: 3, rep: 2}},
				{RepID: rep, Month: "2026-03", Others: map[int64]int{bo: -8, cy: 4}, Reasons: reasons[:2]},
			} {
				want, err := s.Tally(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if got, ok := reads.Tally(q); !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("tally %+v = %+v, %v; want %+v", q, got, ok, want)
				}
			}
		}
		if got, err := s.Tally(ctx, model.TallyQuery{RepID: ana, Month: "2026-03"}); err != nil || got.Points != 13 || got.Rank != 1 {
			t.Errorf("ana's tally = %+v, %v; the ledger is not the one meant", got, err)
		}

		// What it did not read, it leaves to the store.
		if _, ok := reads.Tally(model.TallyQuery{RepID: di, Month: "2026-03"}); ok {
			t.Error("answered a tally of a rep it did not read")
		}
		if _, ok := reads.Tally(model.TallyQuery{RepID: ana, Month: "2026-02"}); ok {
			t.Error("answered a tally of another month")
		}
		if _, ok := reads.HasLedgerReason(di, "2026-03", "category:intel", 0); ok {
			t.Error("answered a ledger question about a rep it did not read")
		}
		if _, ok := reads.RepStatusCounts(ana, since.Add(time.Second)); ok {
			t.Error("answered status counts since another time")
		}
		if _, ok := reads.RepByID(di); ok {
			t.Error("answered a rep it did not read")
		}
		var none *store.AwardReads
		if _, ok := none.Tally(model.TallyQuery{RepID: ana, Month: "2026-03"}); ok {
			t.Error("no reads answered a tally")
		}
	})
}
