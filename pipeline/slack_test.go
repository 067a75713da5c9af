package pipeline_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/slackfake"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
)

const (
	fieldIntel = "C0FIELDINT"
	ciChannel  = "C0CILEAD01"
	dana       = "U0DANA001"
	ravi       = "U0RAVI001"
	stranger   = "U0STRANGE1"
)

const slackConfig = `
database: %s
timezone: America/Los_Angeles
workers: {items: 2, batch: 5, lease: 30s}
slack:
  bot_token: xoxb-0000000000-0000000000-earshottest
  app_token: xapp-1-A0EARSHOT-0000000000-earshottest
  api_url: %s
  poll_interval: 10m
  channels:
    - {name: field-intel, channel: '#field-intel', category: intel}
owners:
  - {name: ci-lead, email: ci@example.test, slack: ` + ciChannel + `}
  - {name: product-ops, email: ops@example.test}
competitors:
  - {name: Acme, aliases: [Acme Corp], owner: ci-lead}
route:
  owner: product-ops
  routes:
    - {match: [category=intel], owner: ci-lead}
acks: {enabled: true}
`

// slackWorkspace is a stand-in workspace with the #field-intel channel,
// the ci-lead's channel, two reps and a stranger.
func slackWorkspace(t *testing.T) *slackfake.Server {
	t.Helper()
	f := slackfake.New(map[string]string{fieldIntel: "field-intel", ciChannel: "ci-lead"}, []slackfake.User{
		{ID: dana, Name: "dana", RealName: "Dana Whitfield", Email: "dana.w@example.test"},
		// Ravi is on the roster by mail address only: his Slack profile's
		// e-mail maps him.
		{ID: ravi, Name: "ravi", RealName: "Ravi Patel", Email: "Ravi@Example.test"},
		{ID: stranger, Name: "sam", RealName: "Sam Visitor", Email: "sam@elsewhere.test"},
	})
	t.Cleanup(f.Stop)
	return f
}

// slackStore opens and migrates the database and imports the roster.
func slackStore(t *testing.T, dbURL string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	reps := []model.Rep{{Name: "Dana Whitfield", Slack: []string{dana}, Line: 2},
		{Name: "Ravi Patel", Emails: []string{"ravi@example.test"}, Line: 3}}
	if _, err := st.ImportReps(ctx, reps); err != nil {
		t.Fatal(err)
	}
	return st
}

