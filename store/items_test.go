package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

func seed(t *testing.T, s *store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	s.EnsureSource(ctx, "feedback", "imap")
	for start := 0; start < n; start += 500 {
		var items []model.RawItem
		for i := start; i < min(n, start+500); i++ {
			items = append(items, raw(i))
		}
		if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: items}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClaimCompleteFail(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 3)
		got, err := s.Claim(ctx, "w1", 2, time.Minute)
		if err != nil || len(got) != 2 {
			t.Fatalf("claim = %d items, %v; want 2", len(got), err)
		}
		if got[0].Attempts != 1 || got[0].ClaimedBy != "w1" {
			t.Fatalf("claimed item = %+v", got[0])
		}
		// The third is still due; the claimed two are not.
		more, _ := s.Claim(ctx, "w2", 10, time.Minute)
		if len(more) != 1 || more[0].ID != 3 {
			t.Fatalf("second claim = %v; want only item 3", more)
		}
		if err := s.Complete(ctx, got[0].ID, "w1", model.Processed{Subject: "hi", RepID: 0, Warnings: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, got[0].ID, "w1", model.Processed{}); !errors.Is(err, store.ErrNotClaimed) {
			t.Fatalf("completing twice: %v; want ErrNotClaimed", err)
		}
		// A failure makes the item due after a backoff; after the limit it
		// is quarantined with its error kept.
		id := got[1].ID
		q, err := s.Fail(ctx, id, "w1", errors.New("tagging failed: boom"), 2)
		if err != nil || q {
			t.Fatalf("first failure: quarantined=%v err=%v", q, err)
		}
		if again, _ := s.Claim(ctx, "w1", 10, time.Minute); len(again) != 0 {
			t.Fatalf("item due before its backoff: %v", again)
		}
		clk.Add(2 * time.Hour)
		again, _ := s.Claim(ctx, "w1", 10, time.Minute)
		if len(again) != 2 { // item 2 after backoff, item 3 after its lease ran out
			t.Fatalf("after backoff and lease expiry: %d items; want 2", len(again))
		}
		for _, it := range again {
			if it.ID != id {
				continue
			}
			q, err = s.Fail(ctx, id, "w1", errors.New("tagging failed again"), 2)
			if err != nil || !q {
				t.Fatalf("second failure: quarantined=%v err=%v", q, err)
			}
		}
		it, _ := s.Item(ctx, id)
		if it.State != model.StateQuarantined || it.LastError != "tagging failed again" || it.Attempts != 2 {
			t.Fatalf("quarantined item = state %s attempts %d error %q", it.State, it.Attempts, it.LastError)
		}
		n, err := s.Reprocess(ctx, nil)
		if err != nil || n != 1 {
			t.Fatalf("reprocess = %d, %v", n, err)
		}
		it, _ = s.Item(ctx, id)
		if it.State != model.StateReceived || it.Attempts != 0 {
			t.Fatalf("reprocessed item = %s/%d", it.State, it.Attempts)
		}
	})
}

