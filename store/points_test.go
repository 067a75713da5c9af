package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// importReps registers reps named by their emails and returns their ids
// in order.
func importReps(t *testing.T, s *store.Store, emails ...string) []int64 {
	t.Helper()
	ctx := context.Background()
	var reps []model.Rep
	for i, e := range emails {
		reps = append(reps, model.Rep{Name: e[:len(e)-len("@example.test")], Emails: []string{e}, Line: i + 2})
	}
	if _, err := s.ImportReps(ctx, reps); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range emails {
		r, err := s.RepByContact(ctx, "email", e)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// completeNext claims the next due item and completes it with p.
func completeNext(t *testing.T, s *store.Store, p model.Processed) (int64, error) {
	t.Helper()
	got, err := s.Claim(context.Background(), "w", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	return got[0].ID, s.Complete(context.Background(), got[0].ID, "w", p)
}

func entry(rep int64, points int, reason, month string) model.LedgerEntry {
	return model.LedgerEntry{RepID: rep, Points: points, Reason: reason, Month: model.Month(month)}
}

func TestTallyRanksTiesAndPending(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := importReps(t, s, "ana@example.test", "bo@example.test", "cy@example.test", "di@example.test", "ed@example.test")
		seed(t, s, 4)
		// March totals 10, 7, 7, 3 (ed has nothing in March); February
		// entries count all time only.
		for _, p := range []model.Processed{
			{RepID: ids[0], Ledger: []model.LedgerEntry{entry(ids[0], 3, "category:intel", "2026-03"), entry(ids[0], 7, "bonus:x", "2026-03")}},
			{RepID: ids[1], Ledger: []model.LedgerEntry{entry(ids[1], 7, "category:intel", "2026-03")}},
			{RepID: ids[2], Ledger: []model.LedgerEntry{entry(ids[2], 7, "category:feedback", "2026-03")}},
			{RepID: ids[3], Ledger: []model.LedgerEntry{entry(ids[3], 3, "category:feedback", "2026-03"), entry(ids[3], 50, "category:intel", "2026-02")}},
		} {
			if _, err := completeNext(t, s, p); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			name                      string
			q                         model.TallyQuery
			points, rank, ranked, all int
		}{
			{"leader ranks first", model.TallyQuery{RepID: ids[0], Month: "2026-03"}, 10, 1, 4, 10},
			{"a tie shares second place", model.TallyQuery{RepID: ids[1], Month: "2026-03"}, 7, 2, 4, 7},
			{"the other of the tie", model.TallyQuery{RepID: ids[2], Month: "2026-03"}, 7, 2, 4, 7},
			{"after a tie of two comes fourth", model.TallyQuery{RepID: ids[3], Month: "2026-03"}, 3, 4, 4, 53},
			{"pending points move a rep up", model.TallyQuery{RepID: ids[3], Month: "2026-03", Pending: 5}, 8, 2, 4, 58},
			{"no entries this month: unranked", model.TallyQuery{RepID: ids[4], Month: "2026-03"}, 0, 0, 4, 0},
			{"pending points rank a newcomer", model.TallyQuery{RepID: ids[4], Month: "2026-03", Pending: 7}, 7, 2, 5, 7},
			{"another month", model.TallyQuery{RepID: ids[3], Month: "2026-02"}, 50, 1, 1, 53},
		}
		for _, c := range cases {
			got, err := s.Tally(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if got.Points != c.points || got.Rank != c.rank || got.Ranked != c.ranked || got.AllTime != c.all {
				t.Errorf("%s: tally = %d points, rank %d of %d, %d all time; want %d, %d of %d, %d",
					c.name, got.Points, got.Rank, got.Ranked, got.AllTime, c.points, c.rank, c.ranked, c.all)
			}
		}
		board, err := s.Leaderboard(ctx, model.BoardQuery{Month: "2026-03"})
		if err != nil {
			t.Fatal(err)
		}
		var ranks []int
		for _, b := range board {
			ranks = append(ranks, b.Rank)
		}
		if len(ranks) != 4 || ranks[0] != 1 || ranks[1] != 2 || ranks[2] != 2 || ranks[3] != 4 {
			t.Errorf("leaderboard ranks = %v, want [1 2 2 4]", ranks)
		}
		if top, _ := s.Leaderboard(ctx, model.BoardQuery{Month: "2026-03", Limit: 1}); len(top) != 1 || top[0].Name != "ana" || top[0].Points != 10 {
			t.Errorf("top 1 = %+v", top)
		}
		got, err := s.Tally(ctx, model.TallyQuery{RepID: ids[0], Month: "2026-03", Reasons: []string{"category:intel", "category:feedback"}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Counts["category:intel"] != 1 || got.Counts["category:feedback"] != 0 {
			t.Errorf("goal counts = %v, want one intel", got.Counts)
		}
	})
}

func TestLedgerPaysOncePerItemAndReason(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := importReps(t, s, "ana@example.test")
		seed(t, s, 1)
		p := model.Processed{RepID: ids[0], Ledger: []model.LedgerEntry{entry(ids[0], 3, "category:intel", "2026-03")}}
		item, err := completeNext(t, s, p)
		if err != nil {
			t.Fatal(err)
		}
		// Reprocessing pays the same reason nothing more, a new reason once.
		if _, err := s.Reprocess(ctx, []int64{item}); err != nil {
			t.Fatal(err)
		}
		p.Ledger = append(p.Ledger, entry(ids[0], 2, "bonus:first-intel-of-month", "2026-03"))
		if _, err := completeNext(t, s, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.ItemLedger(ctx, item)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Points != 3 || got[1].Reason != "bonus:first-intel-of-month" || got[0].Actor != "earshot" {
			t.Errorf("item ledger = %+v", got)
		}
		had, err := s.HasLedgerReason(ctx, ids[0], "2026-03", "category:intel", item)
		if err != nil || had {
			t.Errorf("the item's own entry counts as another item's: %v %v", had, err)
		}
		had, err = s.HasLedgerReason(ctx, ids[0], "2026-03", "category:intel", item+1)
		if err != nil || !had {
			t.Errorf("HasLedgerReason for another item = %v %v, want true", had, err)
		}
	})
}

func TestFirstIntelBonusOncePerRepAndMonth(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ids := importReps(t, s, "ana@example.test")
		seed(t, s, 2)
		bonus := []model.LedgerEntry{entry(ids[0], 2, "bonus:first-intel-of-month", "2026-03")}
		if _, err := completeNext(t, s, model.Processed{RepID: ids[0], Ledger: bonus}); err != nil {
			t.Fatal(err)
		}
		// A second item processed at the same time computed the bonus too:
		// its transaction fails and the item is retried.
		if _, err := completeNext(t, s, model.Processed{RepID: ids[0], Ledger: bonus}); err == nil {
			t.Fatal("a second first-intel bonus in one month was written")
		}
	})
}

func TestAdjustPoints(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := importReps(t, s, "ana@example.test", "bo@example.test")
		bad := []struct {
			name string
			e    model.LedgerEntry
		}{
			{"no reason", model.LedgerEntry{RepID: ids[0], Points: 5, Month: "2026-03", Actor: "kim"}},
			{"blank reason", model.LedgerEntry{RepID: ids[0], Points: 5, Reason: " adjust: ", Month: "2026-03", Actor: "kim"}},
			{"zero points", model.LedgerEntry{RepID: ids[0], Reason: "x", Month: "2026-03", Actor: "kim"}},
			{"bad month", model.LedgerEntry{RepID: ids[0], Points: 5, Reason: "x", Month: "2026-13", Actor: "kim"}},
			{"no actor", model.LedgerEntry{RepID: ids[0], Points: 5, Reason: "x", Month: "2026-03"}},
		}
		for _, c := range bad {
			if _, err := s.AdjustPoints(ctx, c.e); err == nil {
				t.Errorf("%s: adjustment accepted", c.name)
			}
		}
		for i, pts := range []int{4, -1, 2} {
			e, err := s.AdjustPoints(ctx, model.LedgerEntry{RepID: ids[i%2], Points: pts, Reason: "won the Globex deal", Month: "2026-03", Actor: "kim"})
			if err != nil {
				t.Fatal(err)
			}
			if e.ID == 0 || e.Reason != "adjust:won the Globex deal" || e.ItemID != 0 {
				t.Errorf("adjustment = %+v", e)
			}
		}
		// Adjustments have no item, so the same reason may repeat.
		got, _ := s.Tally(ctx, model.TallyQuery{RepID: ids[0], Month: "2026-03"})
		if got.Points != 6 || got.Rank != 1 || got.Ranked != 2 {
			t.Errorf("tally after adjustments = %+v, want 6 points, rank 1 of 2", got)
		}
		ledger, _ := s.RepLedger(ctx, ids[1], "2026-03")
		if len(ledger) != 1 || ledger[0].Points != -1 || ledger[0].Actor != "kim" {
			t.Errorf("bo's ledger = %+v", ledger)
		}
	})
}

