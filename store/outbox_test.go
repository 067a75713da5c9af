package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

func ack(rcpt string) model.OutboxMessage {
	return model.OutboxMessage{Kind: "ack", Channel: "email", Recipient: rcpt, Subject: "Re: hi", Body: []byte("msg")}
}

func TestOutboxClaimSendFail(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		supp := ack("bot@example.test")
		supp.State, supp.Reason = model.OutboxSuppressed, "auto-generated (dsn)"
		item, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{
			ack("ana@example.test"), ack("bo@example.test"), ack("cy@example.test"), supp,
		}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimOutbox(ctx, "w1", 10, time.Minute)
		if err != nil || len(got) != 3 {
			t.Fatalf("claim = %d messages, %v; want the 3 pending ones", len(got), err)
		}
		if got[0].Attempts != 1 || got[0].ClaimedBy != "w1" || got[0].ItemID == 0 || string(got[0].Body) != "msg" {
			t.Errorf("claimed message = %+v", got[0])
		}
		if more, _ := s.ClaimOutbox(ctx, "w2", 10, time.Minute); len(more) != 0 {
			t.Fatalf("claimed messages were claimed again: %v", more)
		}

		// Sent: the provider id and time are kept.
		if err := s.MarkOutboxSent(ctx, got[0].ID, "queue-1"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkOutboxSent(ctx, got[0].ID, "queue-1"); !errors.Is(err, store.ErrNotClaimed) {
			t.Errorf("marking twice = %v, want ErrNotClaimed", err)
		}
		// A permanent failure is final, with the server's answer.
		st, err := s.FailOutbox(ctx, got[1].ID, "w1", errors.New("550 5.1.1 no such user"), true, 5)
		if err != nil || st != model.OutboxFailed {
			t.Fatalf("permanent failure: %q %v", st, err)
		}
		// A temporary failure retries after a backoff, until the limit.
		st, err = s.FailOutbox(ctx, got[2].ID, "w1", errors.New("451 try later"), false, 2)
		if err != nil || st != model.OutboxPending {
			t.Fatalf("temporary failure: %q %v", st, err)
		}
		if again, _ := s.ClaimOutbox(ctx, "w1", 10, time.Minute); len(again) != 0 {
			t.Fatalf("message due before its backoff: %v", again)
		}
		if _, err := s.FailOutbox(ctx, got[2].ID, "w1", errors.New("x"), false, 2); !errors.Is(err, store.ErrNotClaimed) {
			t.Errorf("failing an unclaimed message = %v, want ErrNotClaimed", err)
		}
		clk.Add(2 * time.Minute)
		again, _ := s.ClaimOutbox(ctx, "w2", 10, time.Minute)
		if len(again) != 1 || again[0].Attempts != 2 || again[0].LastError != "451 try later" {
			t.Fatalf("retry = %+v", again)
		}
		if st, _ := s.FailOutbox(ctx, again[0].ID, "w2", errors.New("451 still"), false, 2); st != model.OutboxFailed {
			t.Errorf("failure at the attempt limit = %q, want failed", st)
		}

		msgs, err := s.ItemOutbox(ctx, item)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ state, rcpt, detail string }{
			{"sent", "ana@example.test", "queue-1"},
			{"failed", "bo@example.test", "550 5.1.1 no such user"},
			{"failed", "cy@example.test", "451 still"},
			{"suppressed", "bot@example.test", "auto-generated (dsn)"},
		}
		for i, w := range want {
			m := msgs[i]
			detail := m.LastError + m.ProviderID + m.Reason
			if string(m.State) != w.state || m.Recipient != w.rcpt || detail != w.detail {
				t.Errorf("message %d = %s to %s (%q), want %s to %s (%q)", i, m.State, m.Recipient, detail, w.state, w.rcpt, w.detail)
			}
		}
		if msgs[0].SentAt.IsZero() || !msgs[1].SentAt.IsZero() {
			t.Errorf("sent_at = %v, %v; want set only when sent", msgs[0].SentAt, msgs[1].SentAt)
		}
	})
}