// Eight workers claim 1,000 items concurrently, 25 at a time; every item
// is processed exactly once.
func TestConcurrentWorkers(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		const items, workers = 1000, 8
		seed(t, s, items)
		ctx := context.Background()
		var (
			mu    sync.Mutex
			seen  = map[int64]string{}
			dupes []string
			wg    sync.WaitGroup
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("w%d", w)
				for {
					batch, err := s.Claim(ctx, name, 25, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if len(batch) == 0 {
						return
					}
					for _, it := range batch {
						mu.Lock()
						if prev, ok := seen[it.ID]; ok {
							dupes = append(dupes, fmt.Sprintf("item %d by %s and %s", it.ID, prev, name))
						}
						seen[it.ID] = name
						mu.Unlock()
						if err := s.Complete(ctx, it.ID, name, model.Processed{Subject: name}); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		if len(dupes) > 0 {
			t.Fatalf("%d items claimed twice, e.g. %s", len(dupes), dupes[0])
		}
		counts, _ := s.StateCounts(ctx)
		if len(seen) != items || counts[model.StateProcessed] != items || counts[model.StateReceived] != 0 {
			t.Fatalf("processed %d distinct items, states %v; want %d processed", len(seen), counts, items)
		}
		per := map[string]int{}
		for _, w := range seen {
			per[w]++
		}
		t.Logf("%d items over %d workers: %v", items, len(per), per)
	})
}

// Processing again replaces rule tags but keeps a manager's tags and the
// existing assignments.
func TestCompleteResults(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		process := func(p model.Processed) {
			t.Helper()
			got, err := s.Claim(ctx, "w", 1, time.Minute)
			if err != nil || len(got) != 1 {
				t.Fatalf("claim: %v %v", got, err)
			}
			if err := s.Complete(ctx, got[0].ID, "w", p); err != nil {
				t.Fatal(err)
			}
		}
		process(model.Processed{
			Tags: []model.Tag{{Kind: "category", Value: "intel", Origin: "mailbox"},
				{Kind: "competitor", Value: "Acme", Evidence: []model.Evidence{{Phrase: "Acme"}}, Origin: "alias"}},
			Assignments: []model.Assignment{{Owner: "ci-lead", Route: "root > intel"}},
		})
		if _, err := s.DB().ExecContext(ctx, s.DB().Rebind(`insert into tags (item_id, kind, value, origin) values (1, 'product', 'Billing', 'manager:kim')`)); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Reprocess(ctx, []int64{1}); err != nil || n != 1 {
			t.Fatalf("reprocess: %d %v", n, err)
		}
		process(model.Processed{
			Tags:        []model.Tag{{Kind: "category", Value: "feedback", Origin: "mailbox"}},
			Assignments: []model.Assignment{{Owner: "ci-lead", Route: "other"}, {Owner: "pm", Route: "root"}},
		})
		tags, _ := s.Tags(ctx, 1)
		var got []string
		for _, tg := range tags {
			got = append(got, string(tg.Kind)+"="+tg.Value+"/"+tg.Origin)
		}
		if want := "category=feedback/mailbox product=Billing/manager:kim"; strings.Join(got, " ") != want {
			t.Errorf("tags = %v, want %s", got, want)
		}
		as, _ := s.Assignments(ctx, 1)
		if len(as) != 2 || as[0].Route != "root > intel" || as[1].Owner != "pm" {
			t.Errorf("assignments = %+v", as)
		}
		mbs, _ := s.Mailboxes(ctx, 1)
		if len(mbs) != 1 || mbs[0] != "feedback@example.test" {
			t.Errorf("mailboxes = %v", mbs)
		}
	})
}

// Two items of one rep racing for the month's first-intel bonus: the
// loser's Complete reports ErrConflict and stores nothing.
func TestCompleteConflict(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 2)
		res, err := s.ImportReps(ctx, []model.Rep{{Name: "Dana", Emails: []string{"dana@example.test"}, Line: 2}})
		if err != nil || res.Created != 1 {
			t.Fatal(res, err)
		}
		rep, _ := s.RepByContact(ctx, "email", "dana@example.test")
		items, err := s.Claim(ctx, "w", 2, time.Minute)
		if err != nil || len(items) != 2 {
			t.Fatal(items, err)
		}
		bonus := func() model.Processed {
			return model.Processed{RepID: rep.ID, Ledger: []model.LedgerEntry{{RepID: rep.ID, Points: 2,
				Reason: "bonus:first-intel-of-month", Month: "2026-03"}}}
		}
		if err := s.Complete(ctx, items[0].ID, "w", bonus()); err != nil {
			t.Fatal(err)
		}
		err = s.Complete(ctx, items[1].ID, "w", bonus())
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second first-intel bonus: %v; want ErrConflict", err)
		}
		it, _ := s.Item(ctx, items[1].ID)
		if it.State != model.StateReceived || it.ClaimedBy != "w" {
			t.Fatalf("the losing item is %s claimed by %q; want still received and claimed", it.State, it.ClaimedBy)
		}
	})
}

