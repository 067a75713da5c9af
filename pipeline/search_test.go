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
// oldest queued item has waited MaxLag; with nothing due it indexes at once.
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
	got, err := st.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	if err := st.Complete(ctx, got[0].ID, "w", model.Processed{Subject: "quokka sighting"}); err != nil {
		t.Fatal(err)
	}
	x := &pipeline.SearchIndexer{Store: st, MaxLag: time.Minute, Log: slog.New(slog.DiscardHandler)}
	if n, err := x.RunOnce(ctx); n != 0 || err != nil {
		t.Fatalf("with an item due: indexed %d, %v; want none yet", n, err)
	}
	now = now.Add(61 * time.Second)
	if n, err := x.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("after MaxLag: indexed %d, %v; want 1", n, err)
	}
	found, _, err := st.Inbox(ctx, store.InboxQuery{Text: "quokka"})
	if err != nil || len(found) != 1 {
		t.Fatalf("search = %v, %v; want the indexed item", found, err)
	}

	// The other item done, nothing is due: indexing follows at once.
	got, err = st.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	if err := st.Complete(ctx, got[0].ID, "w", model.Processed{Subject: "wombat sighting"}); err != nil {
		t.Fatal(err)
	}
	if n, err := x.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("nothing due: indexed %d, %v; want 1", n, err)
	}
}