func TestOutboxLeaseExpiry(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("ana@example.test")}}); err != nil {
			t.Fatal(err)
		}
		first, _ := s.ClaimOutbox(ctx, "dead", 1, time.Minute)
		if len(first) != 1 {
			t.Fatal("nothing claimed")
		}
		// The worker died after sending: the message is sent again once
		// its lease ends, never skipped.
		clk.Add(61 * time.Second)
		second, _ := s.ClaimOutbox(ctx, "alive", 1, time.Minute)
		if len(second) != 1 || second[0].ID != first[0].ID || second[0].Attempts != 2 {
			t.Fatalf("after the lease = %+v", second)
		}
		if err := s.MarkOutboxSent(ctx, second[0].ID, "id-2"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOutboxEnqueueOnce(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		item, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("ana@example.test")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reprocess(ctx, []int64{item}); err != nil {
			t.Fatal(err)
		}
		second := ack("ana@example.test")
		second.Subject = "changed"
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{second}}); err != nil {
			t.Fatal(err)
		}
		msgs, _ := s.ItemOutbox(ctx, item)
		if len(msgs) != 1 || msgs[0].Subject != "Re: hi" {
			t.Errorf("after reprocessing = %+v; want the first ack only", msgs)
		}
		if m, err := s.OutboxByID(ctx, msgs[0].ID); err != nil || m.Recipient != "ana@example.test" {
			t.Errorf("by id = %+v %v", m, err)
		}
	})
}

// The caps count acks by folded recipient and by domain since the day
// began, and all acks and those to senders outside the roster in the
// last hour; suppressed acks and other messages do not count. Each count
// stops at its bound, and a count without one is not taken.
func TestAckCounts(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 4)
		start := clk.Now()
		supp := ack("ana@example.test")
		supp.State, supp.Reason = model.OutboxSuppressed, "daily cap of 20 acks reached"
		notice := model.OutboxMessage{Kind: "owner_notice", Channel: "email", Recipient: "ana@example.test", Body: []byte("n")}
		plussed := ack("Ana+deals@Example.test")
		plussed.RecipientKey = "ana@example.test"
		for _, p := range []model.Processed{
			{Outbox: []model.OutboxMessage{ack("ana@example.test")}},
			{Outbox: []model.OutboxMessage{plussed, notice}},
			{Outbox: []model.OutboxMessage{supp}},
			{Trust: model.TrustOpen, Outbox: []model.OutboxMessage{ack("bo@other.test")}},
		} {
			if _, err := completeNext(t, s, p); err != nil {
				t.Fatal(err)
			}
			clk.Add(20 * time.Minute)
		}
		cases := []struct {
			name string
			q    model.AckQuery
			want model.AckCounts
		}{
			{"the day: ana's two acks (one to a +tag), the domain's, every one in the hour",
				model.AckQuery{RecipientKey: "ana@example.test", Domain: "example.test", Day: start, Hour: start},
				model.AckCounts{Recipient: 2, Domain: 2, Hour: 3, OpenHour: 1}},
			{"the last hour holds only the ack to a sender outside the roster",
				model.AckQuery{RecipientKey: "ana@example.test", Domain: "other.test", Day: start, Hour: start.Add(time.Hour)},
				model.AckCounts{Recipient: 2, Domain: 1, Hour: 1, OpenHour: 1}},
			{"a later day counts nothing of before",
				model.AckQuery{RecipientKey: "ana@example.test", Domain: "example.test", Day: start.Add(24 * time.Hour), Hour: start.Add(24 * time.Hour)},
				model.AckCounts{}},
			{"each count stops at its bound",
				model.AckQuery{RecipientKey: "ana@example.test", Domain: "example.test", Day: start, Hour: start,
					Upto: model.AckCounts{Recipient: 1, Domain: 1, Hour: 2, OpenHour: 1}},
				model.AckCounts{Recipient: 1, Domain: 1, Hour: 2, OpenHour: 1}},
			{"and a count without a bound is not taken",
				model.AckQuery{RecipientKey: "ana@example.test", Domain: "example.test", Day: start, Hour: start,
					Upto: model.AckCounts{Hour: 100}},
				model.AckCounts{Hour: 3}},
		}
		for _, c := range cases {
			if c.q.Upto == (model.AckCounts{}) {
				c.q.Upto = model.AckCounts{Recipient: 100, Domain: 100, Hour: 100, OpenHour: 100}
			}
			if got, err := s.AckCounts(ctx, c.q); err != nil || got != c.want {
				t.Errorf("%s: %+v %v, want %+v", c.name, got, err, c.want)
			}
			// A batch's reads answer the same, for what they were read.
			w := &store.AckWindow{Keys: []string{"bo@other.test", c.q.RecipientKey}, Domains: []string{c.q.Domain},
				Day: c.q.Day, Hour: c.q.Hour}
			reads, err := s.ReadAwards(ctx, "2026-03", nil, start, nil, w)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := reads.AckCounts(c.q); !ok || got != c.want {
				t.Errorf("%s, read for a batch: %+v %v, want %+v", c.name, got, ok, c.want)
			}
		}
		reads, err := s.ReadAwards(ctx, "2026-03", nil, start, nil,
			&store.AckWindow{Keys: []string{"ana@example.test"}, Domains: []string{"example.test"}, Day: start, Hour: start})
		if err != nil {
			t.Fatal(err)
		}
		all := model.AckCounts{Recipient: 100, Domain: 100, Hour: 100, OpenHour: 100}
		for _, q := range []struct {
			why string
			q   model.AckQuery
		}{
			{"a recipient not read", model.AckQuery{RecipientKey: "cy@example.test", Domain: "example.test", Day: start, Hour: start, Upto: all}},
			{"a domain not read", model.AckQuery{RecipientKey: "ana@example.test", Domain: "other.test", Day: start, Hour: start, Upto: all}},
			{"another day", model.AckQuery{RecipientKey: "ana@example.test", Domain: "example.test", Day: start.Add(24 * time.Hour), Hour: start, Upto: all}},
			{"another minute", model.AckQuery{RecipientKey: "ana@example.test", Domain: "example.test", Day: start, Hour: start.Add(time.Minute), Upto: all}},
		} {
			if got, ok := reads.AckCounts(q.q); ok {
				t.Errorf("%s: read for a batch answered %+v; want the store asked", q.why, got)
			}
		}
		if got, ok := reads.AckCounts(model.AckQuery{RecipientKey: "cy@example.test", Domain: "other.test", Day: start, Hour: start,
			Upto: model.AckCounts{Hour: 100}}); !ok || got != (model.AckCounts{Hour: 3}) {
			t.Errorf("a recipient the question does not count: %+v %v, want the hour's 3 acks", got, ok)
		}
	})
}

