package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/model"
)

// Source is one configured channel. Its Runner catches up from the stored
// cursor with conversations.history and conversations.replies, under the
// channel's lease: on start, after a gap in the event stream, and every
// poll interval. Events of the channel are stored as they arrive, by any
// replica, without the lease.
type Source struct {
	*source.Runner
	app  *App
	name string
	cfg  Channel
	wake chan struct{}

	mu        sync.Mutex
	channelID string
	lastEvent string // the newest ts stored or seen again
	cursor    Cursor
}

func newSource(a *App, ch Channel) *Source {
	ro := a.opts.Options
	ro.Logger = a.log.With("source", ch.Name)
	s := &Source{app: a, name: ch.Name, cfg: ch, wake: make(chan struct{}, 1),
		Runner: source.New(ch.Name, Kind, ch.Channel, a.sink, a.metrics.runner(), ro)}
	if channelID.MatchString(ch.Channel) {
		s.channelID = ch.Channel
		a.byID[ch.Channel] = s
	}
	return s
}

// Cursor is how far a channel's history is stored, as the store keeps it:
// {"oldest":"1712345678.000100"}, the newest ts a catch-up read.
type Cursor struct {
	Oldest string `json:"oldest,omitempty"`
	// Channel is the channel's ID, resolved from its name.
	Channel string `json:"channel,omitempty"`
}

// String returns the cursor's JSON text.
func (c Cursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Cursor returns the last cursor the source stored or read.
func (s *Source) Cursor() Cursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

// LastEvent is the ts of the newest message of the channel stored or seen
// again since start.
func (s *Source) LastEvent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastEvent
}

func (s *Source) sawEvent(ts string) {
	s.mu.Lock()
	if tsAfter(ts, s.lastEvent) {
		s.lastEvent = ts
	}
	s.mu.Unlock()
}

func (s *Source) id() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channelID
}

// channelName is the channel's name without #, when it was configured by
// name; else the source's name.
func (s *Source) channelName() string {
	if !channelID.MatchString(s.cfg.Channel) {
		return trimHash(s.cfg.Channel)
	}
	return s.name
}

func trimHash(s string) string {
	if len(s) > 0 && s[0] == '#' {
		return s[1:]
	}
	return s
}

// resolve finds the channel's ID from its name.
func (s *Source) resolve(ctx context.Context) error {
	if s.id() != "" {
		return nil
	}
	id, err := s.app.client.ChannelID(ctx, s.cfg.Channel)
	if err != nil {
		return fmt.Errorf("channel %s: %w", s.cfg.Channel, err)
	}
	s.mu.Lock()
	s.channelID = id
	s.mu.Unlock()
	s.app.mu.Lock()
	s.app.byID[id] = s
	s.app.mu.Unlock()
	return nil
}

// wakeUp makes a waiting source catch up at once.
func (s *Source) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run catches up until ctx ends; see source.Runner.Run.
func (s *Source) Run(ctx context.Context) error { return s.Runner.Run(ctx, driver{s: s}) }

// SyncOnce catches up once. It must not run while Run does.
func (s *Source) SyncOnce(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	err := s.Runner.SyncOnce(ctx, &driver{s: s, res: &res})
	return res, err
}

// Close does nothing: the source keeps no connection.
func (s *Source) Close() error { return nil }

// SyncResult counts what one catch-up did.
type SyncResult struct {
	// Listed messages came back from history and thread listings; Stored
	// and Known were new and stored before.
	Listed, Stored, Known int
	Cursor                Cursor
}

// driver is the channel side of the source's runner.
type driver struct {
	s   *Source
	res *SyncResult
}

// Sync catches up.
func (d driver) Sync(ctx context.Context) error {
	res, err := d.s.catchUp(ctx)
	if d.res != nil {
		*d.res = res
	}
	if err == nil && res.Stored > 0 {
		d.s.app.log.Info("caught up", "source", d.s.name, "listed", res.Listed, "stored", res.Stored)
	}
	return err
}

// Wait waits for a gap in the event stream or the poll interval, keeping
// the lease.
func (d driver) Wait(ctx context.Context) error {
	s := d.s
	wait := s.app.cfg.PollInterval
	s.SetState(source.StatePolling, s.app.opts.Now().Add(wait))
	step := wait
	if every := s.RenewEvery(); every > 0 {
		step = min(wait, every)
	}
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		t := time.NewTimer(min(step, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.wake:
			t.Stop()
			return nil
		case <-t.C:
		}
		if s.RenewEvery() > 0 {
			if err := s.Renew(ctx); err != nil {
				return nil // the next sync reports it
			}
		}
	}
}

