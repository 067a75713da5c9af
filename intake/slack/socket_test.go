package slack_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	slackin "github.com/earshot-dev/earshot/intake/slack"
	"github.com/earshot-dev/earshot/intake/source"
)

// waitFor waits for cond, failing with what() after 20 s.
func waitFor(t *testing.T, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 20 s: %s", what())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSocketGap runs the Socket Mode connection and the channel's
// catch-up as the daemon does: an event is stored and acknowledged; the
// connection drops and Slack is unreachable for a while, so a message
// posted meanwhile reaches no one; once connected again, the channel
// catches up and stores it.
func TestSocketGap(t *testing.T) {
	e := newEnv(t, func(c *slackin.Config) {
		c.Mode, c.AppToken, c.SigningSecret = "socket", "xapp-1-A0EARSHOT-test", ""
		c.PollInterval = time.Hour // only a gap makes it catch up
	})
	f := e.fake
	sock := e.app.Socket()
	if sock == nil {
		t.Fatal("socket mode has no connection source")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range []interface{ Run(context.Context) error }{sock, e.app.Channels[0]} {
		wg.Go(func() {
			if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("run: %v", err)
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, func() string { return "not connected" }, func() bool { return f.Connected() == 1 && e.app.Channels[0].Status().State == source.StatePolling })

	live := f.Say(channel, dana, "Acme is calling our customers.", "")
	waitFor(t, func() string { return "live message not stored" }, func() bool { _, ok := e.items(t)[key(live)]; return ok })
	waitFor(t, func() string { return "not acknowledged" }, func() bool { return f.Acked() == 1 })

	f.Refuse(true)
	f.Disconnect()
	waitFor(t, func() string { return "still connected" }, func() bool { return f.Connected() == 0 })
	missed := f.Say(channel, ravi, "Globex signed with Acme.", "")
	f.Refuse(false)
	waitFor(t, func() string { return "the message posted during the gap is not caught up" }, func() bool {
		_, ok := e.items(t)[key(missed)]
		return ok
	})
	if n := len(e.items(t)); n != 2 {
		t.Errorf("%d items, want 2", n)
	}
	meta, _ := e.items(t)[key(missed)].SlackMeta()
	if meta.Via != slackin.ViaHistory {
		t.Errorf("the missed message came by %s, want history", meta.Via)
	}
}
