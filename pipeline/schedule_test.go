package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
)

const scheduleConfig = `
database: sqlite:unused.db
timezone: America/Los_Angeles
http: {public_url: "https://earshot.example.test"}
smtp: {host: 127.0.0.1, port: 2525, tls: none, from: "Earshot <earshot@example.test>", hostname: earshot.example.test}
owners:
  - {name: ci-lead, email: ci@example.test, digest: hourly, sla: 4h}
  - {name: billing-pm, email: billing@example.test, digest: daily}
  - {name: product-ops, email: ops@example.test}
route: {owner: product-ops}
`

// schedHarness is a migrated store of one dialect with a settable clock,
// and what it takes to open the same database again (another replica, a
// restart).
type schedHarness struct {
	t   *testing.T
	url string
	cfg *config.Config
	s   *store.Store
	mu  sync.Mutex
	now time.Time
	n   int
}

func (h *schedHarness) Now() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now }

// set moves the clock to a time.
func (h *schedHarness) set(t time.Time) { h.mu.Lock(); defer h.mu.Unlock(); h.now = t }

// schedDialects runs fn on a fresh SQLite file and on a fresh PostgreSQL
// schema, with the clock at start.
func schedDialects(t *testing.T, start time.Time, fn func(t *testing.T, h *schedHarness)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			cfg, err := config.Parse([]byte(scheduleConfig), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			h := &schedHarness{t: t, cfg: cfg, now: start, url: "sqlite:" + filepath.Join(t.TempDir(), "earshot.db")}
			if d == "postgres" {
				h.url = testenv.Postgres(t)
			}
			h.s = h.open()
			if _, err := h.s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			fn(t, h)
		})
	}
}

// open opens another handle on the harness's database.
func (h *schedHarness) open() *store.Store {
	h.t.Helper()
	s, err := store.Open(context.Background(), h.url, &store.Options{Now: h.Now})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { s.Close() })
	return s
}

