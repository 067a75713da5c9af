package imap

import (
	"testing"

	goimap "github.com/emersion/go-imap/v2"
)

func TestPlanBatches(t *testing.T) {
	msgs := func(sizes ...int64) []meta {
		out := make([]meta, len(sizes))
		for i, s := range sizes {
			out[i] = meta{uid: goimap.UID(i + 1), size: s}
		}
		return out
	}
	lens := func(bs [][]meta) []int {
		var out []int
		for _, b := range bs {
			out = append(out, len(b))
		}
		return out
	}
	const mb = maxBatchBytes
	for _, tc := range []struct {
		name string
		msgs []meta
		size int
		max  int64
		want []int
	}{
		{"none", nil, 10, 1 << 20, nil},
		{"by count", msgs(1, 1, 1, 1, 1), 2, 1 << 20, []int{2, 2, 1}},
		{"by bytes", msgs(mb/2+1, mb/2, mb/4, mb/4, 1), 10, 50 << 20, []int{1, 3, 1}},
		{"oversized counts as header", msgs(mb/2, 200<<20, mb/2), 10, 50 << 20, []int{3}},
		{"one big message alone", msgs(1, 100<<20, 1), 10, 200 << 20, []int{1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lens(planBatches(tc.msgs, tc.size, tc.max))
			if len(got) != len(tc.want) {
				t.Fatalf("batches %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("batches %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestCursorJSON(t *testing.T) {
	for _, raw := range []string{"", "{}"} {
		c, err := parseCursor([]byte(raw))
		if err != nil || c != (Cursor{}) {
			t.Fatalf("parse %q: %+v, %v", raw, c, err)
		}
	}
	c := Cursor{UIDValidity: 1700000000, LastUID: 42}
	if c.String() != `{"uidvalidity":1700000000,"last_uid":42}` {
		t.Fatalf("encoded %s", c)
	}
	back, err := parseCursor([]byte(c.String()))
	if err != nil || back != c {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	if _, err := parseCursor([]byte(`{"last_uid":"x"}`)); err == nil {
		t.Fatal("a malformed cursor parsed")
	}
}
