package store

import (
	"bytes"
	"testing"
)

// An original is kept until each notice enqueued with it was claimed,
// the oldest go when the budget is spent, and one too large for the
// budget is never kept.
func TestOriginalsBudget(t *testing.T) {
	o := newOriginals(100)
	a, b, c := bytes.Repeat([]byte("a"), 25), bytes.Repeat([]byte("b"), 25), bytes.Repeat([]byte("c"), 25)
	o.keep(1, a)
	o.keep(1, a) // a second notice of item 1
	o.keep(2, b)
	if got, ok := o.take(1); !ok || !bytes.Equal(got, a) {
		t.Fatalf("take(1) = %q, %v", got, ok)
	}
	if _, ok := o.take(1); !ok {
		t.Fatal("item 1's second notice found nothing")
	}
	if _, ok := o.take(1); ok {
		t.Fatal("item 1 kept after both its notices were claimed")
	}
	if n, size := o.held(); n != 1 || size != 25 {
		t.Fatalf("held %d originals, %d bytes; want 1, 25", n, size)
	}
	o.keep(3, c)
	o.keep(4, c)
	o.keep(5, c) // the whole budget
	o.keep(8, c) // beyond it: 2, the oldest, goes
	if n, size := o.held(); n != 4 || size != 100 {
		t.Fatalf("held %d originals, %d bytes; want 4, 100", n, size)
	}
	if _, ok := o.take(2); ok {
		t.Fatal("the oldest original kept beyond the budget")
	}
	for _, id := range []int64{3, 4, 5, 8} {
		if got, ok := o.take(id); !ok || !bytes.Equal(got, c) {
			t.Fatalf("take(%d) = %q, %v", id, got, ok)
		}
	}
	o.keep(6, bytes.Repeat([]byte("d"), 26)) // over a quarter of the budget
	o.keep(7, nil)
	o.keep(0, a)
	if n, size := o.held(); n != 0 || size != 0 {
		t.Fatalf("held %d originals, %d bytes; want none", n, size)
	}
}
