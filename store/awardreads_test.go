package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// TestAwardReadsMatchStore checks that what ReadAwards reads for a batch
// answers every question as the store's own reads do, and declines what
// it did not read.
func TestAwardReadsMatchStore(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := importReps(t, s, "ana@example.test", "bo@example.test", "cy@example.test", "di@example.test", "ed@example.test")
		ana, bo, cy, di, ed := ids[0], ids[1], ids[2], ids[3], ids[4]
		if err := s.AddRepContact(ctx, bo, "slack", "U0BO"); err != nil {
			t.Fatal(err)
		}
		seed(t, s, 7)
		var items []int64
		for _, p := range []model.Processed{
			{RepID: ana, Ledger: []model.LedgerEntry{entry(ana, 3, "category:intel", "2026-03"), entry(ana, 7, "bonus:first-intel-of-month", "2026-03")}},
			{RepID: ana, Ledger: []model.LedgerEntry{entry(ana, 3, "category:intel", "2026-03")}},
			{RepID: bo, Ledger: []model.LedgerEntry{entry(bo, 7, "category:intel", "2026-03")}},
			{RepID: cy, Ledger: []model.LedgerEntry{entry(cy, 7, "category:feedback", "2026-03")}},
			{RepID: di, Ledger: []model.LedgerEntry{entry(di, 3, "category:feedback", "2026-03"), entry(di, 50, "category:intel", "2026-02")}},
			{RepID: bo, Ledger: []model.LedgerEntry{entry(bo, 4, "category:feedback", "2026-03")}}, // bo ties cy at 11
			{RepID: cy},
		} {
			id, err := completeNext(t, s, p)
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, id)
		}
		if _, err := s.AdjustPoints(ctx, model.LedgerEntry{RepID: cy, Points: 4, Reason: "won the Globex deal", Month: "2026-03", Actor: "kim"}); err != nil {
			t.Fatal(err)
		}
		since := clk.Now().Add(-time.Hour)
		for i, st := range []model.Status{model.StatusShipped, model.StatusPlanned, model.StatusShipped} {
			id := items[[]int{0, 1, 2}[i]]
			cur, err := s.ItemStatus(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.SetStatus(ctx, model.StatusChange{ItemID: id, Status: st, Actor: "kim", Via: model.ViaDashboard},
				cur.Status, store.StatusEffects{}); err != nil {
				t.Fatal(err)
			}
		}

		// ed has nothing; di's month is February.
		reads, err := s.ReadAwards(ctx, "2026-03", []int64{ana, bo, cy, ed}, since, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		reasons := []string{"category:intel", "category:feedback", "bonus:first-intel-of-month",
			"adjust:won the Globex deal", "category:none"}
		for _, rep := range []int64{ana, bo, cy, ed} {
			want, err := s.RepByID(ctx, rep)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := reads.RepByID(rep); !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("rep %d = %+v, %v; want %+v", rep, got, ok, want)
			}
			wantCounts, err := s.RepStatusCounts(ctx, rep, since)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := reads.RepStatusCounts(rep, since); !ok || fmt.Sprint(got) != fmt.Sprint(wantCounts) {
				t.Errorf("rep %d statuses = %v, %v; want %v", rep, got, ok, wantCounts)
			}
			for _, reason := range reasons {
				for _, except := range append([]int64{0}, items...) {
					want, err := s.HasLedgerReason(ctx, rep, "2026-03", reason, except)
					if err != nil {
						t.Fatal(err)
					}
					if got, ok := reads.HasLedgerReason(rep, "2026-03", reason, except); !ok || got != want {
						t.Errorf("rep %d has %s except item %d = %v, %v; want %v", rep, reason, except, got, ok, want)
					}
				}
			}
			for _, q := range []model.TallyQuery{
				{RepID: rep, Month: "2026-03"},
				{RepID: rep, Month: "2026-03", Pending: 5, Reasons: reasons},
				{RepID: rep, Month: "2026-03", Pending: 1, Others: map[int64]int{ana: 1, di: 20, ed: 3, rep: 2}},
				{RepID: rep, Month: "2026-03", Others: map[int64]int{bo: -8, cy: 4}, Reasons: reasons[:2]},
			} {
				want, err := s.Tally(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if got, ok := reads.Tally(q); !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("tally %+v = %+v, %v; want %+v", q, got, ok, want)
				}
			}
		}
		if got, err := s.Tally(ctx, model.TallyQuery{RepID: ana, Month: "2026-03"}); err != nil || got.Points != 13 || got.Rank != 1 {
			t.Errorf("ana's tally = %+v, %v; the ledger is not the one meant", got, err)
		}

		// What it did not read, it leaves to the store.
		if _, ok := reads.Tally(model.TallyQuery{RepID: di, Month: "2026-03"}); ok {
			t.Error("answered a tally of a rep it did not read")
		}
		if _, ok := reads.Tally(model.TallyQuery{RepID: ana, Month: "2026-02"}); ok {
			t.Error("answered a tally of another month")
		}
		if _, ok := reads.HasLedgerReason(di, "2026-03", "category:intel", 0); ok {
			t.Error("answered a ledger question about a rep it did not read")
		}
		if _, ok := reads.RepStatusCounts(ana, since.Add(time.Second)); ok {
			t.Error("answered status counts since another time")
		}
		if _, ok := reads.RepByID(di); ok {
			t.Error("answered a rep it did not read")
		}
		var none *store.AwardReads
		if _, ok := none.Tally(model.TallyQuery{RepID: ana, Month: "2026-03"}); ok {
			t.Error("no reads answered a tally")
		}
	})
}