// runSlackDaemon runs a daemon on st against the workspace until the
// returned function stops it.
func runSlackDaemon(t *testing.T, st *store.Store, dbURL string, f *slackfake.Server, name string) (stop func()) {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(slackConfig, dbURL, f.APIURL())), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d, err := pipeline.New(cfg, st, log, &pipeline.Options{Listener: ln, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// until waits for cond, failing with what() after 20 s.
func until(t *testing.T, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 20 s: %s", what())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type slackRow struct {
	ID       int64             `db:"id"`
	Key      string            `db:"source_key"`
	State    model.ItemState   `db:"state"`
	Trust    model.Trust       `db:"trust"`
	AckState model.OutboxState `db:"ack_state"`
	Reason   string            `db:"ack_reason"`
}

func slackRows(t *testing.T, st *store.Store) []slackRow {
	t.Helper()
	var rows []slackRow
	if err := st.DB().Select(&rows, `select i.id, r.source_key, i.state, i.trust,
		coalesce(o.state, '') as ack_state, coalesce(o.reason, '') as ack_reason
		from items i join receipts r on r.item_id = i.id
		left join outbox o on o.item_id = i.id and o.kind = 'ack'
		where i.kind = 'slack' order by i.id`); err != nil {
		t.Fatal(err)
	}
	return rows
}

// acksSent counts the items whose ack went out.
func acksSent(rows []slackRow) int {
	sent := 0
	for _, r := range rows {
		if r.AckState == model.OutboxSent {
			sent++
		}
	}
	return sent
}

// TestSlackEndToEnd runs the daemon against a Slack stand-in: N messages
// posted while it runs (Socket Mode), N while it is down (caught up from
// the stored cursor by conversations.history when it is back), then every
// event delivered again. Each message is one item, tagged, routed to its
// owner (who hears in Slack too), reacted to and answered once in its
// thread with the points; bots, joins and Earshot's own posts are no
// items; a stranger's message is kept without an ack.
func TestSlackEndToEnd(t *testing.T) {
	const n = 5
	f := slackWorkspace(t)
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "slack.db")
	st := slackStore(t, dbURL)
	author := func(i int) string { return []string{dana, ravi}[i%2] }

	stop := runSlackDaemon(t, st, dbURL, f, "replica-1")
	until(t, func() string { return "no socket mode connection" }, func() bool { return f.Connected() == 1 })
	var posted []string
	for i := range n {
		posted = append(posted, f.Say(fieldIntel, author(i), fmt.Sprintf("Live %d: Acme Corp offered Globex 30%% off to switch.", i), ""))
	}
	// Neither a join, nor a bot, nor a topic change is an item.
	f.Event(map[string]any{"type": "message", "subtype": "channel_join", "channel": fieldIntel, "user": stranger, "text": "<@U0STRANGE1> has joined the channel", "ts": "1700000000.000001"})
	f.Event(map[string]any{"type": "message", "subtype": "bot_message", "channel": fieldIntel, "bot_id": "B0OTHER", "text": "Deploy done", "ts": "1700000000.000002"})
	f.Event(map[string]any{"type": "message", "subtype": "channel_topic", "channel": fieldIntel, "user": dana, "text": "set the topic", "ts": "1700000000.000003"})
	until(t, func() string { return fmt.Sprintf("%d of %d acknowledged", f.Acked(), n+3) }, func() bool { return f.Acked() == n+3 })
	// A replica that stops leaves what it claimed to its lease: stop once
	// the live messages are answered.
	until(t, func() string { return fmt.Sprintf("rows %+v", slackRows(t, st)) }, func() bool { return acksSent(slackRows(t, st)) == n })
	stop()

	// Down: N more messages, whose events reach no one.
	for i := range n {
		posted = append(posted, f.Say(fieldIntel, author(i), fmt.Sprintf("While down %d: Acme is bundling reports for free.", i), ""))
	}
	runSlackDaemon(t, st, dbURL, f, "replica-2")
	until(t, func() string { return fmt.Sprintf("%d items", len(slackRows(t, st))) }, func() bool { return len(slackRows(t, st)) == 2*n })
	until(t, func() string { return "no socket mode connection" }, func() bool { return f.Connected() == 1 })
	redelivered := f.Redeliver()

	acked := func() []slackfake.Post {
		var out []slackfake.Post
		for _, p := range f.Posts() {
			if p.Channel == fieldIntel {
				out = append(out, p)
			}
		}
		return out
	}
	until(t, func() string { return fmt.Sprintf("%d threaded acks, rows %+v", len(acked()), slackRows(t, st)) }, func() bool {
		return acksSent(slackRows(t, st)) == 2*n && len(acked()) == 2*n
	})
	// Redelivered events are acknowledged once more, and add nothing.
	until(t, func() string { return fmt.Sprintf("%d acknowledged", f.Acked()) }, func() bool { return f.Acked() == redelivered })

	rows := slackRows(t, st)
	keys := map[string]bool{}
	for _, r := range rows {
		keys[r.Key] = true
		if r.State != model.StateProcessed || r.Trust != model.TrustRep {
			t.Errorf("item %d is %s, trust %s", r.ID, r.State, r.Trust)
		}
	}
	threads := map[string]int{}
	for _, p := range acked() {
		threads[p.ThreadTS]++
		if !strings.Contains(p.Text, "pts") || !strings.Contains(p.Text, "rank") || p.ItemID == 0 {
			t.Errorf("ack %q says no points or standing, or names no item", p.Text)
		}
	}
	reacted := map[string]int{}
	for _, r := range f.Reactions() {
		reacted[r.TS]++
	}
	dups := 0
	for _, ts := range posted {
		if threads[ts] != 1 || reacted[ts] != 1 {
			t.Errorf("message %s: %d threaded acks, %d reactions; want one of each", ts, threads[ts], reacted[ts])
		}
		dups += max(threads[ts]-1, 0) + max(reacted[ts]-1, 0)
	}
	if len(rows) != 2*n || len(keys) != 2*n {
		t.Errorf("%d items with %d keys; want %d", len(rows), len(keys), 2*n)
	}
	// Tags and owner: intel naming Acme, routed to the ci-lead, who hears
	// in the ci-lead channel.
	tags, err := st.Tags(context.Background(), rows[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range tags {
		got = append(got, string(tg.Kind)+"="+tg.Value)
	}
	if !strings.Contains(strings.Join(got, " "), "competitor=Acme") || !strings.Contains(strings.Join(got, " "), "category=intel") {
		t.Errorf("tags = %v", got)
	}
	as, _ := st.Assignments(context.Background(), rows[0].ID)
	if len(as) == 0 || as[0].Owner != "ci-lead" {
		t.Errorf("assignments %+v; want ci-lead", as)
	}
	notices := func() int {
		n := 0
		for _, p := range f.Posts() {
			if p.Channel == ciChannel {
				n++
			}
		}
		return n
	}
	// The outbox sends an item's notice after its ack: wait for them.
	until(t, func() string { return fmt.Sprintf("%d notices in the ci-lead channel", notices()) }, func() bool { return notices() == 2*n })
	t.Logf("N=%d: %d posted while the daemon ran, %d while it was down, %d events delivered again → %d items, %d threaded acks, %d reactions, %d duplicates",
		n, n, n, redelivered, len(rows), len(acked()), len(f.Reactions()), dups)
}

// In events mode the daemon serves POST /slack/events: a forged request
// is refused, a signed one stored, acked in its thread and reacted to.
func TestSlackEventsAPIDaemon(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	f := slackWorkspace(t)
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "events.db")
	st := slackStore(t, dbURL)
	yml := strings.Replace(fmt.Sprintf(slackConfig, dbURL, f.APIURL()), "  poll_interval: 10m\n",
		"  poll_interval: 10m\n  mode: events\n  signing_secret: "+secret+"\n", 1)
	cfg, err := config.Parse([]byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d, err := pipeline.New(cfg, st, slog.New(slog.NewTextHandler(tWriter{t}, nil)), &pipeline.Options{Listener: ln, Name: "events"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// The event only: the channel's history, which the daemon reads as it
	// starts, does not have the message, so only the request can store it.
	ts := "1712345678.000100"
	f.Event(map[string]any{"type": "message", "channel": fieldIntel, "user": dana, "text": "Acme Corp is offering free onboarding.", "ts": ts})
	body := string(f.Envelope(1))
	url := "http://" + ln.Addr().String() + "/slack/events"
	send := func(key string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(key))
		fmt.Fprintf(mac, "v0:%s:%s", stamp, body)
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send("ffffffffffffffffffffffffffffffff"); code != http.StatusUnauthorized {
		t.Fatalf("forged request answered %d, want 401", code)
	}
	if rows := slackRows(t, st); len(rows) != 0 {
		t.Fatalf("a forged request stored %d items", len(rows))
	}
	if code := send(secret); code != http.StatusOK {
		t.Fatalf("signed request answered %d", code)
	}
	until(t, func() string { return fmt.Sprintf("rows %+v, posts %+v", slackRows(t, st), f.Posts()) }, func() bool {
		return acksSent(slackRows(t, st)) == 1
	})
	var threaded int
	for _, p := range f.Posts() {
		if p.Channel == fieldIntel && p.ThreadTS == ts {
			threaded++
		}
	}
	if rs := f.Reactions(); threaded != 1 || len(rs) != 1 || rs[0].TS != ts {
		t.Errorf("%d threaded acks, reactions %+v", threaded, rs)
	}
}