// Completing stores many results in few statements: more tags than one
// multi-row insert takes, a duplicate among them, and outbox messages and
// owners that all land once.
func TestCompleteManyResults(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		got, err := s.Claim(ctx, "w1", 1, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim = %d items, %v", len(got), err)
		}
		var p model.Processed
		for i := range 1200 {
			p.Tags = append(p.Tags, model.Tag{Kind: "topic", Value: fmt.Sprintf("t%04d", i), Origin: "rule"})
		}
		p.Tags = append(p.Tags, model.Tag{Kind: "topic", Value: "t0007", Origin: "rule"})
		p.Assignments = []model.Assignment{{Owner: "pm"}, {Owner: "ci", Route: "intel"}, {Owner: "pm"}}
		p.Outbox = []model.OutboxMessage{
			{Kind: "owner_notice", Channel: "email", Recipient: "pm@example.test", Owner: "pm", Body: []byte("n1")},
			{Kind: "owner_notice", Channel: "email", Recipient: "ci@example.test", Owner: "ci", Body: []byte("n2")},
			{Kind: "ack", Channel: "email", Recipient: "rep@example.test", Body: []byte("a")},
		}
		if err := s.Complete(ctx, got[0].ID, "w1", p); err != nil {
			t.Fatal(err)
		}
		tags, err := s.Tags(ctx, got[0].ID)
		if err != nil || len(tags) != 1200 {
			t.Fatalf("%d tags, %v; want 1200", len(tags), err)
		}
		as, err := s.Assignments(ctx, got[0].ID)
		if err != nil || len(as) != 2 {
			t.Fatalf("assignments %+v, %v; want pm and ci", as, err)
		}
		var notified int
		if err := s.DB().GetContext(ctx, &notified, s.DB().Rebind(`select count(*) from assignments
			where item_id = ? and notified_at is not null`), got[0].ID); err != nil || notified != 2 {
			t.Fatalf("%d owners marked notified, %v; want 2", notified, err)
		}
		var queued int
		if err := s.DB().GetContext(ctx, &queued, s.DB().Rebind(`select count(*) from outbox where item_id = ?`), got[0].ID); err != nil || queued != 3 {
			t.Fatalf("%d outbox rows, %v; want 3", queued, err)
		}
	})
}

// An owner told through an immediate notice is marked notified: a new
// assignment as it is stored, one stored before (the item processed
// again) when its notice is enqueued; an owner not told stays waiting
// for the digest.
func TestCompleteMarksNotified(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1)
		notice := func(owner string) model.OutboxMessage {
			return model.OutboxMessage{Kind: "owner_notice", Channel: "email", Recipient: owner + "@example.test", Owner: owner, Body: []byte("n")}
		}
		owners := []model.Assignment{{Owner: "pm"}, {Owner: "ci", Route: "intel"}}
		id, err := completeNext(t, s, model.Processed{Assignments: owners, Outbox: []model.OutboxMessage{notice("pm")}})
		if err != nil {
			t.Fatal(err)
		}
		told := func() map[string]time.Time {
			t.Helper()
			as, err := s.ItemAssignments(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]time.Time{}
			for _, a := range as {
				out[a.Owner] = a.NotifiedAt
			}
			return out
		}
		first := clk.Now()
		if got := told(); !got["pm"].Equal(first) || !got["ci"].IsZero() {
			t.Fatalf("notified %v; want pm at %v, ci not", got, first)
		}
		// The same mail in another mailbox: processed again, now telling ci.
		again := raw(0)
		again.SourceKey, again.Mailbox = "8:0", "intel@example.test"
		if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: []model.RawItem{again}}); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		if _, err := completeNext(t, s, model.Processed{Assignments: owners,
			Outbox: []model.OutboxMessage{notice("pm"), notice("ci")}}); err != nil {
			t.Fatal(err)
		}
		if got := told(); !got["pm"].Equal(first) || !got["ci"].Equal(clk.Now()) {
			t.Fatalf("processed again, notified %v; want pm still at %v, ci at %v", got, first, clk.Now())
		}
	})
}

// A claim carries small items' bytes and leaves large ones to ReadRaw,
// which reads them in growing chunks, whole and unchanged, on both
// databases: sizes at and around the ends of its chunks of 1, 2 and 4 MB.
func TestClaimLeavesLargeRawToReadRaw(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		s.EnsureSource(ctx, "feedback", "imap")
		const mb = 1 << 20
		sizes := []int{store.InlineRaw, store.InlineRaw + 1, 2 * mb, 2*mb + 12345, 3 * mb, 3*mb + 1, 7*mb - 1, 11*mb + 5}
		var items []model.RawItem
		want := map[string][]byte{}
		for i, n := range sizes {
			it := raw(i)
			b := make([]byte, n)
			for j := range b {
				b[j] = byte(j*7 + i) // every byte value, no runs to compress away
			}
			it.Raw = b
			want[it.MessageID] = b
			items = append(items, it)
		}
		if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: items}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Claim(ctx, "w1", 10, time.Minute)
		if err != nil || len(got) != len(sizes) {
			t.Fatalf("claim = %d items, %v", len(got), err)
		}
		for _, it := range got {
			inline := it.RawSize <= store.InlineRaw
			if inline != (it.Raw != nil) {
				t.Errorf("item of %d bytes: claim returned %d bytes", it.RawSize, len(it.Raw))
			}
			b, err := s.ReadRaw(ctx, it.ID, it.RawSize)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want[it.MessageID]) {
				t.Errorf("ReadRaw of a %d-byte item returned %d bytes that differ", it.RawSize, len(b))
			}
		}
	})
}

