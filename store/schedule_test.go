package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// schedItem receives one email at the store's clock and completes it with
// p; it returns the item's id.
func schedItem(t *testing.T, s *store.Store, key string, p model.Processed) int64 {
	t.Helper()
	ctx := context.Background()
	if err := s.EnsureSource(ctx, "sched", "imap"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(ctx, model.Batch{Source: "sched", Items: []model.RawItem{{SourceKey: key, Kind: "email",
		ContentHash: "sched-" + key, Raw: []byte("raw " + key)}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "sched-worker", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim %s: %v %v", key, got, err)
	}
	if p.Subject == "" {
		p.Subject = key
	}
	if err := s.Complete(ctx, got[0].ID, "sched-worker", p); err != nil {
		t.Fatal(err)
	}
	return got[0].ID
}

// assigned is a processed result routed to owners.
func assigned(owners ...string) model.Processed {
	p := model.Processed{Tags: []model.Tag{{Kind: "category", Value: "feedback"}}}
	for _, o := range owners {
		p.Assignments = append(p.Assignments, model.Assignment{Owner: o, Route: "test"})
	}
	return p
}

// scheduled returns the outbox rows that belong to no item, oldest first.
func scheduled(t *testing.T, s *store.Store) []model.OutboxMessage {
	t.Helper()
	var ids []int64
	if err := s.DB().Select(&ids, `select id from outbox where item_id is null order by id`); err != nil {
		t.Fatal(err)
	}
	out := make([]model.OutboxMessage, len(ids))
	for i, id := range ids {
		m, err := s.OutboxByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = m
	}
	return out
}

// composeList renders a message listing the item ids of the assignments.
func composeList(kind, to string, calls *int) store.Compose {
	return func(due []model.DueAssignment) (model.OutboxMessage, error) {
		*calls++
		var ids []int64
		for _, d := range due {
			ids = append(ids, d.ID)
		}
		return model.OutboxMessage{Kind: model.OutboxKind(kind), Channel: "email", Recipient: to, Subject: fmt.Sprint(ids),
			Body: []byte("items")}, nil
	}
}

func assignment(t *testing.T, s *store.Store, item int64, owner string) store.AssignmentState {
	t.Helper()
	as, err := s.ItemAssignments(context.Background(), item)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Owner == owner {
			return a
		}
	}
	t.Fatalf("item %d has no assignment to %s", item, owner)
	return store.AssignmentState{}
}

// A digest lists the owner's assignments nobody told them of: not those
// with an owner notice to the same address, nor triaged ones. A period
// runs once, even when it had nothing to say; the next period takes what
// arrived since.
func TestEnqueueDigestOncePerPeriod(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		waiting := schedItem(t, s, "waiting", model.Processed{Subject: "Billing is slow",
			Tags:        []model.Tag{{Kind: "product", Value: "Billing"}, {Kind: "category", Value: "feedback"}},
			Assignments: []model.Assignment{{Owner: "billing-pm"}, {Owner: "ci-lead"}}})
		noticed := assigned("billing-pm")
		noticed.Outbox = []model.OutboxMessage{{Kind: "owner_notice", Channel: "email", Recipient: "billing@example.test",
			Body: []byte("notice")}}
		told := schedItem(t, s, "noticed", noticed)
		triaged := schedItem(t, s, "triaged", assigned("billing-pm"))
		if _, err := s.TriageAssignments(ctx, []int64{triaged}, "", "kim"); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)

		calls := 0
		var got []model.DueAssignment
		run := store.DigestRun{Owner: "billing-pm", Email: "billing@example.test", Period: "2026-03-01"}
		n, err := s.EnqueueDigest(ctx, run, func(due []model.DueAssignment) (model.OutboxMessage, error) {
			got = due
			return composeList("digest", "billing@example.test", &calls)(due)
		})
		if err != nil || n != 1 || calls != 1 {
			t.Fatalf("first digest: %d items, %d renders, %v; want 1, 1", n, calls, err)
		}
		if got[0].ID != waiting || got[0].Owner != "billing-pm" || got[0].Subject != "Billing is slow" ||
			len(got[0].Tags) != 2 || got[0].Tags[1].Value != "Billing" || !got[0].AssignedAt.Equal(clk.Now().Add(-time.Minute)) {
			t.Errorf("digest got %+v", got[0])
		}
		if a := assignment(t, s, waiting, "billing-pm"); a.NotifiedAt.IsZero() || !a.NotifiedAt.Equal(clk.Now()) {
			t.Errorf("waiting item notified at %v; want %v", a.NotifiedAt, clk.Now())
		}
		for _, id := range []int64{told, triaged} {
			if a := assignment(t, s, id, "billing-pm"); !a.NotifiedAt.IsZero() {
				t.Errorf("item %d marked notified by a digest that left it out", id)
			}
		}
		if a := assignment(t, s, waiting, "ci-lead"); !a.NotifiedAt.IsZero() {
			t.Error("another owner's assignment was marked notified")
		}

		later := schedItem(t, s, "later", assigned("billing-pm"))
		if n, err := s.EnqueueDigest(ctx, run, composeList("digest", "billing@example.test", &calls)); err != nil || n != 0 || calls != 1 {
			t.Fatalf("same period again: %d items, %d renders, %v; want nothing", n, calls, err)
		}
		run.Period = "2026-03-02"
		if n, err := s.EnqueueDigest(ctx, run, composeList("digest", "billing@example.test", &calls)); err != nil || n != 1 {
			t.Fatalf("next period: %d items, %v; want 1", n, err)
		}
		rows := scheduled(t, s)
		want := []string{fmt.Sprint([]int64{waiting}), fmt.Sprint([]int64{later})}
		if len(rows) != 2 || rows[0].Subject != want[0] || rows[1].Subject != want[1] ||
			rows[0].Kind != "digest" || rows[0].State != model.OutboxPending || rows[0].ItemID != 0 {
			t.Errorf("outbox %+v; want digests of %v", rows, want)
		}
		run.Period = "2026-03-03"
		if n, err := s.EnqueueDigest(ctx, run, composeList("digest", "billing@example.test", &calls)); err != nil || n != 0 {
			t.Errorf("period with nothing new: %d, %v", n, err)
		}
		if ran, err := s.ScheduleRan(ctx, store.ScheduleDigest("billing-pm"), "2026-03-03"); err != nil || !ran {
			t.Errorf("an empty period is not recorded: %v %v", ran, err)
		}
	})
}

