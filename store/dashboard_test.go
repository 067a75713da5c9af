package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// dashReps imports reps given as "name/team" and returns their ids by name.
func dashReps(t *testing.T, s *store.Store, specs ...string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	var reps []model.Rep
	for i, sp := range specs {
		name, team, _ := strings.Cut(sp, "/")
		reps = append(reps, model.Rep{Name: name, Team: team, Emails: []string{name + "@example.test"}, Line: i + 2})
	}
	if _, err := s.ImportReps(ctx, reps); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, r := range reps {
		got, err := s.RepByContact(ctx, "email", r.Emails[0])
		if err != nil {
			t.Fatal(err)
		}
		ids[r.Name] = got.ID
	}
	return ids
}

// dashItem receives one item of kind, received at at, and completes it
// with p; it returns the item's id.
func dashItem(t *testing.T, s *store.Store, kind, key string, at time.Time, p model.Processed) int64 {
	t.Helper()
	ctx := context.Background()
	if err := s.EnsureSource(ctx, "dash", "imap"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Receive(ctx, model.Batch{Source: "dash", Items: []model.RawItem{{SourceKey: key, Kind: model.ItemKind(kind),
		ContentHash: "dash-" + key, Raw: []byte("raw " + key), ReceivedAt: at}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, "dash-worker", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim %s: %v %v", key, got, err)
	}
	if err := s.Complete(ctx, got[0].ID, "dash-worker", p); err != nil {
		t.Fatal(err)
	}
	return got[0].ID
}

// indexSearch runs the search indexer over everything queued, after
// queueing the items whose text a test changed behind the store's back.
func indexSearch(t *testing.T, s *store.Store, changed ...int64) {
	t.Helper()
	ctx := context.Background()
	if s.Dialect() != store.Postgres {
		return
	}
	for _, id := range changed {
		if _, err := s.DB().ExecContext(ctx, `insert into search_queue (item_id, queued_at) values ($1, now())
			on conflict do nothing`, id); err != nil {
			t.Fatal(err)
		}
	}
	for {
		n, err := s.IndexSearch(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// paid is the ledger of one item: reasons with points.
func paid(rep int64, month string, lines ...any) []model.LedgerEntry {
	var out []model.LedgerEntry
	for i := 0; i+1 < len(lines); i += 2 {
		out = append(out, model.LedgerEntry{RepID: rep, Reason: lines[i].(string), Points: lines[i+1].(int), Month: model.Month(month)})
	}
	return out
}

// boardLine is the part of a leaderboard row a case checks.
type boardLine struct {
	rank                                int
	name                                string
	points, intel, feedback, voicemails int
	prev                                int
	hadPrev                             bool
}

func lines(rows []model.Standing) []boardLine {
	var out []boardLine
	for _, r := range rows {
		out = append(out, boardLine{r.Rank, r.Name, r.Points, r.Intel, r.Feedback, r.Voicemails, r.PrevPoints, r.HadPrev})
	}
	return out
}

// seedBoard pays March 2026: ana 10 (intel + bonus), bo 7 (a voicemail
// that is intel and feedback), cy 7 (feedback plus an adjustment), di 3;
// February: bo 4 and di 9. ed has nothing.
func seedBoard(t *testing.T, s *store.Store) map[string]int64 {
	t.Helper()
	ids := dashReps(t, s, "ana/West", "bo/West", "cy/East", "di/East", "ed/East")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	dashItem(t, s, "email", "a1", at, model.Processed{RepID: ids["ana"],
		Ledger: paid(ids["ana"], "2026-03", "category:intel", 3, "bonus:first-intel-of-month", 7)})
	dashItem(t, s, "voicemail", "b1", at, model.Processed{RepID: ids["bo"],
		Ledger: paid(ids["bo"], "2026-03", "category:intel", 3, "category:feedback", 1, "channel:voicemail", 3)})
	dashItem(t, s, "email", "c1", at, model.Processed{RepID: ids["cy"], Ledger: paid(ids["cy"], "2026-03", "category:feedback", 1)})
	dashItem(t, s, "email", "d1", at, model.Processed{RepID: ids["di"], Ledger: paid(ids["di"], "2026-03", "category:feedback", 3)})
	feb := at.AddDate(0, -1, 0)
	dashItem(t, s, "voicemail", "b0", feb, model.Processed{RepID: ids["bo"], Ledger: paid(ids["bo"], "2026-02", "category:feedback", 4)})
	dashItem(t, s, "email", "d0", feb, model.Processed{RepID: ids["di"], Ledger: paid(ids["di"], "2026-02", "category:intel", 9)})
	if _, err := s.AdjustPoints(context.Background(), model.LedgerEntry{RepID: ids["cy"], Points: 6,
		Reason: "trade show leads", Month: "2026-03", Actor: "maria"}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestMonthlyLeaderboard(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		seedBoard(t, s)
		cases := []struct {
			name string
			q    model.BoardQuery
			want []boardLine
		}{
			{"ties share a rank and the next rank skips; a voicemail that is intel and feedback counts once",
				model.BoardQuery{Month: "2026-03"}, []boardLine{
					{1, "ana", 10, 1, 0, 0, 0, false},
					{2, "bo", 7, 1, 1, 1, 4, true},
					{2, "cy", 7, 0, 1, 0, 0, false},
					{4, "di", 3, 0, 1, 0, 9, true},
				}},
			{"a team ranks among itself", model.BoardQuery{Month: "2026-03", Team: "East"}, []boardLine{
				{1, "cy", 7, 0, 1, 0, 0, false},
				{2, "di", 3, 0, 1, 0, 9, true},
			}},
			{"the limit keeps the top", model.BoardQuery{Month: "2026-03", Limit: 1}, []boardLine{
				{1, "ana", 10, 1, 0, 0, 0, false},
			}},
			{"last month, as the digest asks for it", model.BoardQuery{Month: mustMonthBefore(t, "2026-03")}, []boardLine{
				{1, "di", 9, 1, 0, 0, 0, false},
				{2, "bo", 4, 0, 1, 1, 0, false},
			}},
			{"a month without entries is empty", model.BoardQuery{Month: "2026-04"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rows, err := s.Leaderboard(context.Background(), tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := lines(rows); !slices.Equal(got, tc.want) {
					t.Errorf("board =\n%v\nwant\n%v", got, tc.want)
				}
			})
		}
		if _, err := s.Leaderboard(context.Background(), model.BoardQuery{Month: "2026-13"}); err == nil {
			t.Error("month 2026-13 was accepted")
		}
	})
}

func mustMonthBefore(t *testing.T, m string) model.Month {
	t.Helper()
	month, err := model.ParseMonth(m)
	if err != nil {
		t.Fatal(err)
	}
	return month.Prev()
}

// TestTotalsFollowTheLedger guards the trigger: the totals the board reads
// equal an aggregate of the ledger itself after every kind of write.
func TestTotalsFollowTheLedger(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := seedBoard(t, s)
		item := dashItem(t, s, "email", "e1", time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC),
			model.Processed{RepID: ids["ed"], Ledger: paid(ids["ed"], "2026-03", "category:intel", 3)})
		if _, err := s.AdjustItemPoints(ctx, item, model.LedgerEntry{Points: -2, Reason: "was a duplicate", Month: "2026-03", Actor: "maria"}); err != nil {
			t.Fatal(err)
		}
		// Processing the same item again pays nothing twice.
		if _, err := s.Reprocess(ctx, []int64{item}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Claim(ctx, "w", 1, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim again: %v %v", got, err)
		}
		if err := s.Complete(ctx, item, "w", model.Processed{RepID: ids["ed"], Ledger: paid(ids["ed"], "2026-03", "category:intel", 3)}); err != nil {
			t.Fatal(err)
		}
		var direct []struct {
			Month  string `db:"month"`
			RepID  int64  `db:"rep_id"`
			Points int    `db:"points"`
		}
		if err := s.DB().SelectContext(ctx, &direct, `select month, rep_id, sum(points) as points from points_ledger
			group by month, rep_id order by month, rep_id`); err != nil {
			t.Fatal(err)
		}
		for _, d := range direct {
			rows, err := s.Leaderboard(ctx, model.BoardQuery{Month: model.Month(d.Month)})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(rows, func(r model.Standing) bool { return r.RepID == d.RepID })
			if i < 0 || rows[i].Points != d.Points {
				t.Errorf("%s rep %d: board %v, ledger sums %d", d.Month, d.RepID, rows, d.Points)
			}
		}
		if len(direct) != 7 {
			t.Errorf("ledger has %d (month, rep) groups, want 7", len(direct))
		}
	})
}

func TestContributionsAndRepHistory(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := seedBoard(t, s)
		cases := []struct {
			name, team string
			want       []store.MonthTotals
		}{
			{"everyone", "", []store.MonthTotals{
				{Month: "2026-02", Points: 13, Intel: 1, Feedback: 1, Voicemails: 1},
				{Month: "2026-03", Points: 27, Intel: 2, Feedback: 3, Voicemails: 1}}},
			{"one team", "West", []store.MonthTotals{
				{Month: "2026-02", Points: 4, Intel: 0, Feedback: 1, Voicemails: 1},
				{Month: "2026-03", Points: 17, Intel: 2, Feedback: 1, Voicemails: 1}}},
		}
		for _, tc := range cases {
			got, err := s.Contributions(ctx, "2025-04", "2026-03", tc.team)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: contributions = %+v, want %+v", tc.name, got, tc.want)
			}
		}
		months, err := s.RepMonths(ctx, ids["bo"])
		if err != nil || len(months) != 2 || months[0].Month != "2026-03" || months[0].Points != 7 {
			t.Errorf("bo's months = %+v, %v; want March 7 first", months, err)
		}
		entries, err := s.RepEntries(ctx, ids["cy"], 10)
		if err != nil || len(entries) != 2 || entries[0].Reason != "adjust:trade show leads" ||
			entries[0].Actor != "maria" || entries[1].ItemSubject != "" || entries[1].ItemID == 0 {
			t.Errorf("cy's entries = %+v, %v; want the adjustment first, then the item", entries, err)
		}
		teams, err := s.Teams(ctx)
		if err != nil || !slices.Equal(teams, []string{"East", "West"}) {
			t.Errorf("teams = %v, %v", teams, err)
		}
	})
}

func TestInboxFiltersSearchAndPages(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := dashReps(t, s, "ana/West")
		day := func(d int) time.Time { return time.Date(2026, 3, d, 10, 0, 0, 0, time.UTC) }
		tag := func(kind, value string) model.Tag {
			return model.Tag{Kind: model.TagKind(kind), Value: value, Origin: "rule"}
		}
		acme := dashItem(t, s, "email", "i1", day(1), model.Processed{RepID: ids["ana"], Sender: "ana@example.test",
			Subject: "Acme discounts in Boston", FullText: "They offer forty percent discounts on renewals.",
			Tags:        []model.Tag{tag("category", "intel"), tag("competitor", "Acme")},
			Assignments: []model.Assignment{{Owner: "ci-team", Route: "competitor=Acme"}}})
		billing := dashItem(t, s, "email", "i2", day(2), model.Processed{Sender: "stranger@example.test",
			Subject: "Billing page is confusing", FullText: "The invoice screen hides the 100% total.",
			Tags:        []model.Tag{tag("category", "feedback"), tag("product", "Billing"), tag("topic", "ux")},
			Assignments: []model.Assignment{{Owner: "billing-pm"}}})
		vm := dashItem(t, s, "voicemail", "i3", day(3), model.Processed{RepID: ids["ana"], Sender: "+15550001",
			Tags: []model.Tag{tag("category", "feedback")}})
		if _, err := s.DB().ExecContext(ctx, s.DB().Rebind(`update items set transcript = ? where id = ?`),
			"customer asked about pricing tiers", vm); err != nil {
			t.Fatal(err)
		}
		auto := dashItem(t, s, "email", "i4", day(4), model.Processed{Sender: "mailer-daemon@example.test",
			Subject: "Undelivered", AutoReason: "bounce"})
		indexSearch(t, s, vm)
		cases := []struct {
			name string
			q    store.InboxQuery
			want []int64
		}{
			{"everything, newest first", store.InboxQuery{}, []int64{auto, vm, billing, acme}},
			{"category", store.InboxQuery{Category: "feedback"}, []int64{vm, billing}},
			{"competitor", store.InboxQuery{Competitor: "Acme"}, []int64{acme}},
			{"product and topic together", store.InboxQuery{Product: "Billing", Topic: "ux"}, []int64{billing}},
			{"a product nobody tagged", store.InboxQuery{Product: "Mobile"}, nil},
			{"owner", store.InboxQuery{Owner: "ci-team"}, []int64{acme}},
			{"unregistered senders, not machines", store.InboxQuery{Unregistered: true}, []int64{billing}},
			{"state", store.InboxQuery{State: model.StateProcessed, Category: "intel"}, []int64{acme}},
			{"search the text", store.InboxQuery{Text: "renewals"}, []int64{acme}},
			{"search the subject", store.InboxQuery{Text: "confusing"}, []int64{billing}},
			{"search the transcript", store.InboxQuery{Text: "pricing"}, []int64{vm}},
			{"search text with a percent sign", store.InboxQuery{Text: "100%"}, []int64{billing}},
			{"search finds nothing", store.InboxQuery{Text: "zebra"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				items, next, err := s.Inbox(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, it := range items {
					got = append(got, it.ID)
				}
				if !slices.Equal(got, tc.want) || next != nil {
					t.Errorf("inbox = %v (next %v), want %v", got, next, tc.want)
				}
			})
		}
		// Pages of two: no item twice, none lost.
		var seen []int64
		q := store.InboxQuery{Limit: 2}
		for range 3 {
			items, next, err := s.Inbox(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				seen = append(seen, it.ID)
			}
			if next == nil {
				break
			}
			q.After = next
		}
		if want := []int64{auto, vm, billing, acme}; !slices.Equal(seen, want) {
			t.Errorf("pages = %v, want %v", seen, want)
		}
		items, _, err := s.Inbox(ctx, store.InboxQuery{Competitor: "Acme"})
		if err != nil || len(items) != 1 || len(items[0].Tags) != 2 || !slices.Equal(items[0].Owners, []string{"ci-team"}) ||
			items[0].Untriaged != 1 || items[0].RepName != "ana" {
			t.Errorf("acme line = %+v, %v; want its two tags, owner, untriaged count and rep", items, err)
		}
	})
}

// TestInboxSearchStems checks PostgreSQL's full-text search: words match
// their other forms, and the query runs on the expression index.
func TestInboxSearchStems(t *testing.T) {
	ctx := context.Background()
	s := open(t, testenv.Postgres(t), testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	id := dashItem(t, s, "email", "s1", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		model.Processed{Subject: "Renewal pricing", FullText: "The customer is renewing with discounted seats."})
	indexSearch(t, s)
	for _, q := range []string{"renew", "discount", `"discounted seats"`, "pricing -zebra"} {
		items, _, err := s.Inbox(ctx, store.InboxQuery{Text: q})
		if err != nil || len(items) != 1 || items[0].ID != id {
			t.Errorf("search %q = %v, %v; want item %d", q, items, err, id)
		}
	}
	// On a table this small the planner prefers a scan; forbid it to see
	// whether the index fits the query at all.
	tx, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `set local enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := tx.SelectContext(ctx, &plan, `explain select id from items i where i.id in (select item_id from item_search
		where doc @@ $1::tsquery)`, store.TsqueryOf("renew")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "item_search_doc") {
		t.Errorf("the search does not use the item_search_doc index:\n%s", strings.Join(plan, "\n"))
	}
}

func TestManagerEdits(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		ids := dashReps(t, s, "ana/West")
		at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		// What the rules make of the item, each time it is processed.
		rules := model.Processed{RepID: ids["ana"],
			Tags:        []model.Tag{{Kind: "competitor", Value: "Acme", Origin: "alias"}, {Kind: "category", Value: "intel", Origin: "mailbox"}},
			Assignments: []model.Assignment{{Owner: "ci-team"}, {Owner: "sales-ops"}},
			Outbox: []model.OutboxMessage{{Kind: "owner_notice", Channel: "email", Owner: "sales-ops",
				Recipient: "ops@example.test", Body: []byte("Subject: new intel\r\n\r\nx\r\n")}},
			Ledger: paid(ids["ana"], "2026-03", "category:intel", 3)}
		item := dashItem(t, s, "email", "m1", at, rules)
		stranger := dashItem(t, s, "email", "m2", at, model.Processed{Sender: "x@example.test"})
		again := 0
		processAgain := func() {
			t.Helper()
			// The owner's address changed meanwhile: a notice to sales-ops
			// would be a new outbox row.
			again++
			rules.Outbox[0].Recipient = fmt.Sprintf("ops%d@example.test", again)
			if _, err := s.Reprocess(ctx, []int64{item}); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Claim(ctx, "w", 1, time.Minute); err != nil || len(got) != 1 {
				t.Fatalf("claim: %v %v", got, err)
			}
			if err := s.Complete(ctx, item, "w", rules); err != nil {
				t.Fatal(err)
			}
		}
		tagList := func() []string {
			t.Helper()
			tags, err := s.Tags(ctx, item)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range tags {
				got = append(got, string(tg.Kind)+"="+tg.Value+" by "+tg.Origin)
			}
			return got
		}

		// Retag: a manager's new tag and a rule tag confirmed by a manager
		// both survive processing again; a tag a manager removed stays
		// removed although the rules find it again.
		if err := s.SetManagerTag(ctx, item, "competitor", "Globex", "maria"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetManagerTag(ctx, item, "category", "intel", "maria"); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveTag(ctx, item, "competitor", "Acme", "maria"); err != nil {
			t.Fatal(err)
		}
		processAgain()
		if got, want := tagList(), []string{"category=intel by manager:maria", "competitor=Globex by manager:maria"}; !slices.Equal(got, want) {
			t.Errorf("tags = %v, want %v", got, want)
		}

		// Reassign: an owner a manager removed is not routed to again, nor
		// sent a notice.
		if err := s.Assign(ctx, item, "pricing-pm", "maria"); err != nil {
			t.Fatal(err)
		}
		if err := s.Unassign(ctx, item, "sales-ops", "maria"); err != nil {
			t.Fatal(err)
		}
		count := func(q string) int {
			t.Helper()
			var n int
			if err := s.DB().Get(&n, s.DB().Rebind(q), item); err != nil {
				t.Fatal(err)
			}
			return n
		}
		notices := count(`select count(*) from outbox where item_id = ? and kind = 'owner_notice'`)
		processAgain()
		if count(`select count(*) from assignments where item_id = ? and owner = 'sales-ops'`) != 0 {
			t.Errorf("sales-ops is assigned again after the manager removed it")
		}
		if n := count(`select count(*) from outbox where item_id = ? and kind = 'owner_notice'`); n != notices {
			t.Errorf("%d owner notices after processing again, want %d: none to an owner the manager removed", n, notices)
		}
		// Adding back undoes a removal.
		if err := s.SetManagerTag(ctx, item, "competitor", "Acme", "lee"); err != nil {
			t.Fatal(err)
		}
		if err := s.Assign(ctx, item, "sales-ops", "lee"); err != nil {
			t.Fatal(err)
		}
		if n := count(`select count(*) from manager_removals where item_id = ?`); n != 0 {
			t.Errorf("%d removals left after both were undone", n)
		}
		if err := s.Unassign(ctx, item, "sales-ops", "lee"); err != nil {
			t.Fatal(err)
		}
		if n, err := s.MarkTriaged(ctx, item, "ci-team", "maria"); err != nil || n != 1 {
			t.Errorf("triage one owner = %d, %v; want 1", n, err)
		}
		if n, err := s.MarkTriaged(ctx, item, "", "lee"); err != nil || n != 1 {
			t.Errorf("triage the rest = %d, %v; want 1 (pricing-pm)", n, err)
		}
		as, err := s.ItemAssignments(ctx, item)
		if err != nil || len(as) != 2 || as[0].Owner != "ci-team" || as[0].TriagedBy != "maria" ||
			as[1].Owner != "pricing-pm" || as[1].Route != "manager:maria" || as[1].TriagedBy != "lee" || as[1].TriagedAt.IsZero() {
			t.Errorf("assignments = %+v, %v", as, err)
		}

		// Adjust an item's points.
		adjust := []struct {
			name string
			item int64
			e    model.LedgerEntry
			want error
			ok   bool
		}{
			{"an adjustment with a reason", item, model.LedgerEntry{Points: 5, Reason: "great detail", Month: "2026-03", Actor: "maria"}, nil, true},
			{"the same reason twice pays once", item, model.LedgerEntry{Points: 5, Reason: "great detail", Month: "2026-03", Actor: "maria"}, store.ErrDuplicateAdjustment, false},
			{"no reason", item, model.LedgerEntry{Points: 5, Reason: "  ", Month: "2026-03", Actor: "maria"}, nil, false},
			{"zero points", item, model.LedgerEntry{Points: 0, Reason: "x", Month: "2026-03", Actor: "maria"}, nil, false},
			{"no manager", item, model.LedgerEntry{Points: 1, Reason: "x", Month: "2026-03"}, nil, false},
			{"an unregistered sender", stranger, model.LedgerEntry{Points: 1, Reason: "x", Month: "2026-03", Actor: "maria"}, nil, false},
			{"no such item", 9999, model.LedgerEntry{Points: 1, Reason: "x", Month: "2026-03", Actor: "maria"}, store.ErrNotFound, false},
		}
		for _, tc := range adjust {
			e, err := s.AdjustItemPoints(ctx, tc.item, tc.e)
			switch {
			case tc.ok && (err != nil || e.ID == 0 || e.RepID != ids["ana"] || e.Reason != "adjust:great detail"):
				t.Errorf("%s: %+v, %v", tc.name, e, err)
			case !tc.ok && err == nil:
				t.Errorf("%s: accepted", tc.name)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		rows, err := s.Leaderboard(ctx, model.BoardQuery{Month: "2026-03"})
		if err != nil || len(rows) != 1 || rows[0].Points != 8 || rows[0].Intel != 1 {
			t.Errorf("board after adjusting = %+v, %v; want ana 8 points, 1 intel", rows, err)
		}
	})
}

func TestSessions(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		mk := func(hash string, ttl time.Duration) {
			t.Helper()
			if err := s.CreateSession(ctx, store.WebSession{TokenHash: hash, Username: "maria", CSRFToken: "c-" + hash,
				Via: "password", ExpiresAt: clk.Now().Add(ttl)}); err != nil {
				t.Fatal(err)
			}
		}
		mk("short", time.Hour)
		mk("long", 24*time.Hour)
		if w, err := s.Session(ctx, "short"); err != nil || w.Username != "maria" || w.CSRFToken != "c-short" {
			t.Errorf("session = %+v, %v", w, err)
		}
		clk.Add(2 * time.Hour)
		if _, err := s.Session(ctx, "short"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired session: %v, want ErrNotFound", err)
		}
		mk("new", time.Hour) // purges the expired one
		var n int
		if err := s.DB().GetContext(ctx, &n, `select count(*) from web_sessions`); err != nil || n != 2 {
			t.Errorf("%d sessions after a purge, %v; want 2", n, err)
		}
		if err := s.DeleteSession(ctx, "long"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "long"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted session: %v, want ErrNotFound", err)
		}
		if _, err := s.Session(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown session: %v, want ErrNotFound", err)
		}
	})
}

func TestOutboxListAndQuarantine(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		dashItem(t, s, "email", "o1", at, model.Processed{Outbox: []model.OutboxMessage{
			{Kind: "ack", Channel: "email", Recipient: "a@example.test", Body: []byte("hi")},
			{Kind: "ack", Channel: "email", Recipient: "b@example.test", State: model.OutboxSuppressed, Reason: "auto-reply"},
		}})
		all, err := s.OutboxList(ctx, store.OutboxQuery{})
		if err != nil || len(all) != 2 || all[0].Recipient != "b@example.test" || all[0].Body != nil {
			t.Errorf("outbox = %+v, %v; want two, newest first, without bodies", all, err)
		}
		sup, err := s.OutboxList(ctx, store.OutboxQuery{State: model.OutboxSuppressed})
		if err != nil || len(sup) != 1 || sup[0].Reason != "auto-reply" {
			t.Errorf("suppressed = %+v, %v", sup, err)
		}
		page, err := s.OutboxList(ctx, store.OutboxQuery{BeforeID: all[0].ID, Limit: 5})
		if err != nil || len(page) != 1 || page[0].ID != all[1].ID {
			t.Errorf("next page = %+v, %v", page, err)
		}

		if err := s.EnsureSource(ctx, "dash", "imap"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Receive(ctx, model.Batch{Source: "dash", Items: []model.RawItem{{SourceKey: "q1", Kind: "email",
			ContentHash: "q1", Raw: []byte("x")}}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Claim(ctx, "w", 1, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatal(got, err)
		}
		if q, err := s.Fail(ctx, got[0].ID, "w", fmt.Errorf("parse: boom"), 1); err != nil || !q {
			t.Fatalf("fail = %v, %v", q, err)
		}
		qs, err := s.Quarantined(ctx, 10)
		if err != nil || len(qs) != 1 || qs[0].LastError != "parse: boom" || qs[0].Attempts != 1 {
			t.Errorf("quarantine = %+v, %v", qs, err)
		}
	})
}

// BenchmarkLeaderboard measures the monthly leaderboard with 1,000,000
// ledger rows over 5,000 reps and 12 months on PostgreSQL, reports the
// p95 of 100 runs and logs the query plan.
//
//	go test ./store -run '^$' -bench Leaderboard -benchtime 1x
func BenchmarkLeaderboard(b *testing.B) {
	ctx := context.Background()
	s := open(b, testenv.Postgres(b), testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	db := s.DB()
	start := time.Now()
	for _, step := range []struct{ name, sql string }{
		{"5,000 reps", `insert into reps (name, team) select 'rep ' || g, 'team ' || (g % 20) from generate_series(1, 5000) g`},
		// 100,000 items, one in ten a voicemail, each paid for its category.
		{"100,000 items", `insert into items (kind, content_hash, raw, raw_size, received_at, next_attempt_at, state, rep_id)
			select case when g % 10 = 0 then 'voicemail' else 'email' end, 'bench-' || g, '\x00'::bytea, 1,
			now(), now(), 'processed', 1 + (g % 5000) from generate_series(1, 100000) g`},
		// Every rep has entries in each of the 12 months.
		{"1,000,000 ledger rows", `insert into points_ledger (rep_id, item_id, points, reason, month, actor, created_at)
			select 1 + (g % 5000), case when g <= 100000 then g end, 1 + (g % 7),
			case when g % 3 = 0 then 'category:intel' when g % 3 = 1 then 'category:feedback' else 'bonus:x' end,
			to_char(date '2025-04-01' + (((g / 5000) % 12) || ' months')::interval, 'YYYY-MM'), 'earshot', now()
			from generate_series(1, 1000000) g`},
		{"analyze", `analyze`},
	} {
		t0 := time.Now()
		if _, err := db.ExecContext(ctx, step.sql); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %s", step.name, time.Since(t0).Round(time.Millisecond))
	}
	b.Logf("seeded 1,000,000 ledger rows, 100,000 items and 5,000 reps in %s", time.Since(start).Round(time.Millisecond))
	q := model.BoardQuery{Month: "2026-03"}
	var plan []string
	if err := db.SelectContext(ctx, &plan, `explain (analyze, buffers) select c.rep_id, r.name, r.team, c.points,
			c.intel, c.feedback, c.voicemails, coalesce(p.points, 0), p.rep_id is not null
		from rep_month_totals c join reps r on r.id = c.rep_id
		left join rep_month_totals p on p.month = '2026-02' and p.rep_id = c.rep_id
		where c.month = '2026-03' and ('' = '' or r.team = '') order by c.points desc, r.name, c.rep_id`); err != nil {
		b.Fatal(err)
	}
	b.Logf("plan:\n%s", strings.Join(plan, "\n"))
	b.ResetTimer()
	for range b.N {
		durs := make([]time.Duration, 100)
		for i := range durs {
			t0 := time.Now()
			rows, err := s.Leaderboard(ctx, q)
			if err != nil || len(rows) != 5000 {
				b.Fatalf("leaderboard: %d rows, %v", len(rows), err)
			}
			durs[i] = time.Since(t0)
		}
		sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
		b.ReportMetric(float64(durs[94].Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64(durs[49].Microseconds())/1000, "p50-ms")
	}
}

// A manager removes a tag and an owner while the item is completed again:
// each removal waits for the completion and then removes what the
// completion set again, and neither side fails on a deadlock. The
// completion's statements are run here one at a time, as complete.go
// runs them: the item locked first, then its rule tags and owners
// written again.
func TestManagerRemovalDuringCompletion(t *testing.T) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	s := open(t, testenv.Postgres(t), clk)
	item := dashItem(t, s, "email", "m1", clk.Now(), model.Processed{
		Tags:        []model.Tag{{Kind: "competitor", Value: "Acme", Origin: "alias"}},
		Assignments: []model.Assignment{{Owner: "sales-ops"}}})
	for _, tc := range []struct {
		name    string
		remove  func() error
		rewrite []string
	}{
		{"tag", func() error { return s.RemoveTag(ctx, item, "competitor", "Acme", "maria") }, []string{
			`delete from tags where item_id = $1 and origin not like 'manager%'`,
			`insert into tags (item_id, kind, value, evidence, origin) values ($1, 'competitor', 'Acme', '[]', 'alias')
				on conflict (item_id, kind, value) do nothing`}},
		{"owner", func() error { return s.Unassign(ctx, item, "sales-ops", "maria") }, []string{
			`insert into assignments (item_id, owner, route, created_at) values ($1, 'sales-ops', 'rule', now())
				on conflict (item_id, owner) do nothing`}},
	} {
		c, err := s.DB().BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ExecContext(ctx, `select id from items where id = $1 for update`, item); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- tc.remove() }()
		awaitBlocked(t, s, c, done)
		for _, q := range tc.rewrite {
			if _, err := c.ExecContext(ctx, q, item); err != nil {
				t.Fatalf("%s: the completion: %v", tc.name, err)
			}
		}
		if err := c.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("%s: the removal: %v", tc.name, err)
		}
	}
	var left, removals int
	if err := s.DB().GetContext(ctx, &left, `select (select count(*) from tags where item_id = $1)
		+ (select count(*) from assignments where item_id = $1)`, item); err != nil || left != 0 {
		t.Errorf("%d tags and owners left (%v), want none", left, err)
	}
	if err := s.DB().GetContext(ctx, &removals, `select count(*) from manager_removals where item_id = $1`, item); err != nil || removals != 2 {
		t.Errorf("%d removals recorded (%v), want 2", removals, err)
	}
}
