package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

func raw(n int) model.RawItem {
	return model.RawItem{
		SourceKey:   fmt.Sprintf("7:%d", n),
		Kind:        "email",
		Mailbox:     "feedback@example.test",
		MessageID:   fmt.Sprintf("m%d@example.test", n),
		ContentHash: fmt.Sprintf("hash-%d", n),
		Raw:         []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody \x00\xff %d\r\n", n, n)),
	}
}

// ensureSources registers IMAP sources by name.
func ensureSources(t *testing.T, s *store.Store, names ...string) {
	t.Helper()
	for _, name := range names {
		if err := s.EnsureSource(context.Background(), name, "imap"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReceive(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ensureSources(t, s, "feedback", "intel")
		if err := s.EnsureSource(ctx, "feedback", "imap"); err != nil {
			t.Fatalf("ensure is idempotent: %v", err)
		}
		c, err := s.SourceCursor(ctx, "feedback")
		if err != nil || string(c) != "{}" {
			t.Fatalf("new cursor = %q, %v; want {}", c, err)
		}

		b := model.Batch{Source: "feedback", Cursor: `{"uidvalidity":7,"last_uid":3}`,
			Items: []model.RawItem{raw(1), raw(2), raw(3)}}
		res, err := s.Receive(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if res != (model.ReceiveResult{Inserted: 3}) {
			t.Fatalf("first receive = %+v", res)
		}
		// A retry of the same batch (the source crashed before it learnt
		// of the commit) stores nothing new.
		res, err = s.Receive(ctx, b)
		if err != nil || res != (model.ReceiveResult{Repeated: 3}) {
			t.Fatalf("retry = %+v, %v; want 3 repeated", res, err)
		}
		c, _ = s.SourceCursor(ctx, "feedback")
		var cur struct {
			LastUID int `json:"last_uid"`
		}
		if err := json.Unmarshal(c, &cur); err != nil || cur.LastUID != 3 {
			t.Fatalf("cursor not advanced: %s (%v)", c, err)
		}

		// The same message in the intel mailbox is a receipt, not an item.
		dup := raw(2)
		dup.Mailbox = "intel@example.test"
		dup.SourceKey = "9:1"
		res, err = s.Receive(ctx, model.Batch{Source: "intel", Items: []model.RawItem{dup}})
		if err != nil || res != (model.ReceiveResult{Linked: 1}) {
			t.Fatalf("second mailbox = %+v, %v; want 1 linked", res, err)
		}
		counts, err := s.StateCounts(ctx)
		if err != nil || counts[model.StateReceived] != 3 {
			t.Fatalf("items = %v, %v; want 3 received", counts, err)
		}
		it, err := s.Item(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if string(it.Raw) != string(raw(1).Raw) {
			t.Fatalf("raw bytes changed: %q", it.Raw)
		}
		src, err := s.Source(ctx, "intel")
		if err != nil || src.Items != 1 {
			t.Fatalf("intel source = %+v, %v", src, err)
		}
	})
}

// A batch with a bad item stores none of the batch and leaves the cursor.
func TestReceiveAtomic(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		s.EnsureSource(ctx, "feedback", "imap")
		bad := raw(2)
		bad.ContentHash = ""
		_, err := s.Receive(ctx, model.Batch{Source: "feedback", Cursor: `{"last_uid":2}`,
			Items: []model.RawItem{raw(1), bad}})
		if err == nil {
			t.Fatal("want an error for an item without a content hash")
		}
		counts, _ := s.StateCounts(ctx)
		c, _ := s.SourceCursor(ctx, "feedback")
		if len(counts) != 0 || string(c) != "{}" {
			t.Fatalf("after failed batch: items %v, cursor %s; want none and {}", counts, c)
		}
	})
}

func TestLeases(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		s.EnsureSource(ctx, "intel", "imap")
		got := func(holder string) bool {
			ok, err := s.AcquireLease(ctx, "intel", holder, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !got("a") {
			t.Fatal("a should take a free source")
		}
		if got("b") {
			t.Fatal("b must not take a source a holds")
		}
		if !got("a") {
			t.Fatal("a renews its own lease")
		}
		// a's batch goes through; b's is refused.
		if _, err := s.Receive(ctx, model.Batch{Source: "intel", Holder: "a", Items: []model.RawItem{raw(1)}}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Receive(ctx, model.Batch{Source: "intel", Holder: "b", Items: []model.RawItem{raw(2)}})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("receive by non-holder: %v; want ErrLeaseLost", err)
		}
		clk.Add(31 * time.Second)
		if !got("b") {
			t.Fatal("b takes the source after a's lease expired")
		}
		_, err = s.Receive(ctx, model.Batch{Source: "intel", Holder: "a", Items: []model.RawItem{raw(3)}})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("receive by expired holder: %v; want ErrLeaseLost", err)
		}
		if err := s.ReleaseLease(ctx, "intel", "b"); err != nil {
			t.Fatal(err)
		}
		if !got("c") {
			t.Fatal("c takes a released source at once")
		}
	})
}