// A failed render enqueues nothing, marks nothing and does not record the
// period, so the next run tries again.
func TestEnqueueDigestRollsBack(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		id := schedItem(t, s, "one", assigned("ci-lead"))
		run := store.DigestRun{Owner: "ci-lead", Email: "ci@example.test", Period: "p"}
		boom := errors.New("template broke")
		_, err := s.EnqueueDigest(ctx, run, func([]model.DueAssignment) (model.OutboxMessage, error) {
			return model.OutboxMessage{}, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v; want the render's", err)
		}
		if a := assignment(t, s, id, "ci-lead"); !a.NotifiedAt.IsZero() || len(scheduled(t, s)) != 0 {
			t.Fatal("a failed digest left traces")
		}
		calls := 0
		if n, err := s.EnqueueDigest(ctx, run, composeList("digest", "ci@example.test", &calls)); err != nil || n != 1 {
			t.Fatalf("retry: %d, %v", n, err)
		}
	})
}

// An assignment past the SLA gets one reminder; triaged ones none, and
// overdue items of one owner share it.
func TestEnqueueReminderOnce(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		first := schedItem(t, s, "first", assigned("ci-lead"))
		clk.Add(time.Hour)
		second := schedItem(t, s, "second", assigned("ci-lead", "billing-pm"))
		triaged := schedItem(t, s, "triaged", assigned("ci-lead"))
		if _, err := s.TriageAssignments(ctx, []int64{triaged}, "ci-lead", "kim"); err != nil {
			t.Fatal(err)
		}
		sla := 24 * time.Hour
		calls := 0
		remind := func() int {
			t.Helper()
			n, err := s.EnqueueReminder(ctx, "ci-lead", clk.Now().Add(-sla), 0, composeList("reminder", "ci@example.test", &calls))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		clk.Add(sla - time.Hour - time.Second)
		if n := remind(); n != 0 {
			t.Fatalf("reminded of %d before the SLA", n)
		}
		clk.Add(time.Second)
		if n := remind(); n != 1 {
			t.Fatalf("at the SLA of the first item: reminded of %d; want 1", n)
		}
		clk.Add(2 * time.Hour)
		if n := remind(); n != 1 {
			t.Fatalf("past the second item's SLA: reminded of %d; want 1", n)
		}
		clk.Add(48 * time.Hour)
		if n := remind(); n != 0 || calls != 2 {
			t.Fatalf("reminded again: %d items, %d renders", n, calls)
		}
		rows := scheduled(t, s)
		if len(rows) != 2 || rows[0].Subject != fmt.Sprint([]int64{first}) || rows[1].Subject != fmt.Sprint([]int64{second}) ||
			rows[0].Kind != "reminder" {
			t.Errorf("outbox %+v", rows)
		}
		if a := assignment(t, s, triaged, "ci-lead"); !a.NotifiedAt.IsZero() {
			t.Error("triaged item touched")
		}
		if a := assignment(t, s, second, "billing-pm"); !a.NotifiedAt.IsZero() {
			t.Error("another owner's assignment touched")
		}
	})
}

