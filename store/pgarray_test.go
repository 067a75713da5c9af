package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/store"
)

// TestTextArrayRoundTrip sends text arrays in the binary array format and
// reads back each element as the server stored it: what a text literal
// would have to quote or escape, what it would read as null, and a long
// text, in order, empty arrays included.
func TestTextArrayRoundTrip(t *testing.T) {
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Now()))
	ctx := context.Background()
	long := strings.Repeat("Acme is cheaper, they said. ", 3000)
	for _, a := range [][]string{
		nil,
		{},
		{""},
		{"NULL", "null", `"quoted"`, `back\slash`, "{braces}", "a,b", " padded ", "tab\there", "line\r\nbreak"},
		{"Grüße", "日本語", "emoji 🎉", long, ""},
	} {
		var got []struct {
			T    *string `db:"t"`
			Dims *string `db:"dims"`
		}
		err := s.DB().SelectContext(ctx, &got, `select u.t, array_dims($1::text[]) as dims
			from unnest($1::text[]) with ordinality as u(t, n) order by u.n`, store.TextArray(a))
		if err != nil {
			t.Fatalf("%d elements: %v", len(a), err)
		}
		var back []string
		for i, g := range got {
			if g.T == nil {
				t.Fatalf("element %d came back null", i+1)
			}
			if want := fmt.Sprintf("[1:%d]", len(a)); g.Dims == nil || *g.Dims != want {
				t.Fatalf("dimensions %s; want %s", deref(g.Dims), want)
			}
			back = append(back, *g.T)
		}
		if !slices.Equal(back, a) {
			t.Errorf("sent %d elements %.80q, got %d back %.80q", len(a), a, len(back), back)
		}
		var n int
		if err := s.DB().GetContext(ctx, &n, `select cardinality($1::text[])`, store.TextArray(a)); err != nil || n != len(a) {
			t.Errorf("cardinality of %d elements: %d, %v", len(a), n, err)
		}
	}
}

// TestTextArrayRefusedWhereInvalid: text the server cannot store is
// refused with an error, as a text literal's would be, and the connection
// stays usable.
func TestTextArrayRefusedWhereInvalid(t *testing.T) {
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Now()))
	ctx := context.Background()
	for _, bad := range []string{"nul\x00byte", "bad \xff utf-8"} {
		var n int
		err := s.DB().GetContext(ctx, &n, `select cardinality($1::text[])`, store.TextArray([]string{"ok", bad}))
		if err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	var n int
	if err := s.DB().GetContext(ctx, &n, `select cardinality($1::text[])`, store.TextArray([]string{"ok"})); err != nil || n != 1 {
		t.Errorf("after the refusals: %d, %v", n, err)
	}
}

// TestOpenNeedsBinaryParameters: a PostgreSQL URL that turns binary
// parameters off is refused before anything is sent.
func TestOpenNeedsBinaryParameters(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://earshot@127.0.0.1:1/earshot?binary_parameters=no", nil)
	if err == nil || !strings.Contains(err.Error(), "binary_parameters=no") {
		t.Fatalf("open: %v; want a refusal of binary_parameters=no", err)
	}
}

// deref is *p, or "null".
func deref(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}