// TestAwardReadsAnswerFirstReports checks that ReadAwards answers the
// first-report questions it was given as CompetitorReported does, with or
// without reps to read, and declines the questions it was not given.
func TestAwardReadsAnswerFirstReports(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		seed(t, s, 3) // received 2026-03-01 12:00 UTC
		tag := func(c string) []model.Tag { return []model.Tag{{Kind: "competitor", Value: c, Origin: "alias"}} }
		acme, err := completeNext(t, s, model.Processed{Tags: tag("Acme")})
		if err != nil {
			t.Fatal(err)
		}
		globex, err := completeNext(t, s, model.Processed{Tags: tag("Globex")})
		if err != nil {
			t.Fatal(err)
		}
		// Globex's item is due again, as after a new receipt: not processed.
		if _, err := s.DB().ExecContext(ctx, s.DB().Rebind(`update items set state = 'received' where id = ?`), globex); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		var qs []store.ReportQuery
		for _, c := range []string{"Acme", "Globex", "Initech"} {
			for _, w := range [][2]time.Time{
				{at.AddDate(0, 0, -30), at}, {at.AddDate(0, 0, -30), at.Add(-time.Second)},
				{at, at.AddDate(0, 0, 30)}, {at.Add(time.Second), at.AddDate(0, 0, 30)},
			} {
				for _, except := range []int64{0, acme, globex} {
					qs = append(qs, store.ReportQuery{Competitor: c, Since: w[0], Until: w[1], Except: except})
				}
			}
		}
		for _, reps := range [][]int64{nil, importReps(t, s, "ana@example.test")} {
			reads, err := s.ReadAwards(ctx, "2026-03", reps, at, qs, nil)
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, q := range qs {
				want, err := s.CompetitorReported(ctx, q.Competitor, q.Since, q.Until, q.Except)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := reads.CompetitorReported(q)
				if !ok || got != want {
					t.Errorf("%d reps: %s from %s to %s except %d = %v, %v; want %v", len(reps), q.Competitor,
						q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339), q.Except, got, ok, want)
				}
				if want {
					found++
				}
			}
			// Acme's item answers its windows but for itself: 2 windows × 2
			// exceptions.
			if found != 4 {
				t.Errorf("%d reps: %d questions found a report, want 4", len(reps), found)
			}
			// The same instant in another zone is the same question.
			q := qs[0]
			q.Since, q.Until = q.Since.In(time.FixedZone("x", 3600)), q.Until.In(time.FixedZone("x", 3600))
			if _, ok := reads.CompetitorReported(q); !ok {
				t.Errorf("%d reps: declined a question it was given, in another zone", len(reps))
			}
			q.Except = 99
			if _, ok := reads.CompetitorReported(q); ok {
				t.Errorf("%d reps: answered a question it was not given", len(reps))
			}
		}
		var none *store.AwardReads
		if _, ok := none.CompetitorReported(qs[0]); ok {
			t.Error("no reads answered a first-report question")
		}
	})
}

