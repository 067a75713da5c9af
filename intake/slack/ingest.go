package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/model"
)

// How a message arrived, as its metadata says.
const (
	ViaSocket  = "socket"
	ViaEvents  = "events"
	ViaHistory = "history"
)

// envelope is the Events API's outer event, as Slack posts it to
// /slack/events and as Socket Mode carries it.
type envelope struct {
	Type      string          `json:"type"`
	TeamID    string          `json:"team_id"`
	EventID   string          `json:"event_id"`
	EventTime int64           `json:"event_time"`
	Challenge string          `json:"challenge"`
	Event     json.RawMessage `json:"event"`
}

// IngestEnvelope stores what an Events API envelope carries (raw is its
// JSON), for Socket Mode and the Events API alike: a message is stored
// first, keyed by (team, channel, ts); edits, deletions and authors'
// thread replies are kept with their message. Events of other channels,
// bots, joins and the like are no item. It needs no lease: any replica
// may receive any event, and the store takes each message once. An error
// means the event must be delivered again.
func (a *App) IngestEnvelope(ctx context.Context, via string, raw []byte) error {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("slack event: %w", err)
	}
	if env.Type != "event_callback" || len(env.Event) == 0 {
		a.metrics.ignored.Inc()
		return nil
	}
	var m message
	if err := json.Unmarshal(env.Event, &m); err != nil {
		return fmt.Errorf("slack event %s: %w", env.EventID, err)
	}
	if m.Type != "message" {
		a.metrics.ignored.Inc()
		return nil
	}
	ch, err := a.channel(ctx, m.Channel)
	if err != nil {
		return err
	}
	if ch == nil {
		a.metrics.ignored.Inc()
		return nil
	}
	_, err = a.handle(ctx, ch, m, raw, via, "")
	return err
}

// handle stores one message of a read channel, or the change it makes;
// it reports whether a new item was stored.
func (a *App) handle(ctx context.Context, ch *Source, m message, raw []byte, via, holder string) (bool, error) {
	self, err := a.identity(ctx)
	if err != nil {
		return false, err
	}
	if err := a.ensure(ctx, ch.name); err != nil {
		return false, err
	}
	switch m.Subtype {
	case "message_changed":
		return a.edit(ctx, ch, self, m, raw, via, holder)
	case "message_deleted":
		return a.remove(ctx, ch, self, m, raw, via, holder)
	}
	if why := m.ignored(self); why != "" {
		a.metrics.ignored.Inc()
		a.log.Debug("not an item", "channel", ch.name, "ts", m.TS, "why", why)
		return false, nil
	}
	if m.reply() && a.cfg.ThreadReplies == "context" && m.ParentUserID != "" && m.ParentUserID == m.User {
		// The author adds to their own post: context, not a contribution.
		_, err := a.change(ctx, ch, self, m.ThreadTS, model.SlackChange{Kind: model.SlackContext, TS: m.TS, Text: m.Text, Raw: raw})
		if !errors.Is(err, model.ErrNotFound) {
			return false, err
		}
		// The parent is not stored (older than the backfill): the reply
		// stands for itself.
	}
	return a.store(ctx, ch, self, m, raw, via, holder)
}

// store keeps a message as an item and reacts to it once it is new.
func (a *App) store(ctx context.Context, ch *Source, self Identity, m message, raw []byte, via, holder string) (bool, error) {
	item, err := m.rawItem(self.Team, ch, via, raw)
	if err != nil {
		return false, err
	}
	res, err := a.sink.Receive(ctx, model.Batch{Source: ch.name, Holder: holder, Items: []model.RawItem{item}})
	if err != nil {
		return false, fmt.Errorf("store slack message %s: %w", item.SourceKey, err)
	}
	ch.sawEvent(m.TS)
	if res.Inserted == 0 {
		a.metrics.duplicates.WithLabelValues("stored").Inc()
		return false, nil
	}
	a.metrics.ingested.Inc()
	a.log.Info("message stored", "channel", ch.name, "ts", m.TS, "via", via)
	a.react(ctx, ch, m.TS)
	return true, nil
}