func TestOutboxConcurrentWorkers(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		var msgs []model.OutboxMessage
		for i := range 60 {
			msgs = append(msgs, ack(fmt.Sprintf("r%d@example.test", i)))
		}
		if _, err := completeNext(t, s, model.Processed{Outbox: msgs}); err != nil {
			t.Fatal(err)
		}
		var (
			mu   sync.Mutex
			seen = map[int64]string{}
			wg   sync.WaitGroup
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("w%d", w)
				for {
					got, err := s.ClaimOutbox(ctx, name, 5, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, m := range got {
						if prev, dup := seen[m.ID]; dup {
							t.Errorf("message %d claimed by %s and %s", m.ID, prev, name)
						}
						seen[m.ID] = name
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != 60 {
			t.Errorf("claimed %d messages, want 60", len(seen))
		}
	})
}

// A batch of messages is marked sent in one call, each with its
// provider's id; a message sent already keeps its first mark.
func TestOutboxMarkSentBatch(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		item, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{
			ack("ana@example.test"), ack("bo@example.test"), ack("cy@example.test")}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimOutbox(ctx, "w1", 10, time.Minute)
		if err != nil || len(got) != 3 {
			t.Fatalf("claim = %d messages, %v", len(got), err)
		}
		if err := s.MarkOutboxSent(ctx, got[0].ID, "first"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkOutboxSentBatch(ctx, []model.SentMessage{{ID: got[0].ID, ProviderID: "again"},
			{ID: got[1].ID, ProviderID: "id-b"}, {ID: got[2].ID, ProviderID: "id-c"}}); err != nil {
			t.Fatal(err)
		}
		msgs, err := s.ItemOutbox(ctx, item)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"ana@example.test": "first", "bo@example.test": "id-b", "cy@example.test": "id-c"}
		for _, m := range msgs {
			if m.State != model.OutboxSent || m.ProviderID != want[m.Recipient] || m.SentAt.IsZero() || m.ClaimedBy != "" {
				t.Errorf("%s: %s %q sent at %v claimed by %q; want sent with %q", m.Recipient, m.State, m.ProviderID,
					m.SentAt, m.ClaimedBy, want[m.Recipient])
			}
		}
	})
}