func TestFindRep(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := importReps(t, s, "ana@example.test", "bo@example.test")
		for _, who := range []string{"ANA", "ana@example.test", "Ana@Example.test"} {
			r, err := s.FindRep(ctx, who)
			if err != nil || r.ID != ids[0] || len(r.Emails) != 1 {
				t.Errorf("FindRep(%q) = %+v, %v", who, r, err)
			}
		}
		if _, err := s.FindRep(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindRep(nobody) = %v, want ErrNotFound", err)
		}
	})
}

func TestReleaseWaitingPoints(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 2)
		for _, sender := range []string{"new@example.test", "stranger@example.test"} {
			if _, err := completeNext(t, s, model.Processed{Sender: sender}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.ReleaseWaitingPoints(ctx); err != nil || n != 0 {
			t.Fatalf("release before anyone registered = %d, %v", n, err)
		}
		importReps(t, s, "new@example.test")
		if n, err := s.ReleaseWaitingPoints(ctx); err != nil || n != 1 {
			t.Fatalf("release after registering = %d, %v; want 1", n, err)
		}
		got, err := s.Claim(ctx, "w", 10, time.Minute)
		if err != nil || len(got) != 1 || got[0].Sender != "new@example.test" {
			t.Fatalf("due again = %+v, %v; want the new rep's item", got, err)
		}
	})
}

