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

// The search syntax of the inbox: words (stemmed, stop words left out),
// "phrases", or, -exclusions, and terms that are several tokens. Where
// PostgreSQL's own parser (to_tsvector with websearch_to_tsquery, which
// Earshot used before it built vectors and queries itself) agrees, the
// test checks that it does.
func TestSearchSyntax(t *testing.T) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, testenv.Postgres(t), clk)
	docs := []model.Processed{
		{Subject: "Acme discounts in Boston", FullText: "They offer forty percent discounts on renewals. " +
			"Write to jane.doe@acme.com or see https://acme.com/pricing."},
		{Subject: "Billing page is confusing", FullText: "The invoice screen hides the 100% total. The state of the art is poor."},
		{Subject: "競合の価格", FullText: "ライバルの製品が安い。 Globex cut prices by 20%."},
		{Subject: "Renewal call", FullText: "Customer's renewing; don't expect Initech's price-match. O'Brien said \\ no."},
	}
	ids := make([]int64, len(docs))
	for i, d := range docs {
		ids[i] = dashItem(t, s, "email", fmt.Sprintf("syntax%d", i), clk.Now(), d)
	}
	indexSearch(t, s)
	for _, tc := range []struct {
		q      string
		want   []int // indexes into docs
		parity bool  // PostgreSQL's parser finds the same
	}{
		{"renewals", []int{0, 3}, true},
		{"Discount", []int{0}, true},
		{"discounts boston", []int{0}, true},
		{`"forty percent"`, []int{0}, true},
		{`"percent forty"`, nil, true},
		{`"state of the art"`, []int{1}, true},
		{`"state art"`, nil, true},
		{"acme or globex", []int{0, 2}, true},
		{"acme OR initech or billing", []int{0, 1, 3}, true},
		{"match -globex", []int{3}, true},
		{"price -globex", []int{0, 3}, false}, // PostgreSQL: "/pricing" is a URL path
		{"-globex", []int{0, 1, 3}, true},
		{"the", nil, true},
		{"100%", []int{1}, true},
		{"ライバルの製品が安い", []int{2}, true},
		{"競合の価格", []int{2}, true},
		{"initech's", []int{3}, true},
		{"o'brien", []int{3}, true},
		{"acme.com", []int{0}, false},          // PostgreSQL: a host, 'acme.com'
		{"jane.doe@acme.com", []int{0}, false}, // PostgreSQL: an email address
		{"acme.com/pricing", []int{0}, false},
		{`"unterminated phrase`, nil, false},
		{"or", nil, false},
		{"- -", nil, false},
		{`\ '`, nil, false},
	} {
		items, _, err := s.Inbox(ctx, store.InboxQuery{Text: tc.q})
		if err != nil {
			t.Errorf("search %q: %v", tc.q, err)
			continue
		}
		got := map[int64]bool{}
		for _, it := range items {
			got[it.ID] = true
		}
		want := map[int64]bool{}
		for _, i := range tc.want {
			want[ids[i]] = true
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("search %q found %v, want %v", tc.q, got, want)
		}
		if !tc.parity {
			continue
		}
		var pg []int64
		if err := s.DB().SelectContext(ctx, &pg, `select id from items
			where to_tsvector('english', subject || ' ' || full_text) @@ websearch_to_tsquery('english', $1)`, tc.q); err != nil {
			t.Fatal(err)
		}
		pgGot := map[int64]bool{}
		for _, id := range pg {
			pgGot[id] = true
		}
		if fmt.Sprint(pgGot) != fmt.Sprint(want) {
			t.Errorf("search %q: PostgreSQL's parser finds %v, want %v", tc.q, pgGot, want)
		}
	}
}

