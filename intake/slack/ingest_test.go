package slack_test

import (
	"context"
	"testing"
	"time"

	slackin "github.com/earshot-dev/earshot/intake/slack"
	"github.com/earshot-dev/earshot/model"
)

// TestMessageKinds feeds the message events Slack sends (the message
// event's subtypes: message_changed, message_deleted, channel_join,
// channel_topic, bot_message; thread replies with thread_ts and
// parent_user_id) through one path, as Socket Mode and the Events API do.
func TestMessageKinds(t *testing.T) {
	e := newEnv(t, func(c *slackin.Config) { c.EditWindow = time.Hour })
	ctx := context.Background()
	parent := "1712345678.000100"
	steps := []struct {
		name  string
		inner string
		// items is how many items are stored after the step; changes how
		// many changes the parent has.
		items, changes int
	}{
		{"a rep's post", message(dana, parent, "Acme dropped its price."), 1, 0},
		{"someone joins", `{"type":"message","subtype":"channel_join","channel":"` + channel + `","user":"U0NEW0001","text":"joined","ts":"1712345679.000100"}`, 1, 0},
		{"the topic changes", `{"type":"message","subtype":"channel_topic","channel":"` + channel + `","user":"` + dana + `","text":"topic","ts":"1712345680.000100"}`, 1, 0},
		{"a bot posts", `{"type":"message","subtype":"bot_message","bot_id":"B0OTHER","channel":"` + channel + `","text":"build green","ts":"1712345681.000100"}`, 1, 0},
		{"Earshot's own reply", `{"type":"message","bot_id":"B0EARSHOT","user":"U0EARSHOT","channel":"` + channel + `","text":"Thanks","ts":"1712345682.000100","thread_ts":"` + parent + `"}`, 1, 0},
		{"another channel", `{"type":"message","channel":"C0OTHER01","user":"` + dana + `","text":"Acme","ts":"1712345683.000100"}`, 1, 0},
		{"the rep adds to their own post in its thread: context",
			`{"type":"message","channel":"` + channel + `","user":"` + dana + `","text":"They offered 30% off.","ts":"1712345690.000100","thread_ts":"` + parent + `","parent_user_id":"` + dana + `"}`, 1, 1},
		{"someone else replies in the thread: a contribution",
			`{"type":"message","channel":"` + channel + `","user":"` + ravi + `","text":"Same at Initech.","ts":"1712345691.000100","thread_ts":"` + parent + `","parent_user_id":"` + dana + `"}`, 2, 1},
		{"an edit within the window: a new revision",
			`{"type":"message","subtype":"message_changed","channel":"` + channel + `","ts":"1712345700.000100","message":{"type":"message","user":"` + dana + `","text":"Acme dropped its price by 20%.","ts":"` + parent + `","edited":{"user":"` + dana + `","ts":"1712345700.000000"}},"previous_message":{"type":"message","user":"` + dana + `","text":"Acme dropped its price.","ts":"` + parent + `"}}`, 2, 2},
		{"the same edit delivered again", `{"type":"message","subtype":"message_changed","channel":"` + channel + `","ts":"1712345700.000100","message":{"type":"message","user":"` + dana + `","text":"Acme dropped its price by 20%.","ts":"` + parent + `","edited":{"user":"` + dana + `","ts":"1712345700.000000"}}}`, 2, 2},
		{"an edit after the window is ignored",
			`{"type":"message","subtype":"message_changed","channel":"` + channel + `","ts":"1712359000.000100","message":{"type":"message","user":"` + dana + `","text":"Never mind.","ts":"` + parent + `","edited":{"user":"` + dana + `","ts":"1712359000.000000"}}}`, 2, 2},
		{"an unfurl changes the message without an edit",
			`{"type":"message","subtype":"message_changed","channel":"` + channel + `","ts":"1712345701.000100","message":{"type":"message","user":"` + dana + `","text":"Acme dropped its price by 20%.","ts":"` + parent + `"}}`, 2, 2},
		{"the post is deleted: marked, kept",
			`{"type":"message","subtype":"message_deleted","channel":"` + channel + `","ts":"1712345800.000100","deleted_ts":"` + parent + `","previous_message":{"type":"message","user":"` + dana + `","text":"Acme dropped its price by 20%.","ts":"` + parent + `"}}`, 2, 3},
		{"a message deleted before it was stored is stored, marked",
			`{"type":"message","subtype":"message_deleted","channel":"` + channel + `","ts":"1712345900.000100","deleted_ts":"1712345650.000100","previous_message":{"type":"message","user":"` + ravi + `","text":"Globex churned.","ts":"1712345650.000100"}}`, 3, 3},
	}
	for i, s := range steps {
		body := event("EvK"+string(rune('a'+i)), s.inner)
		if w := e.post(body, sign(secret, time.Now(), body)); w.Code != 200 {
			t.Fatalf("%s: answered %d %s", s.name, w.Code, w.Body)
		}
		items := e.items(t)
		if len(items) != s.items {
			t.Fatalf("%s: %d items, want %d", s.name, len(items), s.items)
		}
		chs, err := e.st.SlackChanges(ctx, items[key(parent)].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(chs) != s.changes {
			t.Fatalf("%s: %d changes of the post, want %d: %+v", s.name, len(chs), s.changes, chs)
		}
	}
	items := e.items(t)
	meta, err := items[key(parent)].SlackMeta()
	if err != nil || meta.Text != "Acme dropped its price." || meta.User != dana || meta.ChannelName != "field-intel" || meta.Via != slackin.ViaEvents {
		t.Errorf("the post's meta = %+v, %v; want its first text, kept raw", meta, err)
	}
	reply, _ := items[key("1712345691.000100")].SlackMeta()
	if reply.ThreadTS != parent || reply.User != ravi {
		t.Errorf("the reply's meta = %+v", reply)
	}
	late, _ := e.st.SlackChanges(ctx, items[key("1712345650.000100")].ID)
	if len(late) != 1 || late[0].Kind != model.SlackDelete {
		t.Errorf("the message deleted before it was stored has changes %+v, want its deletion", late)
	}
}

// With thread_replies: items, the author's own replies are contributions
// too.
func TestThreadRepliesAsItems(t *testing.T) {
	e := newEnv(t, func(c *slackin.Config) { c.ThreadReplies = "items" })
	for i, inner := range []string{message(dana, "1712345678.000100", "Acme."),
		`{"type":"message","channel":"` + channel + `","user":"` + dana + `","text":"More on Acme.","ts":"1712345690.000100","thread_ts":"1712345678.000100","parent_user_id":"` + dana + `"}`} {
		body := event("EvT"+string(rune('a'+i)), inner)
		if w := e.post(body, sign(secret, time.Now(), body)); w.Code != 200 {
			t.Fatal(w.Code)
		}
	}
	if n := len(e.items(t)); n != 2 {
		t.Fatalf("%d items, want the post and the reply", n)
	}
}
