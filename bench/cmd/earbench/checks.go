package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// check is one invariant, checked once.
type check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// checker collects invariant results.
type checker struct {
	checks []check
}

// add records an invariant; detail says what was measured.
func (c *checker) add(name string, ok bool, format string, args ...any) {
	d := fmt.Sprintf(format, args...)
	c.checks = append(c.checks, check{Name: name, OK: ok, Detail: d})
	if ok {
		slog.Info("check passed", "check", name, "detail", d)
	} else {
		slog.Error("check FAILED", "check", name, "detail", d)
	}
}

// equal records that got must equal want.
func (c *checker) equal(name string, got, want int64) {
	c.add(name, got == want, "got %d, want %d", got, want)
}

// counts returns how many checks passed and failed.
func (c *checker) counts() (passed, failed int) {
	for _, ch := range c.checks {
		if ch.OK {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// expected is what the database must hold once everything appended so
// far has been ingested, processed and acknowledged.
type expected struct {
	Items    int64 `json:"items"`
	Receipts int64 `json:"receipts"`
	Auto     int64 `json:"auto_replies"`
}

// checkTotals checks the invariants over the whole database against what
// was appended: one item per distinct message, one receipt per delivery,
// everything processed, one ack per item, every ack sent and delivered
// except the auto-replies' (suppressed), no pending or failed outbox
// rows, no ledger entry paid twice. Names are prefixed with label.
func checkTotals(ctx context.Context, c *checker, label string, obs *observer, snk *sink, exp expected) error {
	s, err := obs.Snapshot(ctx)
	if err != nil {
		return err
	}
	c.equal(label+": receipts = deliveries", s.Receipts, exp.Receipts)
	c.equal(label+": items = distinct messages", s.Items, exp.Items)
	dupItems, err := obs.count(ctx, `select count(*) from (select message_id from items
		group by message_id having count(*) > 1) d`)
	if err != nil {
		return err
	}
	c.equal(label+": no duplicate items (Message-ID)", dupItems, 0)
	c.equal(label+": every item processed", s.Processed, exp.Items)
	c.equal(label+": no item quarantined", s.Quarantined, 0)
	noAck, err := obs.count(ctx, `select count(*) from items i where not exists
		(select 1 from outbox o where o.item_id = i.id and o.kind = 'ack')`)
	if err != nil {
		return err
	}
	c.equal(label+": every item has an ack row", noAck, 0)
	c.equal(label+": one ack row per item", s.AckRows, exp.Items)
	c.equal(label+": acks suppressed = auto-replies", s.AcksSupp, exp.Auto)
	c.equal(label+": every other ack sent", s.AcksSent, exp.Items-exp.Auto)
	c.equal(label+": no outbox row pending", s.Pending, 0)
	c.equal(label+": no outbox row failed", s.Failed, 0)
	ids, err := obs.strings(ctx, `select provider_id from outbox where kind = 'ack' and state = 'sent'`)
	if err != nil {
		return err
	}
	missing := 0
	for _, id := range ids {
		if snk.Received(id) == 0 {
			missing++
		}
	}
	c.add(label+": every sent ack delivered to the sink", missing == 0, "%d of %d sent acks not seen at the sink", missing, len(ids))
	twice, err := obs.count(ctx, `select count(*) from (select item_id, reason from points_ledger
		where item_id is not null group by item_id, reason having count(*) > 1) d`)
	if err != nil {
		return err
	}
	c.equal(label+": no ledger entry paid twice", twice, 0)
	return nil
}

// printSummary writes the checks and the closing count line.
func (r *faultReport) printSummary(w io.Writer) {
	fmt.Fprintln(w, "earbench faults summary:")
	for _, ch := range r.Checks {
		mark := "ok  "
		if !ch.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s (%s)\n", mark, ch.Name, ch.Detail)
	}
	fmt.Fprintf(w, "  kills %d, duplicate ack deliveries %d, dovecot restart: daemon %s, postgres restart: daemon %s, lease takeover %.1fs (lease %.0fs)\n",
		len(r.Kill.Kills), r.DuplicateAcks, r.DovecotRestart.Daemon, r.PostgresRestart.Daemon,
		r.Replicas.TakeoverSeconds, r.Replicas.LeaseSeconds)
	fmt.Fprintf(w, "%d passed, %d failed\n", r.Passed, r.Failed)
}
