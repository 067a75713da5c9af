package pipeline_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/intake/corpus"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
)

// Every mail of the shared corpus (real-world mail, much of it malformed)
// is stored raw and processed: nothing is lost, nothing is quarantined,
// problems are warnings on the item.
func TestCorpusIntoStore(t *testing.T) {
	shared := testenv.SharedDir(t)
	files, err := corpus.Files(shared)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			t.Parallel() // each store is its own: a file or a schema
			url := "sqlite:" + filepath.Join(t.TempDir(), "corpus.db")
			if d == "postgres" {
				url = testenv.Postgres(t)
			}
			ctx := context.Background()
			st, err := store.Open(ctx, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			st.EnsureSource(ctx, "corpus", "imap")
			var batch []model.RawItem
			for i, f := range files {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				id, hash := intake.Fingerprint(raw)
				rel, _ := filepath.Rel(shared, f)
				batch = append(batch, model.RawItem{SourceKey: rel, Kind: "email", Mailbox: "feedback@example.test",
					MessageID: id, ContentHash: hash, Raw: raw})
				if len(batch) == 100 || i == len(files)-1 {
					if _, err := st.Receive(ctx, model.Batch{Source: "corpus", Items: batch}); err != nil {
						t.Fatal(err)
					}
					batch = nil
				}
			}
			cfg, err := config.Parse([]byte("database: sqlite:unused.db\nmailboxes: []\n"), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			router, err := pipeline.NewRouter(cfg)
			if err != nil {
				t.Fatal(err)
			}
			w := &pipeline.Workers{Store: st, Processor: &pipeline.Processor{Store: st, Router: router},
				Name: "corpus", Batch: 50, Lease: time.Minute, MaxAttempts: 1,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			for {
				n, err := w.RunOnce(ctx, "corpus/0")
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}

			var receipts, items int
			st.DB().Get(&receipts, `select count(*) from receipts`)
			st.DB().Get(&items, `select count(*) from items`)
			if receipts != len(files) {
				t.Fatalf("%d files but %d receipts: mail was lost", len(files), receipts)
			}
			counts, _ := st.StateCounts(ctx)
			if counts[model.StateProcessed] != int64(items) {
				var errs []string
				st.DB().Select(&errs, `select last_error from items where state <> 'processed' limit 5`)
				t.Fatalf("states %v of %d items; errors: %q", counts, items, errs)
			}
			var rows []struct {
				Warnings string `db:"warnings"`
				Auto     string `db:"auto_reason"`
			}
			if err := st.DB().Select(&rows, `select warnings, auto_reason from items`); err != nil {
				t.Fatal(err)
			}
			var warned, warnings, auto int
			for _, r := range rows {
				var ws []string
				if err := json.Unmarshal([]byte(r.Warnings), &ws); err != nil {
					t.Fatalf("warnings column %q: %v", r.Warnings, err)
				}
				if len(ws) > 0 {
					warned++
				}
				warnings += len(ws)
				if r.Auto != "" {
					auto++
				}
			}
			t.Logf("%d files, %d receipts, %d items (identical content shares an item), all processed; %d items with %d warnings; %d auto-generated",
				len(files), receipts, items, warned, warnings, auto)
		})
	}
}