// The hourly counts sum the ack tally: in whole minutes, so the acks of
// the minute the hour starts in count whole (a cap holds back early, never
// late); an ack enqueued again by reprocessing counts once, a suppressed
// ack counts when it may go out, and the minutes no cap reads any more
// are deleted.
func TestAckCountsHourTally(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 3) // more later: reprocessed items must be the next claimed
		clk.Set(time.Date(2026, 3, 2, 9, 0, 20, 0, time.UTC))
		start := clk.Now()
		hour := func(since time.Time) model.AckCounts {
			t.Helper()
			c, err := s.AckCounts(ctx, model.AckQuery{Hour: since, Upto: model.AckCounts{Hour: 1000, OpenHour: 1000}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		// 9:00:20 and 9:00:40, then 9:05:40 to a sender outside the roster.
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("a@example.test")}}); err != nil {
			t.Fatal(err)
		}
		clk.Add(20 * time.Second)
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("b@example.test")}}); err != nil {
			t.Fatal(err)
		}
		clk.Add(5 * time.Minute)
		open, err := completeNext(t, s, model.Processed{Trust: model.TrustOpen,
			Outbox: []model.OutboxMessage{ack("c@other.test")}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := hour(start), (model.AckCounts{Hour: 3, OpenHour: 1}); got != want {
			t.Errorf("since 9:00:20 = %+v; want %+v", got, want)
		}
		if got, want := hour(start.Add(30*time.Second)), (model.AckCounts{Hour: 3, OpenHour: 1}); got != want {
			t.Errorf("since 9:00:50 = %+v; want %+v (the whole minute of 9:00)", got, want)
		}
		if got, want := hour(start.Add(40*time.Second)), (model.AckCounts{Hour: 1, OpenHour: 1}); got != want {
			t.Errorf("since 9:01:00 = %+v; want %+v", got, want)
		}
		if got, want := hour(start.Add(6*time.Minute)), (model.AckCounts{}); got != want {
			t.Errorf("since 9:06:20 = %+v; want %+v", got, want)
		}

		// Reprocessed, the open item enqueues its ack again: kept once.
		if _, err := s.Reprocess(ctx, []int64{open}); err != nil {
			t.Fatal(err)
		}
		if _, err := completeNext(t, s, model.Processed{Trust: model.TrustOpen,
			Outbox: []model.OutboxMessage{ack("c@other.test")}}); err != nil {
			t.Fatal(err)
		}
		// A suppressed ack counts once a manager's credit lets it go out.
		receive(t, s, 3, 4)
		supp := ack("d@example.test")
		supp.State, supp.Reason = model.OutboxSuppressed, "daily cap of 20 acks reached"
		credited, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{supp}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := hour(start), (model.AckCounts{Hour: 3, OpenHour: 1}); got != want {
			t.Errorf("after reprocessing and a suppressed ack = %+v; want %+v", got, want)
		}
		if _, err := s.Reprocess(ctx, []int64{credited}); err != nil {
			t.Fatal(err)
		}
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("d@example.test")}}); err != nil {
			t.Fatal(err)
		}
		if got, want := hour(start), (model.AckCounts{Hour: 4, OpenHour: 1}); got != want {
			t.Errorf("after the credit = %+v; want %+v", got, want)
		}

		// Twenty items in one minute, each its own completion: whatever
		// rows of the minute they add to, the sum holds them all.
		receive(t, s, 4, 25)
		for range 20 {
			if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("e@example.test")}}); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := hour(start), (model.AckCounts{Hour: 24, OpenHour: 1}); got != want {
			t.Errorf("after twenty more = %+v; want %+v", got, want)
		}

		// Three hours on, the next ack's completion deletes what no cap reads.
		clk.Add(3 * time.Hour)
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("f@example.test")}}); err != nil {
			t.Fatal(err)
		}
		if got, want := hour(clk.Now().Add(-time.Hour)), (model.AckCounts{Hour: 1}); got != want {
			t.Errorf("three hours on = %+v; want %+v", got, want)
		}
		var old int
		if err := s.DB().GetContext(ctx, &old, s.DB().Rebind(`select count(*) from ack_tally where minute < ?`),
			clk.Now().Add(-2*time.Hour).Unix()/60); err != nil || old != 0 {
			t.Errorf("minutes older than two hours kept: %d %v", old, err)
		}
	})
}

