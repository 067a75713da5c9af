package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	slackin "github.com/earshot-dev/earshot/intake/slack"
)

// TestCatchUp reads a channel's history from the stored cursor, page by
// page (conversations.history's cursor), waiting out a 429's Retry-After,
// with the replies of threads (conversations.replies); a second catch-up
// finds everything stored and stores nothing again.
func TestCatchUp(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	f := e.fake
	f.SetPageSize(2)
	parent := f.Say(channel, dana, "Acme is hiring our AE in Denver.", "")
	f.Say(channel, ravi, "Globex asked for SSO again.", "")
	f.Say(channel, dana, "And a second point from me.", parent) // Dana's own reply: context
	f.Say(channel, ravi, "Initech too.", parent)                // Ravi's reply: an item
	f.Event(map[string]any{"type": "message", "subtype": "channel_join", "channel": channel, "user": "U0NEW0001", "ts": "1.0"})
	for range 3 {
		f.Say(channel, ravi, "Pricing question from a customer.", "")
	}
	f.RateLimit("conversations.history", 1)
	src := e.app.Channels[0]
	res, err := src.SyncOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 6 || res.Known != 0 {
		t.Fatalf("catch-up = %+v; want 5 posts and Ravi's reply stored, Dana's reply kept as context", res)
	}
	if got := f.Calls("conversations.history"); got < 4 {
		t.Errorf("%d history calls; want the 429 and three pages of two", got)
	}
	if got := testutil.ToFloat64(mustCounter(t, e, "earshot_slack_rate_limited_total")); got != 1 {
		t.Errorf("rate limited = %v, want 1", got)
	}
	items := e.items(t)
	if len(items) != 6 {
		t.Fatalf("%d items, want 6", len(items))
	}
	chs, err := e.st.SlackChanges(ctx, items[key(parent)].ID)
	if err != nil || len(chs) != 1 || chs[0].Text != "And a second point from me." {
		t.Errorf("the post's changes = %+v, %v; want Dana's reply as context", chs, err)
	}
	for _, it := range items {
		if meta, _ := it.SlackMeta(); meta.Via != "history" || !strings.HasPrefix(meta.Channel, "C") {
			t.Errorf("item %d meta %+v", it.ID, meta)
		}
	}
	if c := src.Cursor(); c.Oldest == "" || c.Channel != channel {
		t.Errorf("cursor %+v", c)
	}
	// While Earshot was away, Dana's old thread got a reply.
	late := f.Say(channel, ravi, "Umbrella joined the thread late.", parent)
	res, err = src.SyncOnce(ctx)
	if err != nil || res.Stored != 1 {
		t.Fatalf("second catch-up = %+v, %v; want the late reply stored", res, err)
	}
	if _, ok := e.items(t)[key(late)]; !ok {
		t.Error("the late reply in an old thread is not stored")
	}
	res, err = src.SyncOnce(ctx)
	if err != nil || res.Stored != 0 {
		t.Fatalf("third catch-up = %+v, %v; want nothing new", res, err)
	}
	row, err := e.st.Source(ctx, "field-intel")
	if err != nil || !strings.Contains(row.Cursor, `"oldest":"`+late+`"`) {
		t.Errorf("stored cursor %q, %v; want the newest ts %s", row.Cursor, err, late)
	}
}

// A file is downloaded with the bot token, up to the size cap.
func TestDownloadCap(t *testing.T) {
	e := newEnv(t, func(c *slackin.Config) { c.MaxFileBytes = 4 })
	f := e.fake
	var small, large struct {
		URL string `json:"url_private_download"`
	}
	_ = json.Unmarshal(f.AddFile("F1", "memo.m4a", "audio/mp4", "slack_audio", []byte("abcd")), &small)
	_ = json.Unmarshal(f.AddFile("F2", "long.m4a", "audio/mp4", "slack_audio", []byte("abcdefgh")), &large)
	ctx := context.Background()
	if b, err := e.app.Download(ctx, small.URL); err != nil || string(b) != "abcd" {
		t.Errorf("download = %q, %v", b, err)
	}
	if _, err := e.app.Download(ctx, large.URL); !errors.Is(err, slackin.ErrTooLarge) {
		t.Errorf("a file over the cap = %v, want ErrTooLarge", err)
	}
}
