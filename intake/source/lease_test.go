package source_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/store"
)

func TestLease(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "lease.db"), &store.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.EnsureSource(ctx, "intel", "imap")
	a := &source.Lease{Store: st, Name: "intel", Holder: "a", TTL: 30 * time.Second, Now: clock}
	b := &source.Lease{Store: st, Name: "intel", Holder: "b", TTL: 30 * time.Second, Now: clock}
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("a takes a free source: %v", err)
	}
	if err := b.Renew(ctx); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("b while a holds it: %v; want ErrLeaseLost", err)
	}
	now = now.Add(25 * time.Second)
	if err := a.Renew(ctx); err != nil { // past a third: renewed
		t.Fatal(err)
	}
	now = now.Add(25 * time.Second)
	if err := b.Renew(ctx); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("a renewed, so b still cannot take it: %v", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Renew(ctx); err != nil {
		t.Fatalf("b takes a released source at once: %v", err)
	}
	none := &source.Lease{Name: "intel", Now: clock}
	if err := none.Renew(ctx); err != nil {
		t.Fatalf("without a holder no lease is needed: %v", err)
	}
}