// receive stores the raw items from to to-1 (raw), as seed does from 0.
func receive(t *testing.T, s *store.Store, from, to int) {
	t.Helper()
	var items []model.RawItem
	for i := from; i < to; i++ {
		items = append(items, raw(i))
	}
	if _, err := s.Receive(context.Background(), model.Batch{Source: "feedback", Items: items}); err != nil {
		t.Fatal(err)
	}
}

// The migrations that bring the ack tallies fill them from the acks
// already in the outbox: an upgrade in a busy day keeps the caps.
func TestAckTallyMigration(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 3)
		clk.Set(time.Now().Add(-30 * time.Minute)) // the migration reads the database's clock
		supp := ack("c@example.test")
		supp.State = model.OutboxSuppressed
		for _, p := range []model.Processed{
			{Outbox: []model.OutboxMessage{ack("a@example.test")}},
			{Trust: model.TrustOpen, Outbox: []model.OutboxMessage{ack("b@other.test")}},
			{Outbox: []model.OutboxMessage{supp}},
		} {
			if _, err := completeNext(t, s, p); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Minute)
		}
		q := model.AckQuery{RecipientKey: "a@example.test", Domain: "example.test", Day: time.Now().Add(-24 * time.Hour),
			Hour: time.Now().Add(-time.Hour), Upto: model.AckCounts{Recipient: 100, Domain: 100, Hour: 100, OpenHour: 100}}
		want := model.AckCounts{Recipient: 1, Domain: 1, Hour: 2, OpenHour: 1}
		if got, err := s.AckCounts(ctx, q); err != nil || got != want {
			t.Fatalf("before = %+v %v; want %+v", got, err, want)
		}
		if err := store.MigrateDownTo(ctx, s, 13); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := s.AckCounts(ctx, q); err != nil || got != want {
			t.Errorf("after the migration = %+v %v; want %+v", got, err, want)
		}
	})
}

// The daily counts sum the day tally in quarters of an hour, which divide
// every zone's midnight: a day that starts at 18:15 UTC (Nepal's) counts
// the ack of 18:20 and not the one of 18:10. An ack enqueued again by
// reprocessing counts once, a domain's acks from many completions all
// count, and the quarters no cap reads any more are deleted.
func TestAckCountsDayTally(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 2)
		day := time.Date(2026, 3, 2, 18, 15, 0, 0, time.UTC)
		today := func(key, domain string) model.AckCounts {
			t.Helper()
			c, err := s.AckCounts(ctx, model.AckQuery{RecipientKey: key, Domain: domain, Day: day,
				Upto: model.AckCounts{Recipient: 1000, Domain: 1000}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		clk.Set(day.Add(-5 * time.Minute))
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("ana@example.test")}}); err != nil {
			t.Fatal(err)
		}
		clk.Set(day.Add(5 * time.Minute))
		second, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("ana@example.test")}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := today("ana@example.test", "example.test"), (model.AckCounts{Recipient: 1, Domain: 1}); got != want {
			t.Errorf("since 18:15 = %+v; want %+v", got, want)
		}
		if _, err := s.Reprocess(ctx, []int64{second}); err != nil {
			t.Fatal(err)
		}
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("ana@example.test")}}); err != nil {
			t.Fatal(err)
		}
		receive(t, s, 2, 22)
		for i := range 20 {
			if _, err := completeNext(t, s, model.Processed{
				Outbox: []model.OutboxMessage{ack(fmt.Sprintf("rep%d@example.test", i%4))}}); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := today("ana@example.test", "example.test"), (model.AckCounts{Recipient: 1, Domain: 21}); got != want {
			t.Errorf("after reprocessing and twenty more = %+v; want %+v", got, want)
		}
		if got, want := today("rep1@example.test", "other.test"), (model.AckCounts{Recipient: 5}); got != want {
			t.Errorf("rep1 = %+v; want %+v", got, want)
		}

		// Three days on, the next ack's completion deletes what no cap reads.
		clk.Add(72 * time.Hour)
		receive(t, s, 22, 23)
		if _, err := completeNext(t, s, model.Processed{Outbox: []model.OutboxMessage{ack("bo@example.test")}}); err != nil {
			t.Fatal(err)
		}
		var old int
		if err := s.DB().GetContext(ctx, &old, s.DB().Rebind(`select count(*) from ack_day_tally where quarter < ?`),
			clk.Now().Add(-48*time.Hour).Unix()/900); err != nil || old != 0 {
			t.Errorf("quarters older than two days kept: %d %v", old, err)
		}
	})
}

