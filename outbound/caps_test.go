package outbound_test

import (
	"context"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
)

// counts answers the caps' query with fixed counts, and keeps the query.
type counts struct {
	c model.AckCounts
	q model.AckQuery
}

func (f *counts) AckCounts(ctx context.Context, q model.AckQuery) (model.AckCounts, error) {
	f.q = q
	return f.c, nil
}

// Each cap refuses the ack that would pass it, and counts what it should:
// the recipient folded, the domain only for senders outside the roster,
// every ack in the last hour.
func TestCaps(t *testing.T) {
	cfg := suppressConfig(3)
	cfg.Acks.HourlyCap, cfg.Acks.DomainDailyCap, cfg.Acks.PlusDomains = 10, 5, []string{"plus.test"}
	sup := outbound.NewSuppressor(cfg)
	now := time.Date(2026, 3, 3, 10, 0, 0, 0, cfg.Location)
	for _, c := range []struct {
		name   string
		in     outbound.Incoming
		counts model.AckCounts
		key    string
		want   string
	}{
		{"under every cap", outbound.Incoming{Recipient: "Dana@Example.test"}, model.AckCounts{Recipient: 2, Domain: 50, Hour: 9},
			"dana@example.test", ""},
		{"the recipient's daily cap", outbound.Incoming{Recipient: "dana@example.test"}, model.AckCounts{Recipient: 3},
			"dana@example.test", "daily cap of 3 acks reached"},
		{"a +tag folds where the domain takes them", outbound.Incoming{Recipient: "Ana+deals@plus.test"}, model.AckCounts{},
			"ana@plus.test", ""},
		{"and not elsewhere", outbound.Incoming{Recipient: "ana+deals@other.test"}, model.AckCounts{},
			"ana+deals@other.test", ""},
		{"every ack in the hour", outbound.Incoming{Recipient: "dana@example.test"}, model.AckCounts{Hour: 10},
			"dana@example.test", "hourly cap of 10 acks reached"},
		{"a domain's cap binds senders outside the roster", outbound.Incoming{Recipient: "x@partner.test", Outsider: true},
			model.AckCounts{Domain: 5}, "x@partner.test", "daily cap of 5 acks to partner.test reached"},
		{"but not reps", outbound.Incoming{Recipient: "x@example.test"}, model.AckCounts{Domain: 500},
			"x@example.test", ""},
		{"a mailbox open to anyone has its own hourly cap", outbound.Incoming{Recipient: "x@partner.test", Outsider: true, OpenHourlyCap: 4},
			model.AckCounts{OpenHour: 4}, "x@partner.test", "hourly cap of 4 acks to senders outside the roster reached"},
	} {
		f := &counts{c: c.counts}
		got, err := sup.Ack(context.Background(), f, c.in, now)
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.name, got, err, c.want)
		}
		if f.q.RecipientKey != c.key || !f.q.Day.Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, cfg.Location)) ||
			!f.q.Hour.Equal(now.Add(-time.Hour)) {
			t.Errorf("%s: asked %+v; want key %q, the day's start and an hour ago", c.name, f.q, c.key)
		}
		// Each count is bounded by its cap; the domain's is taken only for
		// senders outside the roster.
		upto := model.AckCounts{Recipient: 3, Hour: 10, OpenHour: c.in.OpenHourlyCap}
		if c.in.Outsider {
			upto.Domain = 5
		}
		if f.q.Upto != upto {
			t.Errorf("%s: counts bounded by %+v; want %+v", c.name, f.q.Upto, upto)
		}
	}
}
