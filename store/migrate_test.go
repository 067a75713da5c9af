package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// A second migrate applies nothing; a database migrated by a newer
// Earshot is refused rather than used.
func TestMigrations(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		n, err := s.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d, %v; want 0", n, err)
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Fatalf("fresh schema: %v", err)
		}
		ms, err := s.Migrations(ctx)
		if err != nil || len(ms) == 0 || !ms[len(ms)-1].Applied {
			t.Fatalf("status = %+v, %v", ms, err)
		}
		if _, err := s.DB().ExecContext(ctx, `insert into goose_db_version (version_id, is_applied) values (99999, true)`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("migrate on a newer schema: %v; want ErrSchemaTooNew", err)
		}
		if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("check on a newer schema: %v; want ErrSchemaTooNew", err)
		}
	})
}

// Migration 00020 drops what no query reads: a tag is keyed by its item,
// kind and value. Rolled back and migrated anew, every tag is kept, and
// a tag stored twice is still refused.
func TestMigrationWriteCost(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 2)
		tags := []model.Tag{{Kind: "category", Value: "intel"}, {Kind: "competitor", Value: "Acme"}}
		if _, err := completeNext(t, s, model.Processed{Tags: tags}); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			t.Helper()
			var n int
			if err := s.DB().GetContext(ctx, &n, `select count(*) from tags`); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if err := store.MigrateDownTo(ctx, s, 19); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Fatalf("rolled back, %d tags; want 2", n)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 {
			t.Fatalf("migrated anew, %d tags; want 2", n)
		}
		var item int64
		if err := s.DB().GetContext(ctx, &item, `select item_id from tags limit 1`); err != nil {
			t.Fatal(err)
		}
		_, err := s.DB().ExecContext(ctx, s.DB().Rebind(`insert into tags (item_id, kind, value) values (?, 'category', 'intel')`), item)
		if err == nil {
			t.Error("a tag stored twice was taken")
		}
		if _, err := completeNext(t, s, model.Processed{Tags: tags[:1]}); err != nil {
			t.Fatalf("completion after the migration: %v", err)
		}
		if n := count(); n != 3 {
			t.Errorf("%d tags after a second item, want 3", n)
		}
		if s.Dialect() == store.Postgres {
			var cols []string
			if err := s.DB().SelectContext(ctx, &cols, `select a.attname from pg_index x
				join pg_attribute a on a.attrelid = x.indrelid and a.attnum = any(x.indkey)
				where x.indrelid = 'tags'::regclass and x.indisprimary order by a.attname`); err != nil {
				t.Fatal(err)
			}
			if strings.Join(cols, ",") != "item_id,kind,value" {
				t.Errorf("tags keyed by %v, want item_id, kind, value", cols)
			}
		}
	})
}
