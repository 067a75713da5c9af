package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/earshot-dev/earshot/internal/testenv"
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