// Several replicas running the same schedule at once enqueue each message
// once: the manager digest (schedule_runs), an owner digest and an SLA
// reminder (row locks).
func TestScheduleConcurrentReplicas(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		for i := range 5 {
			schedItem(t, s, fmt.Sprint("item", i), assigned("ci-lead"))
		}
		clk.Add(48 * time.Hour)
		const replicas = 6
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firsts, digested, reminded int
		var errs []error
		for range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				calls := 0
				first, err1 := s.EnqueueOnce(ctx, "manager-digest", "2026-02", []model.OutboxMessage{
					{Kind: "digest", Channel: "email", Recipient: "kim@example.test", Body: []byte("board")},
					{Kind: "digest", Channel: "email", Recipient: "lee@example.test", Body: []byte("board")},
				})
				d, err2 := s.EnqueueDigest(ctx, store.DigestRun{Owner: "ci-lead", Email: "ci@example.test", Period: "h"},
					composeList("digest", "ci@example.test", &calls))
				r, err3 := s.EnqueueReminder(ctx, "ci-lead", clk.Now().Add(-24*time.Hour), 2,
					composeList("reminder", "ci@example.test", &calls))
				mu.Lock()
				defer mu.Unlock()
				if first {
					firsts++
				}
				digested += d
				reminded += r
				errs = append(errs, err1, err2, err3)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if firsts != 1 || digested != 5 {
			t.Errorf("manager digest first %d times, digest held %d items; want 1, 5", firsts, digested)
		}
		kinds := map[string]int{}
		for _, m := range scheduled(t, s) {
			kinds[string(m.Kind)+" "+m.Recipient]++
		}
		want := map[string]int{"digest kim@example.test": 1, "digest lee@example.test": 1, "digest ci@example.test": 1}
		for k, n := range want {
			if kinds[k] != n {
				t.Errorf("%s enqueued %d times; want %d (all: %v)", k, kinds[k], n, kinds)
			}
		}
		// Reminders hold at most 2 items each, and a replica skips the
		// rows another holds: every item is reminded of exactly once,
		// whichever replica took it, now or at the next run.
		if later := remindLater(t, s, clk); reminded+later != 5 {
			t.Errorf("reminded of %d items at once and %d later; want 5 in all", reminded, later)
		}
		open, err := s.UntriagedAssignments(ctx, "ci-lead", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range open {
			if o.RemindedAt.IsZero() {
				t.Errorf("item %d not reminded", o.ItemID)
			}
		}
	})
}

