package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/store"
	"github.com/earshot-dev/earshot/templates"
)

// AwardStore is what awarding reads from the store.
type AwardStore interface {
	points.History
	points.TallyStore
	outbound.AckCounter
	ItemLedger(ctx context.Context, itemID int64) ([]store.LedgerEntry, error)
	ItemDuplicateOf(ctx context.Context, itemID int64) (int64, error)
	RepByID(ctx context.Context, id int64) (store.Rep, error)
}

// Awarder pays a processed item's points and enqueues the ack to the rep
// (or a suppressed row with its reason) and an immediate notice to each
// owner whose digest is immediate. It only fills the result: the worker
// stores it with the item's new state in one transaction.
type Awarder struct {
	Store    AwardStore
	Rules    *points.Rules
	Composer *outbound.Composer
	Suppress *outbound.Suppressor
	// Email is set when SMTP is configured; SMS when SMS acks are on.
	Email, SMS bool
	// Owners by name.
	Owners map[string]config.Owner
	// Now is the clock of the daily cap; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
}

// NewAwarder wires an Awarder from a validated configuration, loading the
// templates (embedded defaults, acks.template_dir overrides).
func NewAwarder(cfg *config.Config, st AwardStore, log *slog.Logger) (*Awarder, error) {
	if log == nil {
		log = slog.Default()
	}
	set, err := templates.Load(cfg.Acks.TemplateDir)
	if err != nil {
		return nil, err
	}
	comp, err := outbound.NewComposer(cfg, set)
	if err != nil {
		return nil, err
	}
	a := &Awarder{
		Store: st, Rules: points.NewRules(cfg.Points, cfg.Products, cfg.Location), Composer: comp,
		Suppress: outbound.NewSuppressor(cfg), Email: cfg.SMTP != nil, SMS: cfg.SMS.Enabled && cfg.Twilio != nil,
		Owners: map[string]config.Owner{}, Log: log.With("component", "award"),
	}
	for _, o := range cfg.Owners {
		a.Owners[o.Name] = o
	}
	return a, nil
}

// awardFacts are the fields of the normalized message awarding reads.
type awardFacts struct {
	From         intake.Address `json:"from"`
	MessageID    string         `json:"message_id"`
	InReplyTo    []string       `json:"in_reply_to"`
	References   []string       `json:"references"`
	Mailboxes    []string       `json:"mailboxes"`
	CallerNumber string         `json:"caller_number"`
}

// Award fills res.Ledger and res.Outbox for a processed item.
func (a *Awarder) Award(ctx context.Context, it store.Item, res *store.Processed) error {
	var f awardFacts
	if res.Normalized != "" {
		if err := json.Unmarshal([]byte(res.Normalized), &f); err != nil {
			return fmt.Errorf("award item %d: normalized message: %w", it.ID, err)
		}
	}
	dup, err := a.Store.ItemDuplicateOf(ctx, it.ID)
	if err != nil {
		return fmt.Errorf("award item %d: %w", it.ID, err)
	}
	award, err := a.Rules.Score(ctx, a.Store, scoreInput(it, res, dup))
	if err != nil {
		return fmt.Errorf("award item %d: %w", it.ID, err)
	}
	res.Ledger = award.Entries(res.RepID, it.ID)

	ct := outbound.Contribution{
		Item: it, Subject: res.Subject, Text: res.BodyText, From: f.From, CallerNumber: f.CallerNumber,
		Tags: res.Tags, Award: award, MessageID: f.MessageID, References: f.References,
	}
	if ct.Text == "" && it.Transcript.Valid {
		ct.Text = it.Transcript.String
	}
	if it.Kind == "voicemail" && ct.CallerNumber == "" {
		ct.CallerNumber = res.Sender
	}
	if len(f.Mailboxes) > 0 {
		ct.Mailbox = f.Mailboxes[0]
	}
	for _, as := range res.Assignments {
		ct.Owners = append(ct.Owners, as.Owner)
	}
	if res.RepID != 0 {
		rep, err := a.Store.RepByID(ctx, res.RepID)
		if err != nil {
			return fmt.Errorf("award item %d: %w", it.ID, err)
		}
		ct.Rep = &rep
		paid, err := a.Store.ItemLedger(ctx, it.ID)
		if err != nil {
			return fmt.Errorf("award item %d: %w", it.ID, err)
		}
		unpaid := points.Unpaid(res.Ledger, paid)
		ct.Tally, err = a.Rules.Tally(ctx, a.Store, res.RepID, award.Month, unpaid)
		if err != nil {
			return fmt.Errorf("award item %d: %w", it.ID, err)
		}
		// A first-report bonus holds only if no other item named the
		// competitor meanwhile; completion checks that under a lock.
		for _, e := range unpaid {
			if c, ok := strings.CutPrefix(e.Reason, points.ReasonNewCompetitor); ok {
				res.FirstReports = append(res.FirstReports, store.FirstReport{Competitor: c,
					Since: points.NewCompetitorSince(it.ReceivedAt), Until: it.ReceivedAt})
			}
		}
	}

	ack, err := a.ack(ctx, ct, res.AutoReason, f)
	if err != nil {
		return fmt.Errorf("award item %d: ack: %w", it.ID, err)
	}
	res.Outbox = append(res.Outbox, ack)
	if max, since := a.Suppress.DailyCap(a.now()); max > 0 && ack.State != store.OutboxSuppressed {
		// Completion checks the cap again, under a lock per recipient.
		res.AckCap = &store.AckCap{Recipient: ack.Recipient, Since: since, Max: max}
	}
	notices, err := a.notices(ct, res.Assignments)
	if err != nil {
		return fmt.Errorf("award item %d: notice: %w", it.ID, err)
	}
	res.Outbox = append(res.Outbox, notices...)
	a.Log.Debug("awarded", "item", it.ID, "points", award.Points, "entries", len(res.Ledger),
		"withheld", award.Withheld, "waiting", award.Waiting, "ack", ack.State, "ack_reason", ack.Reason,
		"notices", len(notices))
	return nil
}

