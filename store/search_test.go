package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// Search vectors are written by the indexer, not by completion: an item is
// found once indexed, by its latest text after it is processed again, and
// the backlog says what waits and whether processing goes first.
func TestSearchIndexer(t *testing.T) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, testenv.Postgres(t), clk)
	find := func(q string) []int64 {
		t.Helper()
		items, _, err := s.Inbox(ctx, store.InboxQuery{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	id := dashItem(t, s, "email", "x1", clk.Now(), model.Processed{Subject: "Zebra pricing", FullText: "Acme quoted zebras."})
	if got := find("zebra"); len(got) != 0 {
		t.Fatalf("found %v before indexing", got)
	}
	clk.Add(90 * time.Second)
	if b, err := s.SearchBacklog(ctx); err != nil || b.Queued != 1 || b.Waiting != 90*time.Second || b.Busy {
		t.Fatalf("backlog = %+v, %v; want one item waiting 90 s, nothing due", b, err)
	}
	if n, err := s.IndexSearch(ctx, 10); n != 1 || err != nil {
		t.Fatalf("index = %d, %v; want 1", n, err)
	}
	if got := find("zebra"); len(got) != 1 || got[0] != id {
		t.Fatalf("found %v, want item %d", got, id)
	}

	// Processed again with another text: the old words go once the new
	// vector is written.
	if _, err := s.Reprocess(ctx, []int64{id}); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.SearchBacklog(ctx); !b.Busy {
		t.Errorf("backlog = %+v with an item due; want busy", b)
	}
	got, err := s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	if err := s.Complete(ctx, id, "w", model.Processed{Subject: "Giraffe pricing"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.IndexSearch(ctx, 10); n != 1 || err != nil {
		t.Fatalf("index = %d, %v; want 1", n, err)
	}
	if z, g := find("zebra"), find("giraffe"); len(z) != 0 || len(g) != 1 {
		t.Fatalf("zebra finds %v, giraffe %v; want only giraffe", z, g)
	}
	if b, _ := s.SearchBacklog(ctx); b.Queued != 0 || b.Busy {
		t.Errorf("backlog = %+v, want empty", b)
	}
}

// Replicas share the queue: concurrent indexers index every item once.
func TestSearchIndexersShareTheQueue(t *testing.T) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, testenv.Postgres(t), clk)
	const n = 300
	for i := range n {
		dashItem(t, s, "email", fmt.Sprintf("q%d", i), clk.Now(), model.Processed{Subject: fmt.Sprintf("okapi %d", i)})
	}
	var (
		mu    sync.Mutex
		total int64
		wg    sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				k, err := s.IndexSearch(ctx, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if k == 0 {
					return
				}
				mu.Lock()
				total += k
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var docs int64
	if err := s.DB().GetContext(ctx, &docs, `select count(*) from item_search`); err != nil {
		t.Fatal(err)
	}
	if total != n || docs != n {
		t.Fatalf("indexers wrote %d vectors, %d stored; want %d each", total, docs, n)
	}
	items, _, err := s.Inbox(ctx, store.InboxQuery{Text: "okapi", Limit: 500})
	if err != nil || len(items) != n {
		t.Fatalf("search found %d, %v; want %d", len(items), err, n)
	}
}
