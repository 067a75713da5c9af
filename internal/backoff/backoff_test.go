package backoff

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 10 * time.Second}
	// Each wait lies between half and all of the doubled step, capped.
	for i, ceil := range []time.Duration{1, 2, 4, 8, 10, 10, 10} {
		ceil *= time.Second
		if d := b.Next(); d < ceil/2 || d > ceil {
			t.Fatalf("attempt %d waits %v; want within [%v, %v]", i, d, ceil/2, ceil)
		}
	}
	b.Reset()
	if d := b.Next(); d > time.Second {
		t.Fatalf("after Reset the wait is %v; want at most Min", d)
	}
}
