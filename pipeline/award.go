package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/store"
)

// AwardStore is what awarding reads from the store.
type AwardStore interface {
	points.History
	points.TallyStore
	outbound.AckCounter
	ItemLedger(ctx context.Context, itemID int64) ([]model.LedgerEntry, error)
	RepByID(ctx context.Context, id int64) (model.Rep, error)
}

// Awarder pays a processed item's points and plans what it sends: the
// ack to the rep (or a suppressed row with its reason) and an immediate
// notice to each owner whose digest is immediate (outbound.Planner). It
// only fills the result: the worker stores it with the item's new state
// in one transaction.
type Awarder struct {
	Store   AwardStore
	Rules   *points.Rules
	Planner *outbound.Planner
	Log     *slog.Logger
	// Webhooks receive item.processed for every contributor's item.
	Webhooks []config.Webhook
	// Location is the zone quarters are counted in.
	Location *time.Location
	// Now is the clock of events; time.Now when nil.
	Now func() time.Time
}

// statusCounter counts a rep's decided items, for the ack's "2 of your
// ideas shipped this quarter"; the store has it.
type statusCounter interface {
	RepStatusCounts(ctx context.Context, repID int64, since time.Time) (map[model.Status]int, error)
}

// NewAwarder wires an Awarder from a validated configuration, loading the
// templates (embedded defaults, acks.template_dir overrides).
func NewAwarder(cfg *config.Config, st AwardStore, log *slog.Logger) (*Awarder, error) {
	if log == nil {
		log = slog.Default()
	}
	comp, err := outbound.LoadComposer(cfg)
	if err != nil {
		return nil, err
	}
	return &Awarder{Store: st, Rules: points.NewRules(cfg.Points, cfg.Products, cfg.Location),
		Planner: outbound.NewPlanner(cfg, comp), Log: log.With("component", "award"),
		Webhooks: cfg.Webhooks.Endpoints, Location: cfg.Location}, nil
}

// Award fills res.Ledger and res.Outbox for a processed item.
func (a *Awarder) Award(ctx context.Context, it model.Item, res *model.Processed) error {
	return a.AwardAfter(ctx, it, res, Pending{})
}

// Pending is what the items completing before an item in the same
// transaction write that its award reads: their unpaid ledger entries and
// the acks they enqueue. An award counts them as written, so that a batch
// of items is awarded as the same items one at a time would be.
type Pending struct {
	Ledger []model.LedgerEntry
	Acks   []PendingAck
	// Reads, when set, is what the database held for the batch's reps as
	// its awards began (Awarder.Reads): awards read it instead of the
	// store, and count Ledger and Acks over it as over the store.
	Reads *store.AwardReads
}

// PendingAck is an ack, not suppressed, that an item completing earlier
// enqueues: its recipient key as the caps count it, and whether its
// sender is outside the roster (trust open).
type PendingAck struct {
	Key  string
	Open bool
}

// Add adds what a processed item writes to p.
func (p *Pending) Add(res model.Processed) {
	p.Ledger = append(p.Ledger, res.Unpaid...)
	for _, m := range res.Outbox {
		if m.Kind == model.OutboxAck && m.State != model.OutboxSuppressed {
			key := m.RecipientKey
			if key == "" {
				key = strings.ToLower(strings.TrimSpace(m.Recipient))
			}
			p.Acks = append(p.Acks, PendingAck{Key: key, Open: res.Trust == model.TrustOpen})
		}
	}
}

// Reset empties p, keeping its memory: the batch's items are written,
// and Reads is dropped with the rest, as it does not hold them.
func (p *Pending) Reset() {
	p.Ledger, p.Acks, p.Reads = p.Ledger[:0], p.Acks[:0], nil
}

// pendingStore is the store as an award in a batch reads it: what the
// database holds plus what the items before it write (Pending): the
// first-intel bonus and the ack caps (the tally takes Pending.Ledger as
// its others). A first report of a competitor is not foreseen here: the
// workers store the batch first when an item before it names the
// competitor (a manager may have removed that item's tag, which only
// the database knows).
type pendingStore struct {
	AwardStore
	p Pending
}