// Every message of a batch comes back byte for byte, whatever its size and
// bytes, beside a message stored before and one that comes twice.
func TestReceiveKeepsEveryByte(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ensureSources(t, s, "feedback", "intel")
		rnd := rand.New(rand.NewPCG(1, 2))
		// Over 2 MB in all: the inserts split the batch (about 1 MB
		// each), and the message that comes twice is in two of them.
		sizes := []int{1, 2, 150_000, 3, 70_000, 40_000, 1, 99_999, 100_000, 900_000, 5, 64 << 10, 7, 1_100_000, 2}
		var items []model.RawItem
		for i, n := range sizes {
			b := make([]byte, n)
			for j := range b {
				b[j] = byte(rnd.UintN(256))
			}
			items = append(items, model.RawItem{
				SourceKey: fmt.Sprintf("7:%d", i+1), Kind: "email", Mailbox: "feedback@example.test",
				MessageID: fmt.Sprintf("m%d@example.test", i), ContentHash: fmt.Sprintf("h%d", i), Raw: b,
			})
		}
		// One message stored before, by the other mailbox.
		before := items[4]
		before.SourceKey, before.Mailbox = "9:1", "intel@example.test"
		if _, err := s.Receive(ctx, model.Batch{Source: "intel", Items: []model.RawItem{before}}); err != nil {
			t.Fatal(err)
		}
		// And one that comes twice in the batch.
		again := items[2]
		again.SourceKey = "7:99"
		batch := append(items[:len(items):len(items)], again)
		res, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: batch})
		if err != nil {
			t.Fatal(err)
		}
		if want := (model.ReceiveResult{Inserted: len(items) - 1, Linked: 2}); res != want {
			t.Fatalf("receive = %+v, want %+v", res, want)
		}
		want := map[string][]byte{}
		for _, it := range items {
			want[it.ContentHash] = it.Raw
		}
		for id := int64(1); len(want) > 0; id++ {
			if id > int64(3*len(items)) {
				t.Fatalf("items not found: %d left", len(want))
			}
			it, err := s.Item(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			raw, ok := want[it.ContentHash]
			if !ok {
				t.Fatalf("item %d: unexpected content %q", id, it.ContentHash)
			}
			delete(want, it.ContentHash)
			if it.RawSize != int64(len(raw)) || !bytes.Equal(it.Raw, raw) {
				t.Fatalf("item %d (%s): %d bytes back (size %d), want %d bytes as sent",
					id, it.ContentHash, len(it.Raw), it.RawSize, len(raw))
			}
		}
	})
}

// TestRelinkLocksInCompletionOrder checks, on PostgreSQL, that a batch
// linking stored items to a new mailbox locks them in id order, as
// completion locks its items: a completion holding the lower item and
// then asking for the higher one, while the batch links the higher one
// first, finishes, and so does the batch. Taken in delivery order, the
// batch held the higher item and waited for the lower: a deadlock that
// PostgreSQL broke by failing one of them.
func TestRelinkLocksInCompletionOrder(t *testing.T) {
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	ensureSources(t, s, "feedback", "intel")
	if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: []model.RawItem{raw(1), raw(2)}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Claim(ctx, "w", 2, time.Minute)
	if err != nil || len(claimed) != 2 || claimed[0].ID >= claimed[1].ID {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	low, high := claimed[0].ID, claimed[1].ID

	completion, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer completion.Rollback()
	if _, err := completion.ExecContext(ctx, `select id from items where id = $1 for update`, low); err != nil {
		t.Fatal(err)
	}
	// The same contents from the other mailbox, the higher item first.
	var again []model.RawItem
	for i, it := range []model.RawItem{raw(2), raw(1)} {
		it.SourceKey, it.Mailbox = fmt.Sprintf("8:%d", i+1), "intel@example.test"
		again = append(again, it)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Receive(ctx, model.Batch{Source: "intel", Items: again})
		done <- err
	}()
	awaitBlocked(t, s, completion, done)
	if _, err := completion.ExecContext(ctx, `select id from items where id = $1 for update`, high); err != nil {
		t.Fatalf("the completion, locking the higher item: %v", err)
	}
	if err := completion.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the batch linking both items: %v", err)
	}
	for _, id := range []int64{low, high} {
		it, err := s.Item(ctx, id)
		if err != nil || it.State != model.StateReceived || it.ClaimedBy != "" {
			t.Errorf("item %d = %s claimed by %q, %v; want received and unclaimed, to be processed again", id, it.State, it.ClaimedBy, err)
		}
	}
}