// A claimed owner notice carries its item's raw message, byte for byte,
// to splice in: for small items, one larger than a claim reads inline,
// an empty one, and an item several notices share; other messages carry
// nothing.
func TestClaimOutboxLoadsOriginals(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		s.EnsureSource(ctx, "feedback", "imap")
		sizes := []int{40, 0, store.InlineRaw + 1, 3000}
		var items []model.RawItem
		for i, n := range sizes {
			it := raw(i)
			it.Raw = make([]byte, n)
			for j := range it.Raw {
				it.Raw[j] = byte(j*7 + i)
			}
			items = append(items, it)
		}
		if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: items}); err != nil {
			t.Fatal(err)
		}
		want := map[int64][]byte{}
		for i := range sizes {
			notice := func(to string) model.OutboxMessage {
				return model.OutboxMessage{Kind: "owner_notice", Channel: "email", Recipient: to,
					Body: []byte("head\r\n\r\ntail"), Original: model.Deferred{At: 6, Encoding: "8bit"}}
			}
			msgs := []model.OutboxMessage{ack(fmt.Sprintf("rep%d@example.test", i)), notice("pm@example.test")}
			if i == 0 {
				msgs = append(msgs, notice("ci@example.test"))
			}
			id, err := completeNext(t, s, model.Processed{Outbox: msgs})
			if err != nil {
				t.Fatal(err)
			}
			want[id] = items[i].Raw
		}
		got, err := s.ClaimOutbox(ctx, "w1", 20, time.Minute)
		if err != nil || len(got) != 2*len(sizes)+1 {
			t.Fatalf("claim = %d messages, %v; want %d", len(got), err, 2*len(sizes)+1)
		}
		notices := 0
		for _, m := range got {
			if m.Kind != "owner_notice" {
				if m.Original.At != 0 || m.Original.Data != nil {
					t.Errorf("%s carries an original: %+v", m.Kind, m.Original)
				}
				continue
			}
			notices++
			if m.Original.At != 6 || m.Original.Encoding != "8bit" || !bytes.Equal(m.Original.Data, want[m.ItemID]) {
				t.Errorf("notice for item %d: original at %d (%s), %d bytes; want the item's %d bytes",
					m.ItemID, m.Original.At, m.Original.Encoding, len(m.Original.Data), len(want[m.ItemID]))
			}
		}
		if notices != len(sizes)+1 {
			t.Errorf("%d notices claimed, want %d", notices, len(sizes)+1)
		}
	})
}