// Migration 00019 queues every vector to be built again by Earshot's
// tokenizer; rolling it back rebuilds them with PostgreSQL's parser.
func TestSearchVectorsMigration(t *testing.T) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, testenv.Postgres(t), clk)
	for i, text := range []string{"Write to jane.doe@acme.com", "A price-match from Initech"} {
		dashItem(t, s, "email", fmt.Sprintf("m%d", i), clk.Now(), model.Processed{Subject: "Intel", FullText: text})
	}
	indexSearch(t, s)
	if err := store.MigrateDownTo(ctx, s, 18); err != nil {
		t.Fatal(err)
	}
	var differ int
	if err := s.DB().GetContext(ctx, &differ, `select count(*) from item_search s join items i on i.id = s.item_id
		where s.doc <> to_tsvector('english', i.subject || ' ' || i.full_text)`); err != nil || differ != 0 {
		t.Fatalf("after rollback, %d vectors differ from PostgreSQL's (%v)", differ, err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var queued int
	if err := s.DB().GetContext(ctx, &queued, `select count(*) from search_queue q join item_search s using (item_id)`); err != nil || queued != 2 {
		t.Fatalf("after upgrade, %d of 2 vectors queued (%v)", queued, err)
	}
	indexSearch(t, s)
	if items, _, err := s.Inbox(ctx, store.InboxQuery{Text: "acme.com"}); err != nil || len(items) != 1 {
		t.Fatalf("acme.com finds %d items (%v), want 1", len(items), err)
	}
}

// A completion that queues an item while it is queued already, and has not
// committed when the indexer runs, is not lost: the indexer leaves the row
// the completion holds and indexes the new text once it is committed.
func TestSearchQueueKeepsAnUncommittedRequest(t *testing.T) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, testenv.Postgres(t), clk)
	id := dashItem(t, s, "email", "q1", clk.Now(), model.Processed{Subject: "Intel", FullText: "zebra"})
	// The item is queued (by its completion) and a second completion,
	// with new text, queues it again and has not committed yet.
	tx, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `update items set full_text = 'okapi' where id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := store.QueueSearch(ctx, s, tx, id); err != nil {
		t.Fatal(err)
	}
	if n, err := s.IndexSearch(ctx, 10); err != nil || n != 0 {
		t.Fatalf("indexer took %d items (%v) while their completion is open, want 0", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.IndexSearch(ctx, 10); err != nil || n != 1 {
		t.Fatalf("indexer took %d items (%v) after the commit, want 1", n, err)
	}
	if items, _, err := s.Inbox(ctx, store.InboxQuery{Text: "okapi"}); err != nil || len(items) != 1 {
		t.Fatalf("the new text finds %d items (%v), want 1", len(items), err)
	}
}

// An item completed again while the indexer writes its first vector: the
// completion waits for the indexer's request row, and the indexer's new
// vector must not wait for the completion's lock on the item in turn (a
// deadlock PostgreSQL breaks by failing one of them). The new text is
// indexed next.
func TestSearchIndexerAndCompletionNeverDeadlock(t *testing.T) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, testenv.Postgres(t), clk)
	id := dashItem(t, s, "email", "q1", clk.Now(), model.Processed{Subject: "Intel", FullText: "zebra"})
	if _, err := s.Reprocess(ctx, []int64{id}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Claim(ctx, "w", 1, time.Minute); err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	// The indexer's transaction, step by step: it takes the request and
	// reads the text the first completion stored.
	ix, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Rollback()
	var old string
	if err := ix.GetContext(ctx, &old, `with r as (delete from search_queue where item_id = $1 returning item_id)
		select full_text from items join r on r.item_id = items.id`, id); err != nil || old != "zebra" {
		t.Fatalf("indexer read %q, %v; want zebra", old, err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.Complete(ctx, id, "w", model.Processed{Subject: "Intel", FullText: "okapi"})
	}()
	// The completion waits for the request row the indexer holds.
	awaitBlocked(t, s, ix, done)
	// The item's first vector: a new row, whose foreign key check locks
	// the item.
	if _, err := ix.ExecContext(ctx, `insert into item_search (item_id, doc) values ($1, $2)
		on conflict (item_id) do update set doc = excluded.doc`, id, store.TsvectorOf(old)); err != nil {
		t.Fatalf("indexer's vector: %v", err)
	}
	if err := ix.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("completion: %v", err)
	}
	indexSearch(t, s)
	for q, want := range map[string]int{"okapi": 1, "zebra": 0} {
		if items, _, err := s.Inbox(ctx, store.InboxQuery{Text: q}); err != nil || len(items) != want {
			t.Errorf("%s finds %d items (%v), want %d", q, len(items), err, want)
		}
	}
}
