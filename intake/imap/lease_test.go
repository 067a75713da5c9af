package imap

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/store"
)

// Two replicas share one store: only the lease holder polls, and the other
// takes over when the holder stops.
func TestLeaseStandbyAndTakeover(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	st := openSQLite(t)
	cfg := loopbackConfig(t, srv.addr, memUser, memPass)
	// go-imap's in-memory server may hold back what arrives just as IDLE
	// starts until the next refresh (see TestIdleDelivery): a short one
	// bounds how long the takeover's first delivery can wait.
	cfg.IdleRefresh = time.Second
	// Renewals come every third of the TTL; the TTL leaves room for a
	// busy machine to delay one.
	a := newSource(t, st, cfg, &Options{Options: source.Options{Holder: "replica-a", LeaseTTL: 1500 * time.Millisecond}})
	b := newSource(t, st, cfg, &Options{Options: source.Options{Holder: "replica-b", LeaseTTL: 1500 * time.Millisecond}})

	ctxA, stopA := context.WithCancel(context.Background())
	var errA error
	doneA := make(chan struct{})
	go func() { errA = a.Run(ctxA); close(doneA) }()
	t.Cleanup(func() { stopA(); <-doneA })
	eventually(t, 5*time.Second, "a idle", func() bool { return a.Status().State == source.StateIdle })
	runSource(t, b)
	eventually(t, 5*time.Second, "b standby", func() bool { return b.Status().State == source.StateStandby })

	// a keeps its lease across several renewals while idling (and
	// refreshing IDLE, which syncs): b stays in standby, never connected.
	time.Sleep(2 * time.Second)
	src, err := st.Source(context.Background(), "feedback")
	if err != nil {
		t.Fatal(err)
	}
	if as, bs := a.Status(), b.Status(); src.LeaseHolder != "replica-a" || !as.Connected ||
		bs.State != source.StateStandby || bs.Connected {
		t.Fatalf("lease held by %q; a %s (connected %v), b %s (connected %v); want a holding it and b standing by",
			src.LeaseHolder, as.State, as.Connected, bs.State, bs.Connected)
	}
	srv.add(t, "INBOX", message(1), time.Now())
	eventually(t, 10*time.Second, "a ingests", func() bool { return countItems(t, st) == 1 })

	stopA()
	<-doneA
	if errA != nil {
		t.Fatalf("a: %v", errA)
	}
	eventually(t, 10*time.Second, "b takes over", func() bool { return b.Status().State == source.StateIdle })
	srv.add(t, "INBOX", message(2), time.Now())
	eventually(t, 10*time.Second, "b ingests", func() bool { return countItems(t, st) == 2 })
	if n := countReceipts(t, st, "feedback"); n != 2 {
		t.Fatalf("%d receipts, want 2", n)
	}
}

// A batch is refused when another replica holds the lease, and SyncOnce
// reports it without disabling the source.
func TestSyncOnceWithoutLease(t *testing.T) {
	srv := startMemIMAP(t, nil, nil)
	srv.add(t, "INBOX", message(1), time.Now())
	st := openSQLite(t)
	ctx := context.Background()
	if err := st.EnsureSource(ctx, "feedback", Kind); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.AcquireLease(ctx, "feedback", "someone-else", time.Hour); !ok || err != nil {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	s := newSource(t, st, loopbackConfig(t, srv.addr, memUser, memPass), &Options{Options: source.Options{Holder: "me"}})
	_, err := s.SyncOnce(ctx)
	if !errors.Is(err, store.ErrLeaseLost) || IsPermanent(err) {
		t.Fatalf("sync: %v, want a lease error", err)
	}
	if n := countItems(t, st); n != 0 {
		t.Fatalf("%d items stored without the lease", n)
	}
}