// react adds the configured reaction at once: the message is stored. A
// failure is logged and counted; it never undoes the item.
func (a *App) react(ctx context.Context, ch *Source, ts string) {
	if a.cfg.Reaction == "" {
		return
	}
	if err := a.client.React(ctx, ch.id(), ts, a.cfg.Reaction); err != nil {
		a.metrics.reactFailed.Inc()
		a.log.Warn("cannot add the reaction", "channel", ch.name, "ts", ts, "err", err)
	}
}

// change keeps a change of the message at ts.
func (a *App) change(ctx context.Context, ch *Source, self Identity, ts string, c model.SlackChange) (bool, error) {
	isNew, err := a.sink.ReceiveSlackChange(ctx, ch.name, Key(self.Team, ch.id(), ts), c)
	if err != nil {
		return false, err
	}
	if isNew {
		a.metrics.changes.WithLabelValues(c.Kind).Inc()
		a.log.Info("message changed", "channel", ch.name, "ts", ts, "change", c.Kind)
	} else {
		a.metrics.duplicates.WithLabelValues("stored").Inc()
	}
	return isNew, nil
}

// edit keeps an edit made within the edit window as a new revision. An
// edit of a message that is not stored stores the message as it reads now.
func (a *App) edit(ctx context.Context, ch *Source, self Identity, m message, raw []byte, via, holder string) (bool, error) {
	cur := m.Message
	if cur == nil || cur.Edited == nil || cur.ignored(self) != "" {
		// Unfurls and reply counts change a message too; bots' edits are
		// no one's.
		a.metrics.ignored.Inc()
		return false, nil
	}
	if late := model.SlackTime(cur.Edited.TS).Sub(model.SlackTime(cur.TS)); late > a.cfg.EditWindow {
		a.metrics.ignored.Inc()
		a.log.Info("edit after the edit window ignored", "channel", ch.name, "ts", cur.TS, "after", late.Round(time.Second))
		return false, nil
	}
	_, err := a.change(ctx, ch, self, cur.TS, model.SlackChange{Kind: model.SlackEdit, TS: cur.Edited.TS, Text: cur.Text, Raw: raw})
	if !errors.Is(err, model.ErrNotFound) {
		return false, err
	}
	cur.Channel = m.Channel
	return a.store(ctx, ch, self, *cur, raw, via, holder)
}

// remove marks a stored message deleted; the item stays. A deleted
// message that is not stored is stored first, from the event.
func (a *App) remove(ctx context.Context, ch *Source, self Identity, m message, raw []byte, via, holder string) (bool, error) {
	ts := m.DeletedTS
	if ts == "" && m.PreviousMessage != nil {
		ts = m.PreviousMessage.TS
	}
	if ts == "" {
		a.metrics.ignored.Inc()
		return false, nil
	}
	del := model.SlackChange{Kind: model.SlackDelete, TS: firstOf(m.TS, ts), Raw: raw}
	_, err := a.change(ctx, ch, self, ts, del)
	if !errors.Is(err, model.ErrNotFound) {
		return false, err
	}
	prev := m.PreviousMessage
	if prev == nil || prev.ignored(self) != "" {
		a.metrics.ignored.Inc()
		return false, nil
	}
	prev.Channel = m.Channel
	stored, err := a.store(ctx, ch, self, *prev, raw, via, holder)
	if err != nil {
		return false, err
	}
	_, err = a.change(ctx, ch, self, ts, del)
	return stored, err
}

// seenEvents remembers the event IDs stored lately, to tell a retry or a
// replay of an Events API request from a new event.
type seenEvents struct {
	mu  sync.Mutex
	ttl time.Duration
	at  map[string]time.Time
}

func newSeenEvents(ttl time.Duration) *seenEvents {
	return &seenEvents{ttl: ttl, at: map[string]time.Time{}}
}

// seen reports whether id was added within the TTL.
func (s *seenEvents) seen(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[id]
	return ok && now.Sub(t) < s.ttl
}

// add remembers id, forgetting the expired ones.
func (s *seenEvents) add(id string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.at {
		if now.Sub(t) >= s.ttl {
			delete(s.at, k)
		}
	}
	s.at[id] = now
}