// HasLedgerReason reports whether the rep was paid for reason in month
// for another item, in the database or by an item before this one.
func (s pendingStore) HasLedgerReason(ctx context.Context, repID int64, month model.Month, reason string, exceptItem int64) (bool, error) {
	for _, e := range s.p.Ledger {
		if e.RepID == repID && e.Month == month && e.Reason == reason && e.ItemID != exceptItem {
			return true, nil
		}
	}
	if has, ok := s.p.Reads.HasLedgerReason(repID, month, reason, exceptItem); ok {
		return has, nil
	}
	return s.AwardStore.HasLedgerReason(ctx, repID, month, reason, exceptItem)
}

// CompetitorReported is the store's answer, read with the batch when it
// was.
func (s pendingStore) CompetitorReported(ctx context.Context, competitor string, from, to time.Time, exceptItem int64) (bool, error) {
	q := store.ReportQuery{Competitor: competitor, Since: from, Until: to, Except: exceptItem}
	if found, ok := s.p.Reads.CompetitorReported(q); ok {
		return found, nil
	}
	return s.AwardStore.CompetitorReported(ctx, competitor, from, to, exceptItem)
}

// Tally is the store's tally of a rep, read with the batch when it was.
func (s pendingStore) Tally(ctx context.Context, q model.TallyQuery) (model.Tally, error) {
	if t, ok := s.p.Reads.Tally(q); ok {
		return t, nil
	}
	return s.AwardStore.Tally(ctx, q)
}

// RepByID is the store's rep, read with the batch when it was.
func (s pendingStore) RepByID(ctx context.Context, id int64) (model.Rep, error) {
	if r, ok := s.p.Reads.RepByID(id); ok {
		return r, nil
	}
	return s.AwardStore.RepByID(ctx, id)
}

// repStatusCounts counts a rep's decided items, read with the batch when
// it was; ok is false when the store cannot count them.
func (s pendingStore) repStatusCounts(ctx context.Context, repID int64, since time.Time) (counts map[model.Status]int, ok bool, err error) {
	sc, ok := s.AwardStore.(statusCounter)
	if !ok {
		return nil, false, nil
	}
	if c, ok := s.p.Reads.RepStatusCounts(repID, since); ok {
		return c, true, nil
	}
	c, err := sc.RepStatusCounts(ctx, repID, since)
	return c, true, err
}

// AckCounts counts the acks the caps ask about: the database's (read
// with the batch when it was) and those the items before this one
// enqueue, all of them now.
func (s pendingStore) AckCounts(ctx context.Context, q model.AckQuery) (model.AckCounts, error) {
	c, ok := s.p.Reads.AckCounts(q)
	if !ok {
		var err error
		if c, err = s.AwardStore.AckCounts(ctx, q); err != nil {
			return c, err
		}
	}
	for _, a := range s.p.Acks {
		_, domain, _ := strings.Cut(a.Key, "@")
		if a.Key == q.RecipientKey {
			c.Recipient++
		}
		if domain != "" && domain == q.Domain {
			c.Domain++
		}
		c.Hour++
		if a.Open {
			c.OpenHour++
		}
	}
	return c, nil
}

// awardReader is a store that reads what a batch's awards read at once.
type awardReader interface {
	ReadAwards(ctx context.Context, month model.Month, reps []int64, statusSince time.Time,
		reports []store.ReportQuery, acks *store.AckWindow) (*store.AwardReads, error)
}

// Reads reads at once what the awards of prepared items read of the
// store (store.AwardReads), for their reps and the month of the first
// of them, and whether each competitor an item names was reported
// before it, for Pending.Reads. It is nil when the store cannot, when no
// item is a rep's or names a competitor, or on an error, which it logs:
// the awards then read the store one by one.
func (a *Awarder) Reads(ctx context.Context, items []model.Item, results []model.Processed) *store.AwardReads {
	ar, ok := a.Store.(awardReader)
	if !ok {
		return nil
	}
	var (
		month   model.Month
		reps    []int64
		reports []store.ReportQuery
		// The new-competitor bonus asks its question of every item, a
		// rep's or not (points.Rules.Score).
		asks = a.Rules.PaysNewCompetitor()
	)
	for i, res := range results {
		if strings.HasPrefix(res.AutoReason, AutoDecision) {
			continue
		}
		it := items[i]
		for _, t := range res.Tags {
			if asks && t.Kind == model.TagCompetitor {
				reports = append(reports, store.ReportQuery{Competitor: t.Value,
					Since: points.NewCompetitorSince(it.ReceivedAt), Until: it.ReceivedAt, Except: it.ID})
			}
		}
		if res.RepID == 0 {
			continue
		}
		m := a.Rules.Month(it.ReceivedAt)
		if month == "" {
			month = m
		}
		if m == month && !slices.Contains(reps, res.RepID) {
			reps = append(reps, res.RepID)
		}
	}
	acks := a.ackWindow(results)
	if len(reps) == 0 && len(reports) == 0 && acks == nil {
		return nil
	}
	r, err := ar.ReadAwards(ctx, month, reps, a.quarterStart(), reports, acks)
	if err != nil {
		a.Log.Warn("read the batch's awards at once; reading them one by one", "err", err)
		return nil
	}
	return r
}

