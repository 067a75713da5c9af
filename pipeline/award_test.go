package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/store"
)

const awardConfig = `
database: %[1]s
timezone: America/Los_Angeles
http: {public_url: "https://earshot.example.test"}
mailboxes:
  - {name: feedback, address: feedback@example.test, category: feedback, imap: {host: 127.0.0.1, tls: none, username: f, password: p}, contributors: %[3]s}
  - {name: intel, address: intel@example.test, category: intel, imap: {host: 127.0.0.1, tls: none, username: i, password: p}, contributors: %[3]s}
smtp: {host: 127.0.0.1, port: 2525, tls: none, from: "Earshot <earshot@example.test>", hostname: earshot.example.test}
owners:
  - {name: ci-lead, email: ci@example.test}
  - {name: billing-pm, email: billing@example.test, digest: daily}
  - {name: product-ops, email: ops@example.test}
competitors:
  - {name: Acme, aliases: [Acme Corp], owner: ci-lead}
  - {name: Hooli}
  - {name: Vandelay}
products:
  - {name: Billing, keywords: [billing, invoice], owner: billing-pm, weight: 2}
route:
  owner: product-ops
  routes:
    - {match: [category=intel], owner: ci-lead}
points:
  categories: {intel: 3, feedback: 1}
  first_intel_bonus: 2
  new_competitor_bonus: 2
  goals: [{name: competitive nugget, category: intel, count: 1}]
acks: {enabled: true, daily_cap: %[2]d}
`

// awardHarness processes items the way the workers do: Process, then
// award, then Complete in one transaction.
type awardHarness struct {
	t   *testing.T
	s   *store.Store
	cfg *config.Config
	p   *pipeline.Processor
	a   *pipeline.Awarder
	n   int
	// now is the clock of the store and the awarder.
	now time.Time
}

func newAwardHarness(t *testing.T, dailyCap int) *awardHarness {
	t.Helper()
	return newGatedHarness(t, dailyCap, "{require: none}", nil)
}

// newAwardHarnessOn is an award harness on the database given as a DSN.
func newAwardHarnessOn(t *testing.T, database string, dailyCap int) *awardHarness {
	t.Helper()
	return newHarness(t, database, dailyCap, "{require: none}", nil)
}

// newGatedHarness is an award harness whose mailboxes have the
// contributors policy given in YAML, checked by check.
func newGatedHarness(t *testing.T, dailyCap int, contributors string, check pipeline.SenderCheck) *awardHarness {
	t.Helper()
	return newHarness(t, "sqlite:"+filepath.Join(t.TempDir(), "e.db"), dailyCap, contributors, check)
}