// scheduler makes a Scheduler on st with the harness's clock.
func (h *schedHarness) scheduler(st *store.Store, managers ...string) *pipeline.Scheduler {
	h.t.Helper()
	sch, err := pipeline.NewScheduler(h.cfg, st, managers, slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	sch.Now, sch.Composer.Now = h.Now, h.Now
	return sch
}

// run runs sch once at the harness's clock.
func (h *schedHarness) run(sch *pipeline.Scheduler) {
	h.t.Helper()
	if err := sch.RunOnce(context.Background(), h.Now()); err != nil {
		h.t.Fatal(err)
	}
}

// item stores a processed email received and routed now, with its tags
// and owners, and returns its id.
func (h *schedHarness) item(subject string, p model.Processed) int64 {
	h.t.Helper()
	ctx := context.Background()
	h.n++
	if err := h.s.EnsureSource(ctx, "intel", "imap"); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.s.Receive(ctx, model.Batch{Source: "intel", Items: []model.RawItem{{SourceKey: fmt.Sprint(h.n),
		Kind: "email", ContentHash: fmt.Sprint("sched-", h.n), Raw: []byte(subject)}}}); err != nil {
		h.t.Fatal(err)
	}
	got, err := h.s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(got) != 1 {
		h.t.Fatalf("claim: %v %v", got, err)
	}
	p.Subject, p.BodyText = subject, "About "+subject
	if err := h.s.Complete(ctx, got[0].ID, "w", p); err != nil {
		h.t.Fatal(err)
	}
	return got[0].ID
}

// routed is an intel item about Acme routed to owners.
func routed(owners ...string) model.Processed {
	p := model.Processed{Tags: []model.Tag{{Kind: "category", Value: "intel"}, {Kind: "competitor", Value: "Acme"}}}
	for _, o := range owners {
		p.Assignments = append(p.Assignments, model.Assignment{Owner: o, Route: "test"})
	}
	return p
}

// sent is the scheduled mail enqueued so far: rows about no single item,
// as "kind recipient: subject", oldest first.
func (h *schedHarness) sent() []string {
	h.t.Helper()
	var rows []model.OutboxMessage
	if err := h.s.DB().Select(&rows, `select id, kind, recipient, subject, body, state, reason from outbox
		where item_id is null order by id`); err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, m := range rows {
		line := string(m.Kind) + " " + m.Recipient + ": " + m.Subject
		if m.State != model.OutboxPending {
			line += " [" + string(m.State) + ": " + m.Reason + "]"
		}
		out = append(out, line)
	}
	return out
}

// body returns the To header and the text of the n-th scheduled message.
func (h *schedHarness) body(n int) (to, text string) {
	h.t.Helper()
	var bodies [][]byte
	if err := h.s.DB().Select(&bodies, `select body from outbox where item_id is null order by id`); err != nil {
		h.t.Fatal(err)
	}
	if n >= len(bodies) {
		h.t.Fatalf("no scheduled message %d of %d", n, len(bodies))
	}
	hdr, text := ackText(h.t, model.OutboxMessage{Body: bodies[n]})
	return hdr.Get("To"), text
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

var la = func() *time.Location {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic(err)
	}
	return loc
}()

// An hourly owner gets one digest at the top of the hour about what came
// in during the hour before, and not again; an immediate owner none.
func TestSchedulerHourlyDigest(t *testing.T) {
	schedDialects(t, time.Date(2026, 3, 3, 9, 0, 20, 0, la), func(t *testing.T, h *schedHarness) {
		sch := h.scheduler(h.s)
		h.run(sch) // 09:00: nothing waits
		h.set(time.Date(2026, 3, 3, 9, 10, 0, 0, la))
		a := h.item("Acme cuts prices", routed("ci-lead", "product-ops"))
		h.set(time.Date(2026, 3, 3, 9, 40, 0, 0, la))
		b := h.item("Acme at Initech", routed("ci-lead"))
		h.run(sch)
		equalLines(t, "within the hour", h.sent(), nil)

		for _, at := range []time.Time{
			time.Date(2026, 3, 3, 10, 0, 5, 0, la),
			time.Date(2026, 3, 3, 10, 0, 45, 0, la),
			time.Date(2026, 3, 3, 10, 30, 0, 0, la),
		} {
			h.set(at)
			h.run(sch)
		}
		equalLines(t, "after 10:00", h.sent(), []string{
			"digest ci@example.test: [Earshot] 2 new items for ci-lead (Tuesday 3 March 2026, 09:00 to 10:00)",
		})
		_, body := h.body(0)
		for _, want := range []string{"Acme cuts prices", "Acme at Initech",
			fmt.Sprintf("https://earshot.example.test/items/%d", a), fmt.Sprintf("https://earshot.example.test/items/%d", b)} {
			if !strings.Contains(body, want) {
				t.Errorf("digest lacks %q:\n%s", want, body)
			}
		}

		h.set(time.Date(2026, 3, 3, 11, 0, 30, 0, la))
		h.run(sch)
		equalLines(t, "an hour with nothing new", h.sent()[1:], nil)
	})
}

// A daily owner gets the digest at 08:00 local time, which moves from
// 16:00 to 15:00 UTC when daylight saving time starts (8 March 2026).
func TestSchedulerDailyDigestAcrossDST(t *testing.T) {
	start := time.Date(2026, 3, 7, 15, 30, 0, 0, time.UTC) // 07:30 PST
	schedDialects(t, start, func(t *testing.T, h *schedHarness) {
		sch := h.scheduler(h.s)
		h.item("Invoices are confusing", routed("billing-pm"))
		steps := []struct {
			at   time.Time
			item string
			want []string
		}{
			{time.Date(2026, 3, 7, 15, 59, 59, 0, time.UTC), "", nil},
			{time.Date(2026, 3, 7, 16, 0, 0, 0, time.UTC), "Billing emails bounce", []string{
				"digest billing@example.test: [Earshot] 1 new item for billing-pm (Saturday 7 March 2026)"}},
			{time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC), "", nil},
			// 14:59 UTC is 07:59 PDT: not yet, although it is past 08:00 PST.
			{time.Date(2026, 3, 8, 14, 59, 0, 0, time.UTC), "", nil},
			{time.Date(2026, 3, 8, 15, 0, 30, 0, time.UTC), "", []string{
				"digest billing@example.test: [Earshot] 1 new item for billing-pm (Sunday 8 March 2026)"}},
			// Both items have now waited 24 hours: one reminder about both.
			{time.Date(2026, 3, 8, 16, 0, 0, 0, time.UTC), "", []string{
				"reminder billing@example.test: [Earshot] 2 items wait for your triage"}},
			{time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC), "", nil},
		}
		for _, st := range steps {
			before := len(h.sent())
			h.set(st.at)
			h.run(sch)
			equalLines(t, st.at.In(la).String(), h.sent()[before:], st.want)
			if st.item != "" {
				h.item(st.item, routed("billing-pm"))
			}
		}
	})
}

// An assignment left untriaged past its owner's SLA earns exactly one
// reminder; triaged items none.
func TestSchedulerReminder(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 9, 0, 30, 0, la)
	schedDialects(t, t0, func(t *testing.T, h *schedHarness) {
		sch := h.scheduler(h.s)
		h.run(sch)
		h.item("Acme wins at Globex", routed("ci-lead", "product-ops"))
		done := h.item("Acme hires", routed("ci-lead"))
		if _, err := h.s.TriageAssignments(context.Background(), []int64{done}, "", "kim"); err != nil {
			t.Fatal(err)
		}
		reminder := "reminder ci@example.test: [Earshot] 1 item waits for your triage"
		steps := []struct {
			after time.Duration
			want  []string
		}{
			{4*time.Hour - time.Second, nil},
			{4 * time.Hour, []string{reminder}},
			{5 * time.Hour, nil},
			{24*time.Hour - time.Second, nil},
			{24 * time.Hour, []string{"reminder ops@example.test: [Earshot] 1 item waits for your triage"}},
			{72 * time.Hour, nil},
		}
		for _, st := range steps {
			before := h.sent()
			h.set(t0.Add(st.after))
			h.run(sch)
			got := h.sent()[len(before):]
			// The hourly digest of ci-lead goes out at 10:00 as well.
			var reminders []string
			for _, g := range got {
				if strings.HasPrefix(g, "reminder") {
					reminders = append(reminders, g)
				}
			}
			equalLines(t, fmt.Sprint("after ", st.after), reminders, st.want)
		}
		if _, body := h.body(1); !strings.Contains(body, "Acme wins at Globex") || !strings.Contains(body, "waiting 4h") {
			t.Errorf("reminder body:\n%s", body)
		}
	})
}