func TestCompetitorReported(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 1) // received 2026-03-01 12:00 UTC
		acme := []model.Tag{{Kind: "competitor", Value: "Acme", Origin: "alias"}}
		item, err := completeNext(t, s, model.Processed{Tags: acme})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		cases := []struct {
			name       string
			competitor string
			from, to   time.Time
			except     int64
			want       bool
		}{
			{"reported within the window", "Acme", at.AddDate(0, 0, -30), at.Add(time.Hour), 0, true},
			{"the item itself does not count", "Acme", at.AddDate(0, 0, -30), at.Add(time.Hour), item, false},
			{"older than the window", "Acme", at.Add(time.Hour), at.AddDate(0, 0, 30), 0, false},
			{"another competitor", "Globex", at.AddDate(0, 0, -30), at.Add(time.Hour), 0, false},
		}
		for _, c := range cases {
			got, err := s.CompetitorReported(ctx, c.competitor, c.from, c.to, c.except)
			if err != nil || got != c.want {
				t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
			}
		}
	})
}

// TestCompetitorReportedPlanIgnoresStaleStatistics checks, on
// PostgreSQL, that the first-report check, alone and as a batch asks it,
// goes from the competitor's tags to their items by key even when the
// items' statistics were taken while none was processed, as after a
// backlog's arrival: a plan led by those statistics scanned every item,
// for every check. It also reads only the tags of its window, newest
// first, after a year of mail stored oldest first, with a month's window
// and with a year's: reading the competitor's tags from the oldest, it
// went through the whole history before the window.
func TestCompetitorReportedPlanIgnoresStaleStatistics(t *testing.T) {
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	db := s.DB()
	// No analyze of its own between the steps below.
	if _, err := db.ExecContext(ctx, `alter table items set (autovacuum_enabled = false)`); err != nil {
		t.Fatal(err)
	}
	seed(t, s, 3000)
	for _, q := range []string{
		// A year of mail, three hours apart, the last at the clock's time.
		`update items set received_at = timestamptz '2026-03-01 12:00:00+00' - (3000 - id) * interval '3 hours'`,
		`analyze items`,
		`update items set state = 'processed'`,
		`insert into tags (item_id, kind, value, origin) select id, 'competitor', 'Acme', 'alias' from items where id % 3 = 0`,
		`insert into tags (item_id, kind, value, origin, received_at) select id, k, 'x', 'alias', received_at
			from items, unnest(array['category', 'product', 'topic']) as k`,
		`analyze tags`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		competitor string
		days       int
	}{{"Acme", 30}, {"Globex", 30}, {"Acme", 365}} {
		plans, err := store.ReportPlans(ctx, s, c.competitor, at.AddDate(0, 0, -c.days), at.Add(time.Hour), 5, 20)
		if err != nil {
			t.Fatal(err)
		}
		for name, plan := range plans {
			// By the competitor's tags of the window, one probe of items
			// by key per tag: no scan of all items, no hash of all
			// competitor tags, no tag received outside the window read.
			if strings.Contains(plan, "Seq Scan on items") || strings.Contains(plan, "Hash") ||
				!strings.Contains(plan, "using items_pkey") {
				t.Errorf("%+v, %s: the first-report check does not go from the competitor's tags to items by key:\n%s", c, name, plan)
			}
			if !strings.Contains(plan, "Index Scan Backward using tags_competitor_received") ||
				!strings.Contains(plan, "(received_at >= ") {
				t.Errorf("%+v, %s: the first-report check does not read the tags of its window newest first:\n%s", c, name, plan)
			}
		}
	}
	if found, err := s.CompetitorReported(ctx, "Acme", at.AddDate(0, 0, -30), at.Add(time.Hour), 3); err != nil || !found {
		t.Errorf("Acme reported = %v, %v; want true", found, err)
	}
}