// remindLater runs one more reminder and returns how many items it held.
func remindLater(t *testing.T, s *store.Store, clk *testenv.Clock) int {
	t.Helper()
	calls := 0
	n, err := s.EnqueueReminder(context.Background(), "ci-lead", clk.Now(), 0, composeList("reminder", "ci@example.test", &calls))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Triage marks each assignment once, by who triaged it, and the list of
// untriaged assignments shrinks accordingly.
func TestTriageAssignments(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		a := schedItem(t, s, "a", assigned("ci-lead", "billing-pm"))
		clk.Add(time.Minute)
		b := schedItem(t, s, "b", assigned("ci-lead"))
		open, err := s.UntriagedAssignments(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 3 || open[0].ItemID != a || open[2].ItemID != b || open[2].Subject != "b" || open[2].Kind != "email" {
			t.Fatalf("untriaged %+v", open)
		}
		cases := []struct {
			name   string
			items  []int64
			owner  string
			want   []store.Triaged
			remain int
		}{
			{"one owner of an item", []int64{a}, "billing-pm", []store.Triaged{{ItemID: a, Owner: "billing-pm"}}, 2},
			{"again marks nothing", []int64{a}, "billing-pm", nil, 2},
			{"every owner of several items", []int64{b, a, 999}, "", []store.Triaged{{ItemID: a, Owner: "ci-lead"}, {ItemID: b, Owner: "ci-lead"}}, 0},
		}
		for _, tc := range cases {
			got, err := s.TriageAssignments(ctx, tc.items, tc.owner, "kim")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: triaged %v; want %v", tc.name, got, tc.want)
			}
			open, err := s.UntriagedAssignments(ctx, "", 0)
			if err != nil || len(open) != tc.remain {
				t.Errorf("%s: %d untriaged, %v; want %d", tc.name, len(open), err, tc.remain)
			}
		}
		if st := assignment(t, s, a, "billing-pm"); st.TriagedBy != "kim" || st.TriagedAt.IsZero() {
			t.Errorf("triage state %+v", st)
		}
	})
}

// Notable intel is last month's intel, best paid first, without
// duplicates, machine mail, feedback or other months.
func TestNotableIntel(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		rep := importReps(t, s, "dana@example.test")[0]
		intel := func(key string, pts int, more func(*model.Processed)) int64 {
			p := model.Processed{RepID: rep, Tags: []model.Tag{{Kind: "category", Value: "intel"},
				{Kind: "competitor", Value: "Acme"}},
				Ledger: []model.LedgerEntry{{RepID: rep, Points: pts, Reason: "category:intel", Month: "2026-02"}}}
			if more != nil {
				more(&p)
			}
			return schedItem(t, s, key, p)
		}
		at := func(t time.Time) { clk.Add(t.Sub(clk.Now())) }
		at(time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC))
		intel("january", 9, nil)
		at(time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC))
		low := intel("low", 3, nil)
		high := intel("high", 7, nil)
		intel("auto", 9, func(p *model.Processed) { p.AutoReason = "auto-submitted" })
		dup := intel("dup", 9, nil)
		if _, err := s.DB().Exec(s.DB().Rebind(`update items set duplicate_of = ? where id = ?`), low, dup); err != nil {
			t.Fatal(err)
		}
		intel("feedback", 9, func(p *model.Processed) { p.Tags = []model.Tag{{Kind: "category", Value: "feedback"}} })
		at(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		intel("march", 9, nil)

		from, to := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		got, err := s.NotableIntel(ctx, from, to, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		if !slices.Equal(ids, []int64{high, low}) || len(got[0].Tags) != 2 || got[0].Subject != "high" {
			t.Errorf("notable %v (%+v); want %v", ids, got, []int64{high, low})
		}
		if got, _ := s.NotableIntel(ctx, from, to, 1); len(got) != 1 {
			t.Errorf("limit 1 gave %d", len(got))
		}
	})
}

// Runs are remembered for a while, then pruned.
func TestPruneScheduleRuns(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		if ok, err := s.EnqueueOnce(ctx, "manager-digest", "2026-01", nil); err != nil || !ok {
			t.Fatal(ok, err)
		}
		clk.Add(time.Hour)
		if ok, err := s.EnqueueOnce(ctx, "manager-digest", "2026-02", nil); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if n, err := s.PruneScheduleRuns(ctx, clk.Now().Add(-time.Minute)); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want 1", n, err)
		}
		for period, want := range map[string]bool{"2026-01": false, "2026-02": true} {
			if ran, err := s.ScheduleRan(ctx, "manager-digest", period); err != nil || ran != want {
				t.Errorf("%s ran = %v, %v; want %v", period, ran, err, want)
			}
		}
	})
}
