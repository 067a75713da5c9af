// Package decision records owners' decisions on items and what follows
// from one: the rep's note on the channel of the item's ack, the quality
// bonus through the ledger, and the item.status_changed webhooks, all
// written with the change in one transaction. The dashboard, the JSON
// API, the command line and owners' replies to notices all decide
// through it.
package decision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/sign"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/store"
)

// ReasonQuality prefixes the ledger reason of a quality bonus.
const ReasonQuality = points.ReasonQuality

// SecretName names the signing key in the store.
const SecretName = "signing-key"

// Signer returns the signer of the key the store keeps, made on first use.
func Signer(ctx context.Context, st *store.Store) (*sign.Signer, error) {
	key, err := st.AppSecret(ctx, SecretName, sign.NewKey)
	if err != nil {
		return nil, err
	}
	return sign.New(key), nil
}

// Service decides.
type Service struct {
	Store    *store.Store
	Config   *config.Config
	Composer *outbound.Composer
	Suppress *outbound.Suppressor
	Log      *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// New wires a Service from a validated configuration, with the templates
// (embedded defaults, acks.template_dir overrides) and the store's
// signing key.
func New(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	comp, err := outbound.LoadComposer(cfg)
	if err != nil {
		return nil, err
	}
	if comp.Signer, err = Signer(ctx, st); err != nil {
		return nil, err
	}
	return &Service{Store: st, Config: cfg, Composer: comp, Suppress: outbound.NewSuppressor(cfg),
		Log: log.With("component", "decision")}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ErrBadChange is a change that cannot be made (an unknown status, a
// duplicate of itself, an item not processed yet).
var ErrBadChange = errors.New("bad status change")

// Set records a change with its effects. It returns the event and
// whether anything changed: setting the status an item has, with the same
// note, changes nothing; a reply mail changes a status once.
func (s *Service) Set(ctx context.Context, c model.StatusChange) (model.StatusEvent, bool, error) {
	if !c.Status.Valid() || c.Status == model.StatusNew {
		return model.StatusEvent{}, false, fmt.Errorf("%w: unknown status %q", ErrBadChange, c.Status)
	}
	if c.Status == model.StatusDuplicate && (c.DuplicateOf <= 0 || c.DuplicateOf == c.ItemID) {
		return model.StatusEvent{}, false, fmt.Errorf("%w: a duplicate names another item's number", ErrBadChange)
	}
	c.Note = strings.TrimSpace(c.Note)
	if len([]rune(c.Note)) > 1000 {
		c.Note = string([]rune(c.Note)[:1000])
	}
	if c.SourceItemID != 0 {
		done, err := s.Store.StatusFromSource(ctx, c.SourceItemID)
		if err != nil || done {
			return model.StatusEvent{}, false, err
		}
	}
	for attempt := 0; ; attempt++ {
		ev, ok, err := s.set(ctx, c)
		if errors.Is(err, store.ErrStatusChanged) && attempt < 3 {
			continue
		}
		return ev, ok, err
	}
}

func (s *Service) set(ctx context.Context, c model.StatusChange) (model.StatusEvent, bool, error) {
	it, err := s.Store.ItemDetail(ctx, c.ItemID)
	if err != nil {
		return model.StatusEvent{}, false, err
	}
	if it.State != model.StateProcessed {
		return model.StatusEvent{}, false, fmt.Errorf("%w: item %d is not processed yet", ErrBadChange, c.ItemID)
	}
	if c.Status == model.StatusDuplicate {
		if _, err := s.Store.Item(ctx, c.DuplicateOf); err != nil {
			return model.StatusEvent{}, false, fmt.Errorf("%w: item %d: %w", ErrBadChange, c.DuplicateOf, err)
		}
	}
	prev, err := s.Store.ItemStatus(ctx, c.ItemID)
	if err != nil {
		return model.StatusEvent{}, false, err
	}
	if prev.Status == c.Status && prev.Note == c.Note && prev.DuplicateOf == c.DuplicateOf && !prev.ChangedAt.IsZero() {
		return model.StatusEvent{}, false, nil
	}
	fx, err := s.effects(ctx, it, prev, c)
	if err != nil {
		return model.StatusEvent{}, false, err
	}
	ev, ok, err := s.Store.SetStatus(ctx, c, prev.Status, fx)
	if err != nil || !ok {
		return ev, ok, err
	}
	s.Log.Info("status changed", "item", c.ItemID, "status", c.Status, "previous", prev.Status, "actor", c.Actor, "via", c.Via,
		"messages", len(fx.Outbox), "bonus", len(fx.Ledger) > 0)
	return ev, true, nil
}

// effects plans what a change pays and sends.
func (s *Service) effects(ctx context.Context, it store.ItemDetail, prev model.ItemStatus, c model.StatusChange) (store.StatusEffects, error) {
	var fx store.StatusEffects
	now := s.now()
	month := model.MonthOf(now, s.Config.Location)
	var rep *model.Rep
	earns := it.RepID != 0 && it.Trust.Earns()
	if earns {
		r, err := s.Store.RepByID(ctx, it.RepID)
		if err != nil {
			return fx, err
		}
		rep = &r
	}
	bonus := 0
	if earns {
		if n := s.Config.Decisions.Points[string(c.Status)]; n > 0 {
			reason := ReasonQuality + string(c.Status)
			paid, err := s.Store.ItemLedger(ctx, it.ID)
			if err != nil {
				return fx, err
			}
			if !slices.ContainsFunc(paid, func(e model.LedgerEntry) bool { return e.Reason == reason }) {
				bonus = n
				fx.Ledger = append(fx.Ledger, model.LedgerEntry{RepID: it.RepID, ItemID: it.ID, Points: n, Reason: reason,
					Month: month, Actor: "earshot"})
			}
		}
	}
	tags, err := s.Store.Tags(ctx, it.ID)
	if err != nil {
		return fx, err
	}
	// The rep hears of the statuses configured, never a stranger.
	if earns && slices.Contains(s.Config.Decisions.Notify, string(c.Status)) {
		note, ok, err := s.note(ctx, it, rep, tags, c, bonus)
		if err != nil {
			return fx, err
		}
		if ok {
			fx.Outbox = append(fx.Outbox, note)
			if max, since := s.Suppress.DailyCap(now); max > 0 {
				fx.NoteCap = &model.AckCap{Recipient: note.RecipientKey, Since: since, Max: max}
			}
		}
	}
	hooks, err := s.webhooks(ctx, it, rep, tags, prev, c, now)
	if err != nil {
		return fx, err
	}
	fx.Outbox = append(fx.Outbox, hooks...)
	return fx, nil
}

// note renders the rep's note on the channel of the item's ack.
func (s *Service) note(ctx context.Context, it store.ItemDetail, rep *model.Rep, tags []model.Tag, c model.StatusChange, bonus int) (model.OutboxMessage, bool, error) {
	var ack model.OutboxMessage
	msgs, err := s.Store.ItemOutbox(ctx, it.ID)
	if err != nil {
		return ack, false, err
	}
	for _, m := range msgs {
		if m.Kind == model.OutboxAck {
			ack = m
		}
	}
	owners, err := s.owners(ctx, it.ID)
	if err != nil {
		return ack, false, err
	}
	ct := outbound.Contribution{Item: it.Item, Subject: it.Subject, Text: it.Text(), From: it.Message.From, Rep: rep,
		Tags: tags, Owners: owners, MessageID: it.Message.MessageID, References: it.Message.References, Trust: it.Trust}
	if len(it.Message.Mailboxes) > 0 {
		ct.Mailbox = it.Message.Mailboxes[0]
	}
	m, ok, err := s.Composer.StatusNote(outbound.StatusNote{Contribution: ct, Change: c, Bonus: bonus, Ack: ack})
	if err != nil || !ok {
		return m, ok, err
	}
	if m.RecipientKey == "" {
		m.RecipientKey = s.Suppress.Key(m.Recipient)
	}
	return m, true, nil
}

func (s *Service) owners(ctx context.Context, id int64) ([]string, error) {
	as, err := s.Store.Assignments(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range as {
		out = append(out, a.Owner)
	}
	return out, nil
}

// webhooks are the item.status_changed deliveries of a change.
func (s *Service) webhooks(ctx context.Context, it store.ItemDetail, rep *model.Rep, tags []model.Tag, prev model.ItemStatus, c model.StatusChange, now time.Time) ([]model.OutboxMessage, error) {
	if len(s.Config.Webhooks.Endpoints) == 0 {
		return nil, nil
	}
	owners, err := s.owners(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	if rep == nil && it.RepID != 0 {
		if r, err := s.Store.RepByID(ctx, it.RepID); err == nil {
			rep = &r
		}
	}
	st := model.ItemStatus{Status: c.Status, Note: c.Note, DuplicateOf: c.DuplicateOf}
	ev := outbound.Event{Type: config.EventItemStatusChanged, Timestamp: now.UTC(), Data: outbound.EventData{
		Item: outbound.NewItemJSON(it.Item, tags, owners, rep, st, s.Composer.PublicURL),
		Change: &outbound.ChangeJSON{Status: string(c.Status), Previous: string(prev.Status), Note: c.Note,
			DuplicateOf: c.DuplicateOf, Actor: c.Actor, Via: c.Via, At: now.UTC()},
	}}
	return outbound.WebhookMessages(s.Config.Webhooks.Endpoints, ev)
}