// TestReasonCountsFollowLedger checks that rep_month_reasons, which the
// award reads and tallies count from, holds what the ledger holds: the
// migration counts the entries written before it, and the trigger each
// entry written after, several of a rep and reason in one batch, and
// adjustments without an item.
func TestReasonCountsFollowLedger(t *testing.T) {
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := dashReps(t, s, "ana/West", "bo/West")
		ana, bo := ids["ana"], ids["bo"]
		check := func(when string) {
			t.Helper()
			type count struct {
				Month    string `db:"month"`
				Rep      int64  `db:"rep_id"`
				Reason   string `db:"reason"`
				Entries  int    `db:"entries"`
				WithItem int    `db:"with_item"`
				MinItem  int64  `db:"min_item"`
			}
			var want, got []count
			if err := s.DB().SelectContext(ctx, &want, `select month, rep_id, reason, count(*) as entries,
				count(item_id) as with_item, coalesce(min(item_id), 0) as min_item
				from points_ledger group by month, rep_id, reason order by month, rep_id, reason`); err != nil {
				t.Fatal(err)
			}
			if err := s.DB().SelectContext(ctx, &got, `select month, rep_id, reason, entries, with_item,
				coalesce(min_item, 0) as min_item from rep_month_reasons order by month, rep_id, reason`); err != nil {
				t.Fatal(err)
			}
			if len(want) < 3 || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: rep_month_reasons = %+v; the ledger holds %+v", when, got, want)
			}
		}
		adjust := func(rep int64, reason, month string) {
			t.Helper()
			if _, err := s.AdjustPoints(ctx, model.LedgerEntry{RepID: rep, Points: 2, Reason: reason,
				Month: model.Month(month), Actor: "kim"}); err != nil {
				t.Fatal(err)
			}
		}
		pay := func(n int, month string) {
			t.Helper()
			k := 0
			won, _ := completeBatch(t, s, n, at, func(model.Item) model.Processed {
				k++
				rep := []int64{ana, bo}[k%2]
				return model.Processed{RepID: rep, Ledger: paid(rep, month, "category:intel", 3, "channel:email", 1)}
			})
			if won != n {
				t.Fatalf("%d of %d items completed", won, n)
			}
		}

		if err := store.MigrateDownTo(ctx, s, 20); err != nil {
			t.Fatal(err)
		}
		pay(3, "2026-02")
		adjust(ana, "adjust:a good month", "2026-02")
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("after the migration")
		pay(5, "2026-03")
		adjust(bo, "adjust:a good month", "2026-03")
		adjust(bo, "adjust:a good month", "2026-03")
		pay(1, "2026-02")
		check("after new entries")
	})
}

// The totals trigger looks each new entry's item up by its key, whatever
// the size of items when a session first ran it. PostgreSQL keeps the
// trigger's plan for the session: made while items was small (a new
// database taking in a backlog), it read the whole table at every
// statement, a scan that grew with the table until an ANALYZE replanned
// it.
func TestTotalsTriggerReadsItemsByKey(t *testing.T) {
	clk := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := open(t, testenv.Postgres(t), clk)
	ctx := context.Background()
	ana := dashReps(t, s, "ana/West")["ana"]
	conn, err := s.DB().Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	items := func(from, to int) {
		t.Helper()
		exec(`insert into items (kind, content_hash, raw, raw_size, received_at, next_attempt_at)
			select case when g % 3 = 0 then 'voicemail' else 'email' end, 'h' || g, '', 0, now(), now()
			from generate_series($1::int, $2::int) g`, from, to)
	}
	pay := func(from, to int) {
		t.Helper()
		exec(`insert into points_ledger (rep_id, item_id, points, reason, month)
			select $1, first + g - 1, 3, 'category:intel', '2026-03'
			from generate_series($2::int, $3::int) g, (select min(id) as first from items) f`, ana, from, to)
	}
	// The session runs the trigger first on a table of three items.
	items(1, 3)
	pay(1, 3)
	items(4, 5000)
	// The session's counts not yet reported to the server are counted in
	// with the transaction's: the difference is the payment's.
	seqScans := func() int64 {
		t.Helper()
		var n int64
		if err := conn.GetContext(ctx, &n, `select coalesce(seq_scan, 0) from pg_stat_xact_user_tables
			where relid = 'items'::regclass`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	exec(`begin`)
	before := seqScans()
	pay(4, 40)
	scans := seqScans() - before
	exec(`commit`)
	if scans != 0 {
		t.Errorf("paying 37 items of 5,000 read the items table %d time(s) from end to end", scans)
	}
	var got struct {
		Points     int `db:"points"`
		Intel      int `db:"intel"`
		Voicemails int `db:"voicemails"`
	}
	if err := conn.GetContext(ctx, &got, `select points, intel, voicemails from rep_month_totals
		where rep_id = $1 and month = '2026-03'`, ana); err != nil {
		t.Fatal(err)
	}
	if got.Points != 3*40 || got.Intel != 40 || got.Voicemails != 13 {
		t.Errorf("totals = %+v; want 120 points, 40 intel, 13 voicemails", got)
	}
}