// TestClaimPlansUseDueIndexes checks that the claims find due rows
// through their partial indexes also in the generic plan PostgreSQL may
// settle on for a prepared statement, where a parameter's value is not
// known: with the state as a parameter it scans the whole table.
func TestClaimPlansUseDueIndexes(t *testing.T) {
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	plans, err := store.ClaimPlans(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	for table, index := range map[string]string{"items": "items_due", "outbox": "outbox_due"} {
		plan := plans[table]
		if !strings.Contains(plan, "Index Scan using "+index) || strings.Contains(plan, "Seq Scan on "+table) {
			t.Errorf("the claim of %s does not go through %s in a generic plan:\n%s", table, index, plan)
		}
	}
}

// TestClaimReadsMailboxes checks that a claim hands out the mailboxes an
// item was received in as Mailboxes reads them, on PostgreSQL, and that
// an item without one has an empty list, not none.
func TestClaimReadsMailboxes(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		s.EnsureSource(ctx, "intel", "imap")
		seed(t, s, 3)
		// Item 2 again, from intel@ and twice from feedback@; item 3 from a
		// source without a mailbox.
		again := raw(1)
		again.SourceKey = "8:1"
		again.Mailbox = "intel@example.test"
		if _, err := s.Receive(ctx, model.Batch{Source: "intel", Items: []model.RawItem{again}}); err != nil {
			t.Fatal(err)
		}
		twice := raw(1)
		twice.SourceKey = "7:100"
		if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: []model.RawItem{twice}}); err != nil {
			t.Fatal(err)
		}
		none := raw(2)
		none.SourceKey, none.Mailbox = "9:1", ""
		none.MessageID, none.ContentHash = "m-none@example.test", "hash-none"
		if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: []model.RawItem{none}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Claim(ctx, "w", 10, time.Minute)
		if err != nil || len(got) != 4 {
			t.Fatalf("claim: %d items, %v", len(got), err)
		}
		for _, it := range got {
			want, err := s.Mailboxes(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			if t.Name() == "TestClaimReadsMailboxes/sqlite" {
				if it.Mailboxes != nil {
					t.Errorf("item %d: SQLite's claim read mailboxes %q", it.ID, it.Mailboxes)
				}
				continue
			}
			if it.Mailboxes == nil || fmt.Sprint(it.Mailboxes) != fmt.Sprint(want) {
				t.Errorf("item %d: the claim read mailboxes %#v, Mailboxes %#v", it.ID, it.Mailboxes, want)
			}
		}
		if mbs, _ := s.Mailboxes(ctx, got[1].ID); len(mbs) != 2 {
			t.Errorf("item 2's mailboxes = %q; the test meant two", mbs)
		}
	})
}

// TestClaimReadsReviews checks that a claim on PostgreSQL hands out each
// item's review as ItemReview reads it (a credit, a dismissal, none), and
// that SQLite's claim leaves it to the gate to ask.
func TestClaimReadsReviews(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 3)
		if _, err := s.ImportReps(ctx, []model.Rep{{Name: "Dana", Emails: []string{"dana@example.test"}, Line: 2}}); err != nil {
			t.Fatal(err)
		}
		dana, err := s.FindRep(ctx, "dana@example.test")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []model.Review{
			{ItemID: 1, Verdict: model.ReviewCredit, RepID: dana.ID, SendAck: true, Actor: "kim"},
			{ItemID: 3, Verdict: model.ReviewDismiss, Actor: "lee"},
		} {
			if err := s.ReviewItem(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Claim(ctx, "w", 10, time.Minute)
		if err != nil || len(got) != 3 {
			t.Fatalf("claim: %d items, %v", len(got), err)
		}
		for _, it := range got {
			if t.Name() == "TestClaimReadsReviews/sqlite" {
				if it.ReviewRead || it.Review != nil {
					t.Errorf("item %d: SQLite's claim read review %+v", it.ID, it.Review)
				}
				continue
			}
			want, ok, err := s.ItemReview(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case !it.ReviewRead:
				t.Errorf("item %d: the claim did not read its review", it.ID)
			case ok != (it.Review != nil):
				t.Errorf("item %d: the claim read review %+v, ItemReview %+v (%v)", it.ID, it.Review, want, ok)
			case ok && !reflect.DeepEqual(*it.Review, want):
				t.Errorf("item %d: the claim read review %+v, ItemReview %+v", it.ID, *it.Review, want)
			}
		}
		if _, ok, _ := s.ItemReview(ctx, 2); ok {
			t.Error("item 2 has a review; the test meant none")
		}
	})
}