// ackWindow is what the caps of the items' acks will likely ask: the
// counts for each sender's address and caller number, and their domains.
// An ack to anyone else (a credited rep's address, a Slack user) asks the
// store itself. It is nil when no item is acknowledged here.
func (a *Awarder) ackWindow(results []model.Processed) *store.AckWindow {
	if a.Planner == nil || a.Planner.Suppress == nil {
		return nil
	}
	var w store.AckWindow
	seen := map[string]bool{}
	for _, res := range results {
		if strings.HasPrefix(res.AutoReason, AutoDecision) {
			continue
		}
		for _, to := range []string{res.Message.From.Addr, res.Message.CallerNumber, res.Sender} {
			key := a.Planner.Suppress.Key(to)
			if key == "" || seen[key] {
				continue
			}
			seen[key] = true
			w.Keys = append(w.Keys, key)
			if _, domain, ok := strings.Cut(key, "@"); ok && domain != "" && !seen["@"+domain] {
				seen["@"+domain] = true
				w.Domains = append(w.Domains, domain)
			}
		}
	}
	if len(w.Keys) == 0 {
		return nil
	}
	w.Day, w.Hour = a.Planner.AckWindow()
	return &w
}

// AwardAfter is Award for an item completing after others in the same
// transaction, which write what pending holds: its award counts it as
// written (its tally, its first-intel bonus, the ack caps).
func (a *Awarder) AwardAfter(ctx context.Context, it model.Item, res *model.Processed, pending Pending) error {
	f := res.Message
	st := pendingStore{AwardStore: a.Store, p: pending}
	award, err := a.Rules.Score(ctx, st, scoreInput(it, res))
	if err != nil {
		return fmt.Errorf("award item %d: %w", it.ID, err)
	}
	res.Ledger = award.Entries(res.RepID, it.ID)

	ct := outbound.Contribution{
		Item: it, Subject: res.Subject, Text: res.BodyText, From: f.From, CallerNumber: f.CallerNumber,
		Tags: res.Tags, Award: award, MessageID: f.MessageID, References: f.References,
		Trust: res.Trust, TrustReason: res.TrustReason, Ack: res.Ack, Slack: f.Slack,
		TranscriptUnreliable: f.TranscriptUnreliable,
	}
	if ct.Text == "" && it.HasTranscript {
		ct.Text = it.Transcript
	}
	if it.Kind == model.KindVoicemail && ct.CallerNumber == "" {
		ct.CallerNumber = res.Sender
	}
	if len(f.Mailboxes) > 0 {
		ct.Mailbox = f.Mailboxes[0]
	}
	for _, as := range res.Assignments {
		ct.Owners = append(ct.Owners, as.Owner)
	}
	if res.RepID != 0 {
		rep, err := st.RepByID(ctx, res.RepID)
		if err != nil {
			return fmt.Errorf("award item %d: %w", it.ID, err)
		}
		ct.Rep = &rep
		// Only completion pays an item, and it stamps processed_at: an
		// item never processed has nothing paid yet.
		var paid []model.LedgerEntry
		if !it.ProcessedAt.IsZero() {
			if paid, err = a.Store.ItemLedger(ctx, it.ID); err != nil {
				return fmt.Errorf("award item %d: %w", it.ID, err)
			}
		}
		start := a.quarterStart()
		if counts, ok, err := st.repStatusCounts(ctx, res.RepID, start); err != nil {
			return fmt.Errorf("award item %d: %w", it.ID, err)
		} else if ok {
			ct.Shipped, ct.Planned = counts[model.StatusShipped], counts[model.StatusPlanned]
			ct.Quarter = outbound.QuarterOf(model.MonthOf(start, a.loc()))
		}
		unpaid := points.Unpaid(res.Ledger, paid)
		res.Unpaid = unpaid
		ct.Tally, err = a.Rules.Tally(ctx, st, res.RepID, award.Month, unpaid, pending.Ledger...)
		if err != nil {
			return fmt.Errorf("award item %d: %w", it.ID, err)
		}
		// A first-report bonus holds only if no other item named the
		// competitor meanwhile; completion checks that under a lock.
		for _, e := range unpaid {
			if c, ok := strings.CutPrefix(e.Reason, points.ReasonNewCompetitor); ok {
				res.FirstReports = append(res.FirstReports, model.FirstReport{Competitor: c,
					Since: points.NewCompetitorSince(it.ReceivedAt), Until: it.ReceivedAt})
			}
		}
	}
	msgs, cap, err := a.Planner.Plan(ctx, st, ct, f, res.AutoReason)
	if err != nil {
		return fmt.Errorf("award item %d: %w", it.ID, err)
	}
	res.Outbox, res.AckCap = append(res.Outbox, msgs...), cap
	if len(a.Webhooks) > 0 && res.Trust.Contributor() && res.AutoReason == "" {
		hooks, err := a.processedHooks(ctx, it, res, ct)
		if err != nil {
			return fmt.Errorf("award item %d: %w", it.ID, err)
		}
		res.Outbox = append(res.Outbox, hooks...)
	}
	a.Log.Debug("awarded", "item", it.ID, "points", award.Points, "entries", len(res.Ledger),
		"withheld", award.Withheld, "waiting", award.Waiting, "ack", msgs[0].State, "ack_reason", msgs[0].Reason,
		"messages", len(msgs))
	return nil
}