// TestTagOfPreviousVersionGetsItsTime checks, on PostgreSQL, that a tag
// stored without received_at, as a replica of the previous version still
// running during an upgrade stores it, gets its item's, and counts for the
// first-report check.
func TestTagOfPreviousVersionGetsItsTime(t *testing.T) {
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	seed(t, s, 1) // received 2026-03-01 12:00 UTC
	item, err := completeNext(t, s, model.Processed{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `insert into tags (item_id, kind, value, evidence, origin)
		values ($1, 'competitor', 'Globex', '[]', 'alias')`, item); err != nil {
		t.Fatal(err)
	}
	var same bool
	if err := s.DB().GetContext(ctx, &same, `select t.received_at = i.received_at from tags t
		join items i on i.id = t.item_id where t.item_id = $1 and t.value = 'Globex'`, item); err != nil || !same {
		t.Fatalf("the tag's received_at is its item's: %v, %v", same, err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if found, err := s.CompetitorReported(ctx, "Globex", at.AddDate(0, 0, -30), at.Add(time.Hour), 0); err != nil || !found {
		t.Errorf("Globex reported = %v, %v; want true", found, err)
	}
}

// An item's duplicate_of comes with the item, read, shown or claimed:
// scoring pays a duplicate nothing.
func TestItemDuplicateOf(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 2)
		if it, err := s.Item(ctx, 2); err != nil || it.DuplicateOf != 0 {
			t.Errorf("duplicate of an original = %d %v, want 0", it.DuplicateOf, err)
		}
		if _, err := s.DB().ExecContext(ctx, `update items set duplicate_of = 1 where id = 2`); err != nil {
			t.Fatal(err)
		}
		if it, err := s.Item(ctx, 2); err != nil || it.DuplicateOf != 1 {
			t.Errorf("duplicate of = %d %v, want 1", it.DuplicateOf, err)
		}
		if d, err := s.ItemDetail(ctx, 2); err != nil || d.DuplicateOf != 1 {
			t.Errorf("the dashboard's item: duplicate of = %d %v, want 1", d.DuplicateOf, err)
		}
		claimed, err := s.Claim(ctx, "w", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		for _, it := range claimed {
			got[it.ID] = it.DuplicateOf
		}
		if len(got) != 2 || got[1] != 0 || got[2] != 1 {
			t.Errorf("claimed items' duplicate_of = %v, want map[1:0 2:1]", got)
		}
	})
}

// BenchmarkTallyPostgres measures one rep's tally with a million ledger
// rows spread over 5,000 reps and 24 months (run with -bench Tally).
func BenchmarkTallyPostgres(b *testing.B) {
	ctx := context.Background()
	s := open(b, testenv.Postgres(b), testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	db := s.DB()
	for _, q := range []string{
		`insert into reps (name) select 'rep ' || g from generate_series(1, 5000) g`,
		`insert into points_ledger (rep_id, item_id, points, reason, month, actor, created_at)
			select 1 + (g % 5000), null, 1 + (g % 7), case when g % 3 = 0 then 'category:intel' else 'category:feedback' end,
			to_char(date '2025-04-01' + ((g % 24) || ' months')::interval, 'YYYY-MM'), 'earshot', now()
			from generate_series(1, 1000000) g`,
		`analyze points_ledger`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		q := model.TallyQuery{RepID: int64(1 + i%5000), Month: "2026-03", Pending: 3, Reasons: []string{"category:intel"}}
		if _, err := s.Tally(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// completeRace receives n items received at at, claims them, and
// completes them all at once with the result of result; it returns how
// many completed and how many were refused with ErrConflict.
func completeRace(t *testing.T, s *store.Store, n int, at time.Time, result func(model.Item) model.Processed) (won, lost int) {
	t.Helper()
	ctx := context.Background()
	claimed := receiveAndClaim(t, s, n, at)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
	)
	for _, it := range claimed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := s.Complete(ctx, it.ID, "w", result(it))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrConflict):
				lost++
			default:
				t.Errorf("item %d: %v", it.ID, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return won, lost
}

// completeBatch receives n items received at at, claims them, and
// completes them in one batch with the result of result; it returns how
// many completed and how many were left out with ErrConflict.
func completeBatch(t *testing.T, s *store.Store, n int, at time.Time, result func(model.Item) model.Processed) (won, lost int) {
	t.Helper()
	var batch []store.Done
	for _, it := range receiveAndClaim(t, s, n, at) {
		batch = append(batch, store.Done{ID: it.ID, P: result(it)})
	}
	errs, err := s.CompleteBatch(context.Background(), "w", batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, store.ErrConflict):
			lost++
		default:
			t.Errorf("item %d: %v", batch[i].ID, err)
		}
	}
	return won, lost
}

// raceItems numbers the items receiveAndClaim receives.
var raceItems atomic.Int64

// receiveAndClaim receives n items received at at and claims them for
// worker "w".
func receiveAndClaim(t *testing.T, s *store.Store, n int, at time.Time) []model.Item {
	t.Helper()
	ctx := context.Background()
	if err := s.EnsureSource(ctx, "race", "imap"); err != nil {
		t.Fatal(err)
	}
	var raw []model.RawItem
	for range n {
		key := fmt.Sprintf("race-%d", raceItems.Add(1))
		raw = append(raw, model.RawItem{SourceKey: key, Kind: "email", ContentHash: key, Raw: []byte("x"), ReceivedAt: at})
	}
	if _, err := s.Receive(ctx, model.Batch{Source: "race", Items: raw}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Claim(ctx, "w", n, time.Minute)
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	return claimed
}

// Of several items completing at once, each paying the first-report bonus
// for the same competitor, exactly one completes; the others get
// ErrConflict and are scored again. A report outside the window does not
// count.
func TestFirstReportRace(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ids := dashReps(t, s, "ana/West")
		at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
		// An old report, 40 days before: outside the 30-day window.
		dashItem(t, s, "email", "old", at.AddDate(0, 0, -40), model.Processed{RepID: ids["ana"],
			Tags: []model.Tag{{Kind: "competitor", Value: "Acme", Origin: "alias"}}})

		const racers = 6
		won, lost := completeRace(t, s, racers, at, func(it model.Item) model.Processed {
			return model.Processed{RepID: ids["ana"],
				Tags:   []model.Tag{{Kind: "competitor", Value: "Acme", Origin: "alias"}},
				Ledger: paid(ids["ana"], "2026-03", "bonus:new-competitor:Acme", 2),
				FirstReports: []model.FirstReport{{Competitor: "Acme",
					Since: it.ReceivedAt.Add(-30 * 24 * time.Hour), Until: it.ReceivedAt}}}
		})
		if won != 1 || lost != racers-1 {
			t.Fatalf("%d completed, %d refused; want 1 and %d", won, lost, racers-1)
		}
		var bonuses int
		if err := s.DB().Get(&bonuses, `select count(*) from points_ledger where reason = 'bonus:new-competitor:Acme'`); err != nil {
			t.Fatal(err)
		}
		if bonuses != 1 {
			t.Errorf("%d first-report bonuses paid, want 1", bonuses)
		}
	})
}

// Items of one rep completing at once, each with an ack let through under
// a daily cap of 2: two acks are enqueued, the other items are refused
// with ErrConflict (and scored again, suppressed).
func TestAckCapRace(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ids := dashReps(t, s, "ana/West")
		const racers, max = 6, 2
		since := clk.Now().Add(-time.Hour) // the day's start, as the store's clock goes
		won, lost := completeRace(t, s, racers, time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), func(model.Item) model.Processed {
			return model.Processed{RepID: ids["ana"],
				Outbox: []model.OutboxMessage{{Kind: "ack", Channel: "email", Recipient: "ana@example.test",
					Body: []byte("Subject: thanks\r\n\r\nx\r\n")}},
				AckCap: &model.AckCap{Recipient: "ana@example.test", Since: since, Max: max}}
		})
		if won != max || lost != racers-max {
			t.Fatalf("%d completed, %d refused; want %d and %d", won, lost, max, racers-max)
		}
		c, err := s.AckCounts(context.Background(), model.AckQuery{RecipientKey: "ana@example.test", Day: since, Hour: since,
			Upto: model.AckCounts{Recipient: 1000}})
		if err != nil || c.Recipient != max {
			t.Errorf("%d acks enqueued, %v; want %d", c.Recipient, err, max)
		}
	})
}

