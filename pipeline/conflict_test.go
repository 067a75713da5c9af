package pipeline_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/store"
)

// racingStore lets another worker complete one racer, an item received
// before target that names one of target's competitors first, just before
// each completion of target is stored: target loses the first report of
// that competitor each time.
type racingStore struct {
	*store.Store
	target  int64
	racers  int
	race    func()
	batches int
	singles int
}

func (r *racingStore) raceFor(ids ...int64) {
	if r.racers > 0 && slices.Contains(ids, r.target) {
		r.racers--
		r.race()
	}
}

func (r *racingStore) CompleteBatch(ctx context.Context, worker string, batch []store.Done) ([]error, error) {
	r.batches++
	ids := make([]int64, len(batch))
	for i, d := range batch {
		ids[i] = d.ID
	}
	r.raceFor(ids...)
	return r.Store.CompleteBatch(ctx, worker, batch)
}

func (r *racingStore) Complete(ctx context.Context, id int64, worker string, p model.Processed) error {
	r.singles++
	r.raceFor(id)
	return r.Store.Complete(ctx, id, worker, p)
}

// TestConflictsRetriedAtOnce: an item naming three competitors loses the
// race for each one's first report in turn, to items another worker
// completes meanwhile. Each conflict is resolved by processing the item
// again at once, which sees the winner, so the item is processed in the
// same run, without the bonuses it lost and without waiting for a
// backoff.
func TestConflictsRetriedAtOnce(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testConflictsRetriedAtOnce(t, "sqlite:"+filepath.Join(t.TempDir(), "e.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		testConflictsRetriedAtOnce(t, testenv.Postgres(t))
	})
}

func testConflictsRetriedAtOnce(t *testing.T, database string) {
	h := newAwardHarnessOn(t, database, 10)
	ctx := context.Background()
	at := time.Date(2026, 3, 3, 9, 0, 0, 0, h.cfg.Location)
	// The target is stored first, so that a batch of one claims it; the
	// racers were received before it, so their reports come first.
	h.deliver("intel", at.Add(10*time.Minute), "From: Dana Reyes <dana@example.test>\r\nSubject: Three rivals\r\n",
		"Acme Corp, Hooli and Vandelay are all cutting prices.")
	for i, name := range []string{"Acme Corp", "Hooli", "Vandelay"} {
		h.deliver("intel", at.Add(time.Duration(i)*time.Minute), "From: Sam Okafor <sam@example.test>\r\nSubject: "+name+"\r\n",
			name+" called our biggest customer.")
	}
	const target = 1
	p := *h.p
	rs := &racingStore{Store: h.s, target: target, racers: 3, race: func() { h.process() }}
	a := *h.a
	a.Store = rs
	p.Awarder, p.Store, p.Gate = &a, rs, pipeline.NewGate(h.cfg, rs, nil)
	w := &pipeline.Workers{Store: rs, Processor: &p, Name: "w", Batch: 1, Lease: 30 * time.Minute,
		MaxAttempts: 3, Log: slog.New(slog.DiscardHandler)}
	if n, err := w.RunOnce(ctx, "w/0"); err != nil || n != 1 {
		t.Fatalf("the run took %d items, %v", n, err)
	}
	if rs.racers != 0 || rs.batches != 1 || rs.singles != 3 {
		t.Errorf("%d racers left, %d batches, %d completions alone; want 0, 1 and 3", rs.racers, rs.batches, rs.singles)
	}
	it, err := h.s.Item(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if it.State != model.StateProcessed || it.Attempts != 1 {
		t.Fatalf("target is %s after %d attempts (last error %q); want processed in its first", it.State, it.Attempts, it.LastError)
	}
	ledger, err := h.s.ItemLedger(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ledger {
		if strings.HasPrefix(e.Reason, points.ReasonNewCompetitor) {
			t.Errorf("target was paid %s, which a racer reported first", e.Reason)
		}
	}
	for id := int64(2); id <= 4; id++ {
		ledger, err := h.s.ItemLedger(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(ledger, func(e model.LedgerEntry) bool { return strings.HasPrefix(e.Reason, points.ReasonNewCompetitor) }) {
			t.Errorf("racer %d was not paid its first report: %v", id, ledger)
		}
	}
}
