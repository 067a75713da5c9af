package pipeline_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
)

// The indexer leaves the CPU to processing while items are due, until the
// oldest queued request has waited MaxLag; with nothing due it indexes at
// once. Completion writes its own items' vectors.
func TestSearchIndexerDefersToProcessing(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	st, err := store.Open(ctx, testenv.Postgres(t), &store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.EnsureSource(ctx, "feedback", "imap")
	var items []model.RawItem
	for _, k := range []string{"a", "b"} {
		items = append(items, model.RawItem{SourceKey: k, Kind: "email", ContentHash: "h-" + k, Raw: []byte("Subject: " + k + "\r\n\r\n" + k)})
	}
	if _, err := st.Receive(ctx, model.Batch{Source: "feedback", Items: items}); err != nil {
		t.Fatal(err)
	}
	found := func(q string) int {
		t.Helper()
		got, _, err := st.Inbox(ctx, store.InboxQuery{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	got, err := st.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	if err := st.Complete(ctx, got[0].ID, "w", model.Processed{Subject: "quokka sighting"}); err != nil {
		t.Fatal(err)
	}
	if n := found("quokka"); n != 1 {
		t.Fatalf("quokka finds %d items once completed, want 1", n)
	}
	// Its vector asked for again, as a migration does, and gone meanwhile.
	queue := func(id int64) {
		t.Helper()
		if _, err := st.DB().ExecContext(ctx, `delete from item_search where item_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB().ExecContext(ctx, `insert into search_queue (item_id, queued_at) values ($1, $2)`, id, now); err != nil {
			t.Fatal(err)
		}
	}
	queue(got[0].ID)
	x := &pipeline.SearchIndexer{Store: st, MaxLag: time.Minute, Log: slog.New(slog.DiscardHandler)}
	if n, err := x.RunOnce(ctx); n != 0 || err != nil {
		t.Fatalf("with an item due: indexed %d, %v; want none yet", n, err)
	}
	now = now.Add(61 * time.Second)
	if n, err := x.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("after MaxLag: indexed %d, %v; want 1", n, err)
	}
	if n := found("quokka"); n != 1 {
		t.Fatalf("quokka finds %d items once indexed, want 1", n)
	}

	// The other item done, nothing is due: indexing follows at once.
	got, err = st.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	if err := st.Complete(ctx, got[0].ID, "w", model.Processed{Subject: "wombat sighting"}); err != nil {
		t.Fatal(err)
	}
	queue(got[0].ID)
	if n, err := x.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("nothing due: indexed %d, %v; want 1", n, err)
	}
	if n := found("wombat"); n != 1 {
		t.Fatalf("wombat finds %d items once indexed, want 1", n)
	}
}