// In one batch, the invariants hold item by item as if the items had
// completed one at a time: the batch's first report of a competitor wins
// and the others are left out with ErrConflict; acks fill the daily cap
// and no more; one first-intel bonus per rep and month. An item no longer
// claimed is left out with ErrNotClaimed, and the rest are stored.
func TestCompleteBatchInvariants(t *testing.T) {
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ids := dashReps(t, s, "ana/West")
		t.Run("first report", func(t *testing.T) {
			won, lost := completeBatch(t, s, 4, at, func(it model.Item) model.Processed {
				return model.Processed{RepID: ids["ana"],
					Tags:   []model.Tag{{Kind: "competitor", Value: "Zeta", Origin: "alias"}},
					Ledger: paid(ids["ana"], "2026-03", "bonus:new-competitor:Zeta", 2),
					FirstReports: []model.FirstReport{{Competitor: "Zeta",
						Since: it.ReceivedAt.Add(-30 * 24 * time.Hour), Until: it.ReceivedAt}}}
			})
			if won != 1 || lost != 3 {
				t.Fatalf("%d completed, %d left out; want 1 and 3", won, lost)
			}
		})
		t.Run("ack cap", func(t *testing.T) {
			since := clk.Now().Add(-time.Hour)
			won, lost := completeBatch(t, s, 5, at, func(model.Item) model.Processed {
				return model.Processed{RepID: ids["ana"],
					Outbox: []model.OutboxMessage{{Kind: "ack", Channel: "email", Recipient: "Capped@example.test",
						Body: []byte("Subject: thanks\r\n\r\nx\r\n")}},
					AckCap: &model.AckCap{Recipient: "capped@example.test", Since: since, Max: 2}}
			})
			if won != 2 || lost != 3 {
				t.Fatalf("%d completed, %d left out; want 2 and 3", won, lost)
			}
		})
		t.Run("first intel", func(t *testing.T) {
			won, lost := completeBatch(t, s, 3, at, func(model.Item) model.Processed {
				return model.Processed{RepID: ids["ana"], Ledger: paid(ids["ana"], "2026-04", "bonus:first-intel-of-month", 2)}
			})
			if won != 1 || lost != 2 {
				t.Fatalf("%d completed, %d left out; want 1 and 2", won, lost)
			}
			// Against the database too: a later batch pays no second bonus.
			if won, lost = completeBatch(t, s, 1, at, func(model.Item) model.Processed {
				return model.Processed{RepID: ids["ana"], Ledger: paid(ids["ana"], "2026-04", "bonus:first-intel-of-month", 2)}
			}); won != 0 || lost != 1 {
				t.Fatalf("%d completed, %d left out; want 0 and 1", won, lost)
			}
		})
		t.Run("not claimed", func(t *testing.T) {
			claimed := receiveAndClaim(t, s, 2, at)
			batch := []store.Done{{ID: claimed[0].ID, P: model.Processed{RepID: ids["ana"]}},
				{ID: claimed[1].ID, P: model.Processed{RepID: ids["ana"]}}}
			errs, err := s.CompleteBatch(context.Background(), "other", batch[:1])
			if err != nil || !errors.Is(errs[0], store.ErrNotClaimed) {
				t.Fatalf("another worker completed a claimed item: %v %v", errs, err)
			}
			if errs, err = s.CompleteBatch(context.Background(), "w", batch); err != nil || errs[0] != nil || errs[1] != nil {
				t.Fatalf("the claimed items were not completed: %v %v", errs, err)
			}
			if errs, err = s.CompleteBatch(context.Background(), "w", batch); err != nil ||
				!errors.Is(errs[0], store.ErrNotClaimed) || !errors.Is(errs[1], store.ErrNotClaimed) {
				t.Fatalf("completed items were completed again: %v %v", errs, err)
			}
		})
		var bonuses, acks int
		if err := s.DB().Get(&bonuses, `select count(*) from points_ledger where reason = 'bonus:first-intel-of-month'`); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().Get(&acks, `select count(*) from outbox where recipient_key = 'capped@example.test'`); err != nil {
			t.Fatal(err)
		}
		if bonuses != 1 || acks != 2 {
			t.Errorf("%d first-intel bonuses and %d capped acks stored, want 1 and 2", bonuses, acks)
		}
	})
}

