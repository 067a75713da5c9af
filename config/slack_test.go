package config

import (
	"strings"
	"testing"
)

// TestSlack checks the shapes of the Slack tokens (Slack's token prefixes:
// xoxb- for bot tokens, xapp- for app-level tokens; the signing secret is
// 32 hex digits as the app's Basic Information page shows it), the mode's
// credentials and the channels.
func TestSlack(t *testing.T) {
	const (
		bot = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"
		app = "xapp-1-A0123ABCD-1234567890-abcdef0123456789"
		sec = "8f742231b10e8888abcd99yyyzzz85a5"
	)
	base := "database: sqlite:x.db\n"
	slack := func(body string) string {
		return base + "slack:\n" + body + "  channels: [{name: field-intel, channel: '#field-intel', category: intel}]\n"
	}
	for _, tc := range []struct {
		name, yml string
		env       map[string]string
		want      []string // substrings of the error; none for a valid config
	}{
		{"socket mode", slack("  bot_token: " + bot + "\n  app_token: " + app + "\n"), nil, nil},
		{"tokens from the environment", slack(""), map[string]string{"EARSHOT_SLACK_BOT_TOKEN": bot, "EARSHOT_SLACK_APP_TOKEN": app}, nil},
		{"a user token is no bot token", slack("  bot_token: xoxp-1234567890-1234\n  app_token: " + app + "\n"), nil, []string{"slack.bot_token: want a bot token"}},
		{"socket mode without an app token", slack("  bot_token: " + bot + "\n"), nil, []string{"slack.app_token: socket mode needs"}},
		{"events without a signing secret", slack("  bot_token: " + bot + "\n  mode: events\n"), nil, []string{"slack.signing_secret"}},
		{"a signing secret that is not hex", slack("  bot_token: " + bot + "\n  mode: events\n  signing_secret: " + sec + "\n"), nil, []string{"slack.signing_secret"}},
		{"events", slack("  bot_token: " + bot + "\n  mode: events\n  signing_secret: 8f742231b10e8888abcd99aaabbb85a5\n"), nil, nil},
		{"bad reply", slack("  bot_token: " + bot + "\n  app_token: " + app + "\n  ack: {reply: dm}\n"), nil, []string{"slack.ack.reply: must be one of"}},
		{"emoji with colons", slack("  bot_token: " + bot + "\n  app_token: " + app + "\n  ack: {reaction: ':eyes:'}\n"), nil, []string{"slack.ack.reaction"}},
		{"bad channel", strings.Replace(slack("  bot_token: "+bot+"\n  app_token: "+app+"\n"), "'#field-intel'", "'Field Intel'", 1), nil, []string{"slack.channels[0].channel"}},
		{"owner slack without the section", base + "owners: [{name: a, email: a@example.test, slack: C0123ABCD}]\n", nil, []string{"owners[0].slack: needs the slack section"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			c, err := Parse([]byte(tc.yml), lookup)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.Slack.Ack.Reaction != "eyes" || c.Slack.Ack.Reply != "thread" || c.Slack.ThreadReplies != "context" {
					t.Errorf("defaults = %+v", c.Slack)
				}
				out, _ := c.Print()
				if strings.Contains(out, "xoxb-") || strings.Contains(out, "xapp-") {
					t.Errorf("printed config shows a token:\n%s", out)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