// A store hands its outbox claims the originals that the notices it
// enqueued carried, without reading them back: here the items' stored
// bytes are changed behind its back, and its claim still splices what
// the notices were enqueued with. Another replica's claim reads the
// items. Nothing stays held once every notice was claimed.
func TestClaimOutboxKeptOriginals(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		s, replica := open(t, url, clk), open(t, url, clk)
		ctx := context.Background()
		s.EnsureSource(ctx, "feedback", "imap")
		receive(t, s, 0, 3)
		notice := func(to string, orig []byte) model.OutboxMessage {
			return model.OutboxMessage{Kind: "owner_notice", Channel: "email", Recipient: to,
				Body: []byte("head\r\n\r\ntail"), Original: model.Deferred{At: 6, Encoding: "8bit", Data: orig}}
		}
		enqueued := map[int64][]byte{}
		for i := range 3 {
			orig := raw(i).Raw
			msgs := []model.OutboxMessage{ack(fmt.Sprintf("rep%d@example.test", i)), notice("pm@example.test", orig)}
			if i == 0 {
				msgs = append(msgs, notice("ci@example.test", orig))
			}
			id, err := completeNext(t, s, model.Processed{Outbox: msgs})
			if err != nil {
				t.Fatal(err)
			}
			enqueued[id] = orig
		}
		if n, _ := store.OriginalsHeld(s); n != 3 {
			t.Fatalf("%d originals held after enqueueing, want 3", n)
		}
		if _, err := s.DB().ExecContext(ctx, `update items set raw = `+s.DB().Rebind(`?`), []byte("changed")); err != nil {
			t.Fatal(err)
		}
		// The replica claims the last item's notice first, then this
		// store the rest.
		var last int64
		for id := range enqueued {
			last = max(last, id)
		}
		if _, err := s.DB().ExecContext(ctx, s.DB().Rebind(`update outbox set next_attempt_at = ? where item_id <> ?`),
			clk.Now().Add(time.Minute), last); err != nil {
			t.Fatal(err)
		}
		check := func(name string, got []model.OutboxMessage, fromMemory bool) (notices int) {
			t.Helper()
			for _, m := range got {
				if m.Kind != "owner_notice" {
					continue
				}
				notices++
				want := []byte("changed")
				if fromMemory {
					want = enqueued[m.ItemID]
				}
				if !bytes.Equal(m.Original.Data, want) {
					t.Errorf("%s: notice for item %d spliced %q, want %q", name, m.ItemID, m.Original.Data, want)
				}
			}
			return notices
		}
		got, err := replica.ClaimOutbox(ctx, "w2", 20, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if n := check("replica", got, false); n != 1 {
			t.Errorf("replica claimed %d notices, want 1", n)
		}
		clk.Add(2 * time.Minute)
		got, err = s.ClaimOutbox(ctx, "w1", 20, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if n := check("store", got, true); n != 3 {
			t.Errorf("store claimed %d notices, want 3", n)
		}
		// The last item's original went unclaimed here: it stays
		// until the budget lets it go.
		if n, size := store.OriginalsHeld(s); n != 1 || size != len(enqueued[last]) {
			t.Errorf("%d originals (%d bytes) held after the claims, want the last item's", n, size)
		}
	})
}

// A message is stored byte for byte, whatever its bytes and text: every
// byte value, a body that reads as bytea's hex input, and subjects that a
// text or array literal would have to quote or escape.
func TestOutboxKeepsBytes(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		every := make([]byte, 256)
		for i := range every {
			every[i] = byte(i)
		}
		bodies := [][]byte{every, []byte(`\x414243`), []byte(`a\\b"c{d},e NULL`), {}}
		texts := []string{`"quoted", {braced}`, `back\slash`, "NULL", ""}
		var msgs []model.OutboxMessage
		for i, b := range bodies {
			m := ack(fmt.Sprintf("rep%d@example.test", i))
			m.Body, m.Subject = b, texts[i]
			msgs = append(msgs, m)
		}
		if _, err := completeNext(t, s, model.Processed{Outbox: msgs}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimOutbox(ctx, "w1", 10, time.Minute)
		if err != nil || len(got) != len(msgs) {
			t.Fatalf("claim = %d messages, %v; want %d", len(got), err, len(msgs))
		}
		byRecipient := map[string]model.OutboxMessage{}
		for _, m := range got {
			byRecipient[m.Recipient] = m
		}
		for _, want := range msgs {
			m := byRecipient[want.Recipient]
			if !bytes.Equal(m.Body, want.Body) || m.Subject != want.Subject {
				t.Errorf("%s: stored body %q, subject %q; want %q, %q", want.Recipient, m.Body, m.Subject, want.Body, want.Subject)
			}
		}
	})
}