// Two batches racing for one rep's first-intel bonus of a month, on
// PostgreSQL where they run at once: the loser's item is left out with
// ErrConflict, to be scored again, and the rest of its batch is stored;
// the race never fails a whole batch.
// (SQLite has one writer: its batches never run at once.)
func TestCompleteBatchFirstIntelRace(t *testing.T) {
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	ids := dashReps(t, s, "ana/West")
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	const rounds = 20
	for round := range rounds {
		month := fmt.Sprintf("%d-%02d", 2030+round/12, round%12+1)
		var batches [2][]store.Done
		for b := range batches {
			for i, it := range receiveAndClaim(t, s, 2, at) {
				p := model.Processed{RepID: ids["ana"], Ledger: paid(ids["ana"], month, "category:intel", 3)}
				if i == 0 {
					p.Ledger = paid(ids["ana"], month, "category:intel", 3, "bonus:first-intel-of-month", 2)
				}
				batches[b] = append(batches[b], store.Done{ID: it.ID, P: p})
			}
		}
		var (
			wg   sync.WaitGroup
			errs [2][]error
			err  [2]error
		)
		for b := range batches {
			wg.Go(func() { errs[b], err[b] = s.CompleteBatch(context.Background(), "w", batches[b]) })
		}
		wg.Wait()
		stored, lost := 0, 0
		for b := range batches {
			if err[b] != nil {
				t.Fatalf("round %d: batch %d failed whole: %v", round, b, err[b])
			}
			for i, e := range errs[b] {
				switch {
				case e == nil:
					stored++
				case errors.Is(e, store.ErrConflict) && i == 0:
					lost++
				default:
					t.Fatalf("round %d: batch %d, item %d: %v", round, b, i, e)
				}
			}
		}
		if stored != 3 || lost != 1 {
			t.Fatalf("round %d: %d items stored and %d left out; want 3 and 1", round, stored, lost)
		}
	}
	var bonuses int
	if err := s.DB().Get(&bonuses, `select count(*) from points_ledger where reason = 'bonus:first-intel-of-month'`); err != nil {
		t.Fatal(err)
	}
	if bonuses != rounds {
		t.Errorf("%d first-intel bonuses over %d months, want one a month", bonuses, rounds)
	}
}

// RepsByContacts answers for many contacts of a kind what RepByContact
// answers for each.
func TestRepsByContacts(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		if _, err := s.ImportReps(ctx, []model.Rep{
			{Name: "Dana Reyes", Emails: []string{"dana@example.test", "d.reyes@example.test"}, Phones: []string{"+14155550101"}, Line: 2},
			{Name: "Sam Okafor", Team: "West", Emails: []string{"sam@example.test"}, Line: 3},
		}); err != nil {
			t.Fatal(err)
		}
		values := []string{"dana@example.test", "d.reyes@example.test", "sam@example.test", "nobody@example.test", "+14155550101"}
		got, err := s.RepsByContacts(ctx, "email", values)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			want, err := s.RepByContact(ctx, "email", v)
			found := err == nil
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			if r, ok := got[v]; ok != found || ok && r.ID != want.ID || ok && (r.Name != want.Name || r.Team != want.Team) {
				t.Errorf("%s: %+v (found %v), want %+v (found %v)", v, r, ok, want, found)
			}
		}
		if len(got) != 3 {
			t.Errorf("%d reps found, want 3 (a phone is not an email contact)", len(got))
		}
	})
}