// TestBodyStoredOnce checks that an item whose body starts its full text
// keeps no second copy of it, and that every read gives the body back:
// the item, its detail, the inbox's snippet, whatever the body's
// characters; a body that is not the start of the full text is kept
// whole, a rollback of migration 00018 writes every body back, and a
// Slack edit replaces the body.
func TestBodyStoredOnce(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		cases := []struct {
			name, body, full string
			kept             bool // body_text holds the body
		}{
			{"start of the text", "Résumé: 日本の顧客 — Acme 😀 is cheaper.", "Résumé: 日本の顧客 — Acme 😀 is cheaper.\n\n-- \nAna\n> quoted", false},
			{"the whole text", "Only this.", "Only this.", false},
			{"no body", "", "> all quoted", false},
			{"quote inside the text", "Top.\nBottom.", "Top.\n> inline quote\nBottom.", true},
		}
		seed(t, s, len(cases))
		ids := map[string]int64{}
		for _, c := range cases {
			id, err := completeNext(t, s, model.Processed{Subject: c.name, BodyText: c.body, FullText: c.full})
			if err != nil {
				t.Fatal(err)
			}
			ids[c.name] = id
		}
		for _, c := range cases {
			id := ids[c.name]
			var row struct {
				Body string        `db:"body_text"`
				Len  sql.NullInt64 `db:"body_len"`
			}
			if err := s.DB().GetContext(ctx, &row, s.DB().Rebind(`select body_text, body_len from items where id = ?`), id); err != nil {
				t.Fatal(err)
			}
			if c.kept && (row.Body != c.body || row.Len.Valid) {
				t.Errorf("%s: row keeps %q, length %v; want the body and no length", c.name, row.Body, row.Len)
			}
			if !c.kept && (row.Body != "" || !row.Len.Valid || int(row.Len.Int64) != utf8.RuneCountInString(c.body)) {
				t.Errorf("%s: row keeps %q, length %v; want no copy and %d characters", c.name, row.Body, row.Len,
					utf8.RuneCountInString(c.body))
			}
			it, err := s.Item(ctx, id)
			if err != nil || it.BodyText != c.body {
				t.Errorf("%s: Item's body %q, %v; want %q", c.name, it.BodyText, err, c.body)
			}
			d, err := s.ItemDetail(ctx, id)
			if err != nil || d.BodyText != c.body {
				t.Errorf("%s: ItemDetail's body %q, %v; want %q", c.name, d.BodyText, err, c.body)
			}
		}
		list, _, err := s.Inbox(ctx, store.InboxQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range list {
			for _, c := range cases {
				if ids[c.name] == it.ID && it.Snippet != c.body {
					t.Errorf("%s: snippet %q, want %q", c.name, it.Snippet, c.body)
				}
			}
		}
		// Rolled back to before body_len, every row holds its body again;
		// migrated anew, the rows read the same.
		if err := store.MigrateDownTo(ctx, s, 17); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			var body string
			if err := s.DB().GetContext(ctx, &body, s.DB().Rebind(`select body_text from items where id = ?`), ids[c.name]); err != nil || body != c.body {
				t.Errorf("%s: rolled back, body_text %q, %v; want %q", c.name, body, err, c.body)
			}
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if it, err := s.Item(ctx, ids[c.name]); err != nil || it.BodyText != c.body {
				t.Errorf("%s: migrated anew, body %q, %v; want %q", c.name, it.BodyText, err, c.body)
			}
		}
		// An edit replaces the body whole.
		var edited int64
		if err := s.DB().GetContext(ctx, &edited, `select item_id from receipts where source_key = '7:0'`); err != nil {
			t.Fatal(err)
		}
		edit := model.SlackChange{Kind: model.SlackEdit, TS: "1712345690.000200", Text: "Acme cut prices", Raw: []byte(`{}`)}
		if _, err := s.ReceiveSlackChange(ctx, "feedback", "7:0", edit); err != nil {
			t.Fatal(err)
		}
		if it, err := s.Item(ctx, edited); err != nil || it.BodyText != edit.Text {
			t.Errorf("edited body %q, %v; want %q", it.BodyText, err, edit.Text)
		}
	})
}