// The manager digest goes out once per month, on the first day in the
// configured zone: two replicas running at the same moment and a restart
// later that day send it once; mail to our own address is kept
// suppressed.
func TestSchedulerManagerDigest(t *testing.T) {
	schedDialects(t, time.Date(2026, 2, 12, 10, 0, 0, 0, la), func(t *testing.T, h *schedHarness) {
		ctx := context.Background()
		if _, err := h.s.ImportReps(ctx, []model.Rep{{Name: "Dana Reyes", Team: "East", Emails: []string{"dana@example.test"}, Line: 2}}); err != nil {
			t.Fatal(err)
		}
		dana, err := h.s.RepByContact(ctx, "email", "dana@example.test")
		if err != nil {
			t.Fatal(err)
		}
		p := routed()
		p.RepID = dana.ID
		p.Ledger = []model.LedgerEntry{{RepID: dana.ID, Points: 5, Reason: "category:intel", Month: "2026-02"}}
		h.item("Acme drops its free tier", p)

		managers := []string{"kim@example.test", "Lee Park <lee@example.test>", "earshot@example.test"}
		h.set(time.Date(2026, 2, 28, 23, 59, 0, 0, la))
		h.run(h.scheduler(h.s, managers...))
		equalLines(t, "the last day of February", h.sent(), nil)

		// 1 March 00:30 in Los Angeles is 08:30 UTC: two replicas at once.
		h.set(time.Date(2026, 3, 1, 0, 30, 0, 0, la))
		replicas := []*pipeline.Scheduler{h.scheduler(h.s, managers...), h.scheduler(h.open(), managers...)}
		var wg sync.WaitGroup
		errs := make([]error, len(replicas))
		for i, sch := range replicas {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = sch.RunOnce(ctx, h.Now()) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		want := []string{
			"digest kim@example.test: [Earshot] Leaderboard for February 2026",
			"digest lee@example.test: [Earshot] Leaderboard for February 2026",
			"digest earshot@example.test:  [suppressed: our own address]",
		}
		equalLines(t, "1 March", h.sent(), want)
		to, body := h.body(1)
		for _, w := range []string{"Dana Reyes", "5 points", "Acme drops its free tier"} {
			if !strings.Contains(body, w) {
				t.Errorf("manager digest lacks %q:\n%s", w, body)
			}
		}
		if !strings.Contains(to, "Lee Park") || !strings.Contains(to, "<lee@example.test>") {
			t.Errorf("manager digest to %q", to)
		}

		// A restart later that day: a new scheduler on a new connection.
		h.set(time.Date(2026, 3, 1, 18, 0, 0, 0, la))
		h.run(h.scheduler(h.open(), managers...))
		h.set(time.Date(2026, 3, 2, 0, 30, 0, 0, la))
		h.run(h.scheduler(h.s, managers...))
		equalLines(t, "after a restart and the next day", h.sent(), want)

		h.set(time.Date(2026, 4, 1, 7, 0, 0, 0, la))
		h.run(h.scheduler(h.s, "kim@example.test"))
		equalLines(t, "1 April", h.sent()[len(want):], []string{"digest kim@example.test: [Earshot] Leaderboard for March 2026"})
		if _, body := h.body(len(want)); !strings.Contains(body, "No points were earned") {
			t.Errorf("March had no points:\n%s", body)
		}
	})
}

// Run enqueues what is due at once and stops with its context; without
// smtp it returns at once and enqueues nothing.
func TestSchedulerRunStops(t *testing.T) {
	schedDialects(t, time.Date(2026, 3, 3, 9, 59, 0, 0, la), func(t *testing.T, h *schedHarness) {
		h.item("Acme price sheet", routed("ci-lead"))
		h.set(time.Date(2026, 3, 3, 10, 0, 0, 0, la))
		noSMTP := *h.cfg
		noSMTP.SMTP = nil
		off, err := pipeline.NewScheduler(&noSMTP, h.s, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		off.Run(context.Background())
		if got := h.sent(); len(got) != 0 {
			t.Fatalf("sent %q without smtp", got)
		}

		sch := h.scheduler(h.s)
		sch.Interval = 10 * time.Millisecond
		wake := make(chan struct{}, 1)
		sch.Wake = wake
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { sch.Run(ctx); close(done) }()
		select {
		case <-wake:
		case <-time.After(10 * time.Second):
			t.Fatal("no wake-up after enqueueing a digest")
		}
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not stop")
		}
		if got := h.sent(); len(got) != 1 {
			t.Errorf("sent %q; want one digest", got)
		}
	})
}