// scoreInput is what scoring needs of a processed item.
func scoreInput(it store.Item, res *store.Processed, dup int64) points.Item {
	in := points.Item{
		ID: it.ID, RepID: res.RepID, Channel: it.Kind, ReceivedAt: it.ReceivedAt,
		AutoReason: res.AutoReason, DuplicateOf: dup,
	}
	for _, t := range res.Tags {
		switch t.Kind {
		case "category":
			in.Categories = append(in.Categories, t.Value)
		case "product":
			in.Products = append(in.Products, t.Value)
		case "competitor":
			in.Competitors = append(in.Competitors, t.Value)
		}
	}
	return in
}

// ack renders the ack to the rep on the item's channel, or returns a
// suppressed row with the reason it must not be sent.
func (a *Awarder) ack(ctx context.Context, ct outbound.Contribution, autoReason string, f awardFacts) (store.OutboxMessage, error) {
	channel, to := outbound.ChannelEmail, strings.TrimSpace(ct.From.Addr)
	// A phone system's voicemail-to-email comes from the PBX, not from the
	// rep: answer the caller like a voicemail.
	if ct.Item.Kind == "voicemail" || (ct.CallerNumber != "" && !repHasEmail(ct.Rep, to)) {
		switch {
		case a.SMS && ct.CallerNumber != "":
			channel, to = outbound.ChannelSMS, ct.CallerNumber
		case ct.Rep != nil && len(ct.Rep.Emails) > 0:
			to = ct.Rep.Emails[0]
		default:
			to = ""
		}
	}
	suppressed := func(reason string) store.OutboxMessage {
		return store.OutboxMessage{Kind: outbound.KindAck, Channel: channel, Recipient: to,
			State: store.OutboxSuppressed, Reason: reason}
	}
	if channel == outbound.ChannelEmail && !a.Email {
		return suppressed("smtp is not configured"), nil
	}
	reason, err := a.Suppress.Ack(ctx, a.Store, outbound.Incoming{
		Recipient: to, AutoReason: autoReason, Subject: ct.Subject, InReplyTo: f.InReplyTo, References: f.References,
	}, a.now())
	if err != nil {
		return store.OutboxMessage{}, err
	}
	if reason != "" {
		return suppressed(reason), nil
	}
	if channel == outbound.ChannelSMS {
		return a.Composer.AckSMS(ct, to)
	}
	return a.Composer.AckEmail(ct, to)
}

// repHasEmail reports whether addr is one of the rep's addresses.
func repHasEmail(rep *store.Rep, addr string) bool {
	if rep == nil {
		return false
	}
	for _, e := range rep.Emails {
		if strings.EqualFold(e, intake.FoldAddress(addr)) {
			return true
		}
	}
	return false
}

// notices renders an immediate notice to each assigned owner whose digest
// is immediate; owners on hourly or daily digests hear from the digest.
func (a *Awarder) notices(ct outbound.Contribution, assignments []store.Assignment) ([]store.OutboxMessage, error) {
	if !a.Email {
		return nil, nil
	}
	replyTo := strings.TrimSpace(ct.From.Addr)
	if ct.Item.Kind == "voicemail" {
		replyTo = ""
		if ct.Rep != nil && len(ct.Rep.Emails) > 0 {
			replyTo = ct.Rep.Emails[0]
		}
	}
	var out []store.OutboxMessage
	for _, as := range assignments {
		o, ok := a.Owners[as.Owner]
		if !ok || o.Email == "" || (o.Digest != "" && o.Digest != "immediate") {
			continue
		}
		if a.Suppress.Own(o.Email) {
			out = append(out, store.OutboxMessage{Kind: outbound.KindOwnerNotice, Channel: outbound.ChannelEmail,
				Recipient: o.Email, Owner: as.Owner, State: store.OutboxSuppressed, Reason: outbound.ReasonOwnAddress})
			continue
		}
		m, err := a.Composer.Notice(ct, o, replyTo)
		if err != nil {
			return nil, err
		}
		m.Owner = as.Owner
		out = append(out, m)
	}
	return out, nil
}

func (a *Awarder) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