// Drop has nothing to close.
func (driver) Drop() {}

// catchUp stores every message of the channel since the cursor, with the
// replies of threads active since, oldest first; then the cursor.
func (s *Source) catchUp(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	a := s.app
	raw, err := a.sink.SourceCursor(ctx, s.name)
	if err != nil {
		return res, err
	}
	var cur Cursor
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &cur); err != nil {
			return res, fmt.Errorf("decode cursor %q: %w", raw, err)
		}
	}
	if err := s.resolve(ctx); err != nil {
		return res, err
	}
	self, err := a.identity(ctx)
	if err != nil {
		return res, err
	}
	ch := s.id()
	oldest := cur.Oldest
	if oldest == "" {
		oldest = tsOf(a.opts.Now().Add(-a.cfg.Backfill))
	}
	// Threads that got replies meanwhile have parents older than the
	// cursor: list from the thread lookback, and keep what is newer.
	from := tsOf(model.SlackTime(oldest).Add(-a.cfg.ThreadLookback))
	var fresh []slack.Message
	var threads []string
	err = a.client.History(ctx, ch, from, func(page []slack.Message) error {
		for _, m := range page {
			res.Listed++
			if tsAfter(m.Timestamp, oldest) {
				fresh = append(fresh, m)
			}
			if m.ReplyCount > 0 && tsAfter(m.LatestReply, oldest) {
				threads = append(threads, m.Timestamp)
			}
		}
		return s.Renew(ctx)
	})
	if err != nil {
		return res, err
	}
	for _, t := range threads {
		err := a.client.Replies(ctx, ch, t, oldest, func(page []slack.Message) error {
			for _, m := range page {
				res.Listed++
				if tsAfter(m.Timestamp, oldest) && m.SubType != "thread_broadcast" {
					fresh = append(fresh, m)
				}
			}
			return s.Renew(ctx)
		})
		if err != nil {
			return res, err
		}
	}
	slices.SortFunc(fresh, func(x, y slack.Message) int { return compareTS(x.Timestamp, y.Timestamp) })
	fresh = slices.CompactFunc(fresh, func(x, y slack.Message) bool { return x.Timestamp == y.Timestamp })
	keys := make([]string, len(fresh))
	for i, m := range fresh {
		keys[i] = Key(self.Team, ch, m.Timestamp)
	}
	known, err := a.sink.ReceivedKeys(ctx, s.name, keys)
	if err != nil {
		return res, err
	}
	newest := oldest
	for i, m := range fresh {
		if tsAfter(m.Timestamp, newest) {
			newest = m.Timestamp
		}
		if known[keys[i]] {
			res.Known++
			s.sawEvent(m.Timestamp)
			continue
		}
		m.Channel = ch
		body, err := json.Marshal(m)
		if err != nil {
			return res, err
		}
		var mm message
		if err := json.Unmarshal(body, &mm); err != nil {
			return res, err
		}
		mm.Type = "message"
		stored, err := a.handle(ctx, s, mm, body, ViaHistory, s.Holder())
		if err != nil {
			return res, err
		}
		if stored {
			res.Stored++
		}
	}
	next := Cursor{Oldest: newest, Channel: ch}
	if next != cur {
		if _, err := a.sink.Receive(ctx, model.Batch{Source: s.name, Holder: s.Holder(), Cursor: next.String()}); err != nil {
			return res, fmt.Errorf("store cursor: %w", err)
		}
	}
	res.Cursor = next
	s.mu.Lock()
	s.cursor = next
	s.mu.Unlock()
	return res, nil
}

// tsOf writes t as a Slack ts.
func tsOf(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

// compareTS orders two ts values.
func compareTS(a, b string) int {
	ta, tb := model.SlackTime(a), model.SlackTime(b)
	if c := ta.Compare(tb); c != 0 || a == b {
		return c
	}
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}

// tsAfter reports whether a is later than b; every ts is after "".
func tsAfter(a, b string) bool {
	if b == "" {
		return a != ""
	}
	return compareTS(a, b) > 0
}