// scoreInput is what scoring needs of a processed item.
func scoreInput(it model.Item, res *model.Processed) points.Item {
	in := points.Item{
		ID: it.ID, RepID: res.RepID, Channel: string(it.Kind), ReceivedAt: it.ReceivedAt,
		AutoReason: res.AutoReason, DuplicateOf: it.DuplicateOf,
	}
	for _, t := range res.Tags {
		switch t.Kind {
		case model.TagCategory:
			in.Categories = append(in.Categories, t.Value)
		case model.TagProduct:
			in.Products = append(in.Products, t.Value)
		case model.TagCompetitor:
			in.Competitors = append(in.Competitors, t.Value)
		}
	}
	return in
}

// processedHooks are the item.processed deliveries of a contributor's
// item, enqueued with it: once per item and endpoint.
func (a *Awarder) processedHooks(ctx context.Context, it model.Item, res *model.Processed, ct outbound.Contribution) ([]model.OutboxMessage, error) {
	now := a.now()
	item := it
	item.Subject, item.BodyText, item.Sender, item.RepID = res.Subject, res.BodyText, res.Sender, res.RepID
	item.Trust, item.ProcessedAt = res.Trust, now
	st := model.ItemStatus{Status: model.StatusNew}
	if sc, ok := a.Store.(interface {
		ItemStatus(ctx context.Context, id int64) (model.ItemStatus, error)
	}); ok {
		var err error
		if st, err = sc.ItemStatus(ctx, it.ID); err != nil {
			return nil, err
		}
	}
	ev := outbound.Event{Type: config.EventItemProcessed, Timestamp: now.UTC(), Data: outbound.EventData{
		Item: outbound.NewItemJSON(item, res.Tags, ct.Owners, ct.Rep, st, a.Planner.Composer.PublicURL)}}
	return outbound.WebhookMessages(a.Webhooks, ev)
}

func (a *Awarder) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Awarder) loc() *time.Location {
	if a.Location != nil {
		return a.Location
	}
	return time.UTC
}

// quarterStart is the start of this quarter in the configured zone.
func (a *Awarder) quarterStart() time.Time {
	y, m, _ := a.now().In(a.loc()).Date()
	return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, a.loc())
}