func newHarness(t *testing.T, database string, dailyCap int, contributors string, check pipeline.SenderCheck) *awardHarness {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse([]byte(fmt.Sprintf(awardConfig, database, dailyCap, contributors)),
		func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	h := &awardHarness{t: t, cfg: cfg, now: time.Date(2026, 3, 3, 10, 0, 0, 0, cfg.Location)}
	s, err := store.Open(ctx, cfg.Database.Value(), &store.Options{Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"feedback", "intel"} {
		if err := s.EnsureSource(ctx, src, "imap"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ImportReps(ctx, []model.Rep{
		{Name: "Dana Reyes", Emails: []string{"dana@example.test"}, Line: 2},
		{Name: "Sam Okafor", Emails: []string{"sam@example.test"}, Line: 3},
	}); err != nil {
		t.Fatal(err)
	}
	router, err := pipeline.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := pipeline.NewAwarder(cfg, s, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a.Planner.Now = func() time.Time { return h.now }
	h.s, h.p, h.a = s, &pipeline.Processor{Store: s, Router: router, Gate: pipeline.NewGate(cfg, s, check)}, a
	return h
}

// deliver stores a raw message as received in a mailbox at a time.
func (h *awardHarness) deliver(mailbox string, at time.Time, header, body string) {
	h.t.Helper()
	h.n++
	raw := fmt.Sprintf("%sTo: %s@example.test\r\nDate: %s\r\n\r\n%s\r\n", header, mailbox, at.Format(time.RFC1123Z), body)
	if !strings.Contains(header, "Message-ID:") {
		raw = fmt.Sprintf("Message-ID: <m%d@mail.example.test>\r\n", h.n) + raw
	}
	_, err := h.s.Receive(context.Background(), model.Batch{Source: mailbox, Items: []model.RawItem{{
		SourceKey: fmt.Sprint("1:", h.n), Kind: "email", Mailbox: mailbox + "@example.test",
		ContentHash: fmt.Sprint("hash-", h.n), Raw: []byte(raw), ReceivedAt: at,
	}}})
	if err != nil {
		h.t.Fatal(err)
	}
}

// process processes the next due item and returns its id and result.
func (h *awardHarness) process() (int64, model.Processed) {
	h.t.Helper()
	ctx := context.Background()
	items, err := h.s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(items) != 1 {
		h.t.Fatalf("claim: %v %v", items, err)
	}
	it := items[0]
	res, err := h.p.Process(ctx, it)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.a.Award(ctx, it, &res); err != nil {
		h.t.Fatal(err)
	}
	if err := h.s.Complete(ctx, it.ID, "w", res); err != nil {
		h.t.Fatal(err)
	}
	return it.ID, res
}

// outbox returns an item's outbox rows by kind and recipient.
func (h *awardHarness) outbox(item int64) map[string]model.OutboxMessage {
	h.t.Helper()
	msgs, err := h.s.ItemOutbox(context.Background(), item)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]model.OutboxMessage{}
	for _, m := range msgs {
		out[string(m.Kind)+" "+m.Recipient] = m
	}
	return out
}

// ackText returns the text part of a stored email ack.
func ackText(t *testing.T, m model.OutboxMessage) (gomail.Header, string) {
	t.Helper()
	mr, err := gomail.CreateReader(bytes.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(p.Body)
	return mr.Header, string(b)
}

func reasons(entries []model.LedgerEntry) string {
	var out []string
	for _, e := range entries {
		out = append(out, fmt.Sprintf("%s=%d@%s", e.Reason, e.Points, e.Month))
	}
	return strings.Join(out, " ")
}

func TestAwardIntelAtMonthEndInLosAngeles(t *testing.T) {
	h := newAwardHarness(t, 20)
	la := h.cfg.Location
	// 23:30 on March 31 in Los Angeles is April 1 in UTC: March points.
	at := time.Date(2026, 3, 31, 23, 30, 0, 0, la)
	h.deliver("intel", at, "From: Dana Reyes <dana@example.test>\r\nSubject: Re: RE: Acme at Globex\r\nReferences: <root@mail.example.test>\r\n",
		"Globex says Acme Corp offered them 40% off.")
	item, res := h.process()
	if got, want := reasons(res.Ledger), "category:intel=3@2026-03 bonus:first-intel-of-month=2@2026-03 bonus:new-competitor:Acme=2@2026-03"; got != want {
		t.Errorf("ledger = %s\nwant %s", got, want)
	}
	out := h.outbox(item)
	ack, ok := out["ack dana@example.test"]
	if !ok || ack.State != model.OutboxPending || ack.Channel != "email" {
		t.Fatalf("ack = %+v (outbox %v)", ack, out)
	}
	hdr, text := ackText(t, ack)
	subject, _ := hdr.Subject()
	refs, _ := hdr.MsgIDList("References")
	from, _ := hdr.AddressList("From")
	if subject != "Re: Acme at Globex" || strings.Join(refs, " ") != "root@mail.example.test m1@mail.example.test" ||
		hdr.Get("Auto-Submitted") != "auto-replied" || from[0].Address != "intel@example.test" {
		t.Errorf("ack header: subject %q, references %v, auto-submitted %q, from %v", subject, refs, hdr.Get("Auto-Submitted"), from[0])
	}
	for _, want := range []string{"Thanks, Dana!", "You earned 7 points", "March 2026: 7 points, rank 1 of 1",
		"All time: 7 points", "Goal: 1 of 1 competitive nugget this month - reached!"} {
		if !strings.Contains(text, want) {
			t.Errorf("ack lacks %q:\n%s", want, text)
		}
	}
	notice, ok := out["owner_notice ci@example.test"]
	if !ok || notice.State != model.OutboxPending || !bytes.Contains(notice.Body, []byte("Content-Type: message/rfc822")) ||
		!bytes.Contains(notice.Body, []byte("Reply-To: \"Dana Reyes\" <dana@example.test>")) {
		t.Errorf("notice to the immediate owner = %s %q", notice.State, notice.Subject)
	}
	if len(out) != 2 {
		t.Errorf("outbox = %d rows, want the ack and one notice", len(out))
	}
	tally, err := h.a.Rules.Tally(context.Background(), h.s, res.RepID, "2026-03", nil)
	if err != nil || tally.Points != 7 {
		t.Errorf("stored March tally = %+v %v", tally, err)
	}
}

func TestAwardLoopsAreNotAnswered(t *testing.T) {
	h := newAwardHarness(t, 20)
	at := time.Date(2026, 3, 3, 10, 0, 0, 0, h.cfg.Location)
	h.deliver("feedback", at, "From: dana@example.test\r\nSubject: Invoice export\r\n", "Initech wants billing exports.")
	item, _ := h.process()
	ack := h.outbox(item)["ack dana@example.test"]
	ackHeader, _ := ackText(t, ack)
	ackID, err := ackHeader.MessageID()
	if err != nil || ackID == "" {
		t.Fatalf("ack message id: %q %v", ackID, err)
	}

	cases := []struct {
		name, header, body, want string
	}{
		{"an out-of-office reply to our ack (RFC 3834)",
			"From: dana@example.test\r\nSubject: Automatic reply: Re: Invoice export\r\nAuto-Submitted: auto-replied\r\nIn-Reply-To: <" + ackID + ">\r\n",
			"I am out of the office until Monday.", "auto-generated (auto-submitted: auto-replied)"},
		{"an auto-responder that marks nothing but answers our ack",
			"From: dana@example.test\r\nSubject: Re: Invoice export\r\nIn-Reply-To: <" + ackID + ">\r\nReferences: <" + ackID + ">\r\n",
			"Thanks for your message.", "reply to a message earshot sent"},
		{"another Earshot's ack, from its smtp.from",
			"From: Earshot <earshot@example.test>\r\nSubject: Re: Invoice export\r\n",
			"Thanks, Dana!", "our own address"},
	}
	for _, c := range cases {
		h.deliver("feedback", at.Add(time.Hour), c.header, c.body)
		id, res := h.process()
		out := h.outbox(id)
		var acks []model.OutboxMessage
		for _, m := range out {
			if m.Kind == "ack" {
				acks = append(acks, m)
			}
		}
		if len(acks) != 1 || acks[0].State != model.OutboxSuppressed || acks[0].Reason != c.want || len(acks[0].Body) != 0 {
			t.Errorf("%s: acks %+v, want one suppressed: %s", c.name, acks, c.want)
		}
		if c.want == "auto-generated (auto-submitted: auto-replied)" && (len(res.Ledger) != 0 || len(out) != 1) {
			t.Errorf("%s: %d ledger entries, %d outbox rows; want none but the suppressed ack", c.name, len(res.Ledger), len(out))
		}
	}
}

func TestAwardTallyFollowsAdjustments(t *testing.T) {
	h := newAwardHarness(t, 20)
	ctx := context.Background()
	at := time.Date(2026, 3, 3, 10, 0, 0, 0, h.cfg.Location)
	var log bytes.Buffer
	if _, err := points.Adjust(ctx, &log, h.s, h.a.Rules, points.Adjustment{Rep: "Sam Okafor", Points: 10, Reason: "Globex win", Actor: "kim"}, at); err != nil {
		t.Fatal(err)
	}
	h.deliver("feedback", at, "From: Dana Reyes <dana@example.test>\r\nSubject: Reports\r\n", "Customers like the new reports.")
	item, _ := h.process()
	if _, text := ackText(t, h.outbox(item)["ack dana@example.test"]); !strings.Contains(text, "March 2026: 1 point, rank 2 of 2") {
		t.Errorf("first ack:\n%s", text)
	}
	if _, err := points.Adjust(ctx, &log, h.s, h.a.Rules, points.Adjustment{Rep: "dana@example.test", Points: 9, Reason: "call notes", Actor: "kim"}, at); err != nil {
		t.Fatal(err)
	}
	// 1 + 9 + 1 = 11 beats Sam's 10.
	h.deliver("feedback", at.Add(time.Hour), "From: Dana Reyes <dana@example.test>\r\nSubject: Reports again\r\n", "They want CSV too.")
	item, _ = h.process()
	if _, text := ackText(t, h.outbox(item)["ack dana@example.test"]); !strings.Contains(text, "March 2026: 11 points, rank 1 of 2") {
		t.Errorf("ack after the adjustment:\n%s", text)
	}
}

// A sender outside the roster earns nothing and gets no ack; once the
// sender is added to the roster, processing again pays the points and
// sends the ack that was withheld.
func TestAwardWaitsForRegistration(t *testing.T) {
	h := newAwardHarness(t, 20)
	ctx := context.Background()
	at := time.Date(2026, 3, 3, 10, 0, 0, 0, h.cfg.Location)
	h.deliver("intel", at, "From: Lee Park <lee@example.test>\r\nSubject: Acme\r\n", "Acme is hiring our reps.")
	item, res := h.process()
	if len(res.Ledger) != 0 || res.RepID != 0 || res.Trust != model.TrustStranger || len(res.Assignments) != 0 {
		t.Fatalf("an unregistered sender: trust %s, ledger %+v, owners %+v; want a stranger, unpaid and unrouted",
			res.Trust, res.Ledger, res.Assignments)
	}
	ack := h.outbox(item)["ack lee@example.test"]
	if ack.State != model.OutboxSuppressed || ack.Reason != outbound.ReasonNotContributor || len(h.outbox(item)) != 1 {
		t.Errorf("messages to and about an unregistered sender: %v; want only a suppressed ack", h.outbox(item))
	}
	if _, err := h.s.ImportReps(ctx, []model.Rep{{Name: "Lee Park", Emails: []string{"lee@example.test"}, Line: 2}}); err != nil {
		t.Fatal(err)
	}
	if n, err := h.s.ReleaseWaitingPoints(ctx); err != nil || n != 1 {
		t.Fatalf("released %d items, %v", n, err)
	}
	again, res := h.process()
	if again != item || res.Trust != model.TrustRep ||
		reasons(res.Ledger) != "category:intel=3@2026-03 bonus:first-intel-of-month=2@2026-03 bonus:new-competitor:Acme=2@2026-03" {
		t.Errorf("after registering: item %d, trust %s, ledger %s", again, res.Trust, reasons(res.Ledger))
	}
	paid, _ := h.s.ItemLedger(ctx, item)
	if len(paid) != 3 {
		t.Errorf("paid %d entries, want 3", len(paid))
	}
	out := h.outbox(item)
	if sent := out["ack lee@example.test"]; sent.ID != ack.ID || sent.State != model.OutboxPending {
		t.Errorf("the withheld ack after registering: %+v; want the same row, now pending", sent)
	}
	if _, ok := out["owner_notice ci@example.test"]; !ok || len(out) != 2 {
		t.Errorf("after registering: %v; want the ack and the owner's notice", out)
	}
}

func TestAwardDuplicateAndDailyCap(t *testing.T) {
	h := newAwardHarness(t, 1)
	ctx := context.Background()
	at := time.Date(2026, 3, 3, 10, 0, 0, 0, h.cfg.Location)
	h.deliver("feedback", at, "From: Dana Reyes <dana@example.test>\r\nSubject: Reports\r\n", "Customers like the new reports.")
	h.deliver("feedback", at, "From: Dana Reyes <dana@example.test>\r\nSubject: Fwd: Reports\r\n", "Customers like the new reports.")
	first, _ := h.process()
	if _, err := h.s.DB().ExecContext(ctx, `update items set duplicate_of = ? where id = ?`, first, first+1); err != nil {
		t.Fatal(err)
	}
	second, res := h.process()
	if len(res.Ledger) != 0 {
		t.Errorf("a duplicate was paid: %s", reasons(res.Ledger))
	}
	ack := h.outbox(second)["ack dana@example.test"]
	if ack.State != model.OutboxSuppressed || ack.Reason != "daily cap of 1 acks reached" {
		t.Errorf("second ack of the day = %s %q, want suppressed by the cap", ack.State, ack.Reason)
	}
	// The next day the cap starts over; the duplicate's ack says why it
	// earned nothing.
	h.now = at.Add(24 * time.Hour)
	h.deliver("feedback", at.Add(24*time.Hour), "From: Dana Reyes <dana@example.test>\r\nSubject: Fwd: Reports\r\n", "Customers like the new reports!")
	if _, err := h.s.DB().ExecContext(ctx, `update items set duplicate_of = ? where id = ?`, first, first+2); err != nil {
		t.Fatal(err)
	}
	third, _ := h.process()
	if _, text := ackText(t, h.outbox(third)["ack dana@example.test"]); !strings.Contains(text, fmt.Sprintf("This one earns no points: duplicate of item %d.", first)) {
		t.Errorf("duplicate's ack:\n%s", text)
	}
}

// Workers complete a claimed batch in one transaction, yet every item is
// awarded as if the items had been processed one at a time: the same
// ledger, the same acks (tallies, ranks, goals, the daily cap) and the
// same notices as an item-by-item run of the same mail, on both
// databases. Items of one rep, and acks to one recipient, share a
// transaction: only a first report of a competitor an item before it in
// the batch names makes the batch store what it holds first.
func TestAwardBatchMatchesOneAtATime(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testAwardBatch(t, func() string { return "sqlite:" + filepath.Join(t.TempDir(), "e.db") })
	})
	t.Run("postgres", func(t *testing.T) {
		testAwardBatch(t, func() string { return testenv.Postgres(t) })
	})
}

// countingStore counts a store's completions, and the caps' and the
// gate's questions put to it rather than to a batch's reads.
type countingStore struct {
	*store.Store
	batches, single, ackCounts, repByContact int
}

func (c *countingStore) RepByContact(ctx context.Context, kind, value string) (model.Rep, error) {
	c.repByContact++
	return c.Store.RepByContact(ctx, kind, value)
}

func (c *countingStore) AckCounts(ctx context.Context, q model.AckQuery) (model.AckCounts, error) {
	c.ackCounts++
	return c.Store.AckCounts(ctx, q)
}

func (c *countingStore) CompleteBatch(ctx context.Context, worker string, batch []store.Done) ([]error, error) {
	c.batches++
	return c.Store.CompleteBatch(ctx, worker, batch)
}

func (c *countingStore) Complete(ctx context.Context, id int64, worker string, p model.Processed) error {
	c.single++
	return c.Store.Complete(ctx, id, worker, p)
}

func testAwardBatch(t *testing.T, database func() string) {
	mail := []struct{ mailbox, from, subject, body string }{
		{"intel", "Dana Reyes <dana@example.test>", "Acme", "Acme Corp is cutting prices in the west."},
		{"intel", "Sam Okafor <sam@example.test>", "Acme again", "Acme Corp called our biggest customer."},
		{"feedback", "Dana Reyes <dana@example.test>", "Invoices", "The billing page confuses customers."},
		{"intel", "Dana Reyes <dana@example.test>", "More Acme", "Acme Corp hired two of our partners."},
		{"feedback", "Sam Okafor <sam@example.test>", "Reports", "Customers like the new reports."},
		{"intel", "Dana Reyes <dana@example.test>", "Pricing", "A rival offers free onboarding."},
		{"feedback", "Lee Stranger <lee@elsewhere.test>", "Hello", "Who do I talk to about invoices?"},
		{"intel", "Sam Okafor <sam@example.test>", "Acme hiring", "Acme Corp is hiring in Denver."},
	}
	run := func(batched bool) map[int64]string {
		h := newAwardHarnessOn(t, database(), 3)
		at := time.Date(2026, 3, 3, 9, 0, 0, 0, h.cfg.Location)
		for i, m := range mail {
			h.deliver(m.mailbox, at.Add(time.Duration(i)*time.Minute), "From: "+m.from+"\r\nSubject: "+m.subject+"\r\n", m.body)
		}
		ctx := context.Background()
		if batched {
			p := *h.p
			cs := &countingStore{Store: h.s}
			a := *h.a
			a.Store = cs
			p.Awarder, p.Store, p.Gate = &a, cs, pipeline.NewGate(h.cfg, cs, nil)
			// A lease long enough that a slow machine never reaches its
			// half, where a batch is stored early to renew the claims.
			w := &pipeline.Workers{Store: cs, Processor: &p, Name: "w", Batch: len(mail), Lease: 30 * time.Minute,
				MaxAttempts: 3, Log: slog.New(slog.DiscardHandler)}
			if n, err := w.RunOnce(ctx, "w/0"); err != nil || n != len(mail) {
				t.Fatalf("one batch took %d items, %v", n, err)
			}
			// Item 2's first report of Acme waits for item 1's to be
			// stored; the other seven share one transaction, and none
			// conflicts.
			if cs.batches != 2 || cs.single != 0 {
				t.Errorf("the batch took %d transactions and %d items alone; want 2 and 0", cs.batches, cs.single)
			}
			// Every ack here goes to its sender: the caps read the
			// batch's counts, never the store one by one.
			if cs.ackCounts != 0 {
				t.Errorf("the caps asked the store %d times, want 0: the batch reads them", cs.ackCounts)
			}
			// Nor does the gate ask who each sender is.
			if cs.repByContact != 0 {
				t.Errorf("the gate asked the store for %d senders, want 0: the batch reads them", cs.repByContact)
			}
		} else {
			for range mail {
				h.process()
			}
		}
		out := map[int64]string{}
		for id := int64(1); id <= int64(len(mail)); id++ {
			ledger, err := h.s.ItemLedger(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := h.s.ItemOutbox(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			s := reasons(ledger)
			for _, m := range msgs {
				s += fmt.Sprintf("\n%s %s %s %q", m.Kind, m.Recipient, m.State, m.Reason)
				if m.State != model.OutboxSuppressed {
					_, text := ackText(t, m)
					s += "\n" + text
				}
			}
			out[id] = s
		}
		return out
	}
	want, got := run(false), run(true)
	for id := int64(1); id <= int64(len(mail)); id++ {
		if got[id] != want[id] {
			t.Errorf("item %d in a batch:\n%s\nwant, as one at a time:\n%s", id, got[id], want[id])
		}
	}
	if !strings.Contains(want[6], "daily cap") || !strings.Contains(want[1], "bonus:") {
		t.Errorf("the mail exercises neither the daily cap nor the bonuses:\n%s\n%s", want[6], want[1])
	}
}
