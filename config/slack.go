package config

import (
	"fmt"
	"regexp"
	"time"
)

// Slack configures the Slack source: one app, the channels it reads, and
// how it acknowledges a contribution.
type Slack struct {
	// BotToken (xoxb-…) calls the Web API; env EARSHOT_SLACK_BOT_TOKEN.
	BotToken     Secret `yaml:"bot_token"`
	BotTokenFile string `yaml:"bot_token_file,omitempty"`
	// AppToken (xapp-…, scope connections:write) opens Socket Mode; env
	// EARSHOT_SLACK_APP_TOKEN.
	AppToken     Secret `yaml:"app_token"`
	AppTokenFile string `yaml:"app_token_file,omitempty"`
	// SigningSecret verifies Events API requests; env
	// EARSHOT_SLACK_SIGNING_SECRET.
	SigningSecret     Secret `yaml:"signing_secret"`
	SigningSecretFile string `yaml:"signing_secret_file,omitempty"`
	// Mode is socket (default: no public URL needed) or events (Slack
	// posts to {http.public_url}/slack/events).
	Mode string `yaml:"mode"`
	// APIURL replaces https://slack.com/api/, for a proxy or a test server.
	APIURL string `yaml:"api_url,omitempty"`
	// PollInterval is how often each channel's history is read even
	// without a gap in the event stream (default 10m).
	PollInterval time.Duration `yaml:"poll_interval"`
	// Backfill is how far back the first catch-up of a channel reads
	// (default 24h).
	Backfill time.Duration `yaml:"backfill"`
	// ThreadLookback is how far back a catch-up looks for threads that
	// got replies meanwhile (default 24h).
	ThreadLookback time.Duration `yaml:"thread_lookback"`
	// EditWindow is how long after posting an edit still changes an
	// item's text (default 1h); later edits are ignored.
	EditWindow time.Duration `yaml:"edit_window"`
	// ThreadReplies is context (default: a rep's reply under their own
	// post is kept with it, not counted again) or items (every reply is
	// a contribution).
	ThreadReplies string `yaml:"thread_replies"`
	// MaxFileBytes caps an audio file downloaded to transcribe (default
	// 25 MB); larger ones are only listed.
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	// Ack is how a contribution is acknowledged in Slack.
	Ack SlackAck `yaml:"ack"`
	// Channels are the channels read.
	Channels []SlackChannel `yaml:"channels"`
}

// SlackAck is how Slack contributions are acknowledged.
type SlackAck struct {
	// Reaction is the emoji added at once when a message is stored
	// (default eyes); none for no reaction.
	Reaction string `yaml:"reaction"`
	// Reply is thread (default: a reply in the message's thread with the
	// points and the month's standing), ephemeral (only the rep sees it)
	// or none.
	Reply string `yaml:"reply"`
}

// SlackChannel is one channel reps post to.
type SlackChannel struct {
	// Name identifies the source in the store, logs and metrics.
	Name string `yaml:"name"`
	// Channel is the channel's ID (C0123ABCD) or its name (#field-intel).
	Channel string `yaml:"channel"`
	// Category is what posts here are by default: feedback, intel or both.
	Category string `yaml:"category"`
	// RouteStrangers sends posts of Slack users who are no rep to their
	// owners too; by default they wait for a manager.
	RouteStrangers bool `yaml:"route_strangers"`
}

var (
	slackBotToken = regexp.MustCompile(`^xoxb-[0-9A-Za-z-]{10,}$`)
	slackAppToken = regexp.MustCompile(`^xapp-[0-9A-Za-z-]{10,}$`)
	slackSecret   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	slackChannel  = regexp.MustCompile(`^([CG][0-9A-Z]{2,20}|#?[a-z0-9][a-z0-9._-]{0,79})$`)
	slackEmoji    = regexp.MustCompile(`^[a-z0-9_+'-]{1,100}$`)
	// SlackDestination is a channel or a user ID an owner hears on.
	slackDestination = regexp.MustCompile(`^[CGDUW][0-9A-Z]{2,20}$`)
)

func (c *Config) slackSecrets() []secretRef {
	s := c.Slack
	if s == nil {
		return nil
	}
	return []secretRef{
		{"slack.bot_token", "EARSHOT_SLACK_BOT_TOKEN", &s.BotToken, &s.BotTokenFile},
		{"slack.app_token", "EARSHOT_SLACK_APP_TOKEN", &s.AppToken, &s.AppTokenFile},
		{"slack.signing_secret", "EARSHOT_SLACK_SIGNING_SECRET", &s.SigningSecret, &s.SigningSecretFile},
	}
}

func (c *Config) slackDefaults() {
	s := c.Slack
	if s == nil {
		return
	}
	if s.Mode == "" {
		s.Mode = "socket"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&s.PollInterval, 10*time.Minute)
	def(&s.Backfill, 24*time.Hour)
	def(&s.ThreadLookback, 24*time.Hour)
	def(&s.EditWindow, time.Hour)
	if s.ThreadReplies == "" {
		s.ThreadReplies = "context"
	}
	if s.MaxFileBytes == 0 {
		s.MaxFileBytes = 25 << 20
	}
	if s.Ack.Reaction == "" {
		s.Ack.Reaction = "eyes"
	}
	if s.Ack.Reply == "" {
		s.Ack.Reply = "thread"
	}
}

// slack checks the Slack section: the tokens' shapes, the mode's
// credentials, the channels.
func (v *validator) slack() {
	s := v.c.Slack
	if s == nil {
		for i, o := range v.c.Owners {
			if o.Slack != "" {
				v.errf(fmt.Sprintf("owners[%d].slack", i), "needs the slack section")
			}
		}
		return
	}
	if !slackBotToken.MatchString(s.BotToken.Value()) {
		v.errf("slack.bot_token", "want a bot token xoxb-…, or set EARSHOT_SLACK_BOT_TOKEN")
	}
	oneOf(v, "slack.mode", s.Mode, "socket", "events")
	switch s.Mode {
	case "socket":
		if !slackAppToken.MatchString(s.AppToken.Value()) {
			v.errf("slack.app_token", "socket mode needs an app-level token xapp-… (scope connections:write), or set EARSHOT_SLACK_APP_TOKEN")
		}
	case "events":
		if !slackSecret.MatchString(s.SigningSecret.Value()) {
			v.errf("slack.signing_secret", "the events API needs the app's signing secret (32 hex digits), or set EARSHOT_SLACK_SIGNING_SECRET")
		}
		if v.c.HTTP.PublicURL == "" {
			v.warnf("slack.mode", "Slack must reach {http.public_url}/slack/events, and http.public_url is not set")
		}
	}
	if tok := s.AppToken.Value(); tok != "" && !slackAppToken.MatchString(tok) {
		v.errf("slack.app_token", "want an app-level token xapp-…")
	}
	if sec := s.SigningSecret.Value(); sec != "" && !slackSecret.MatchString(sec) {
		v.errf("slack.signing_secret", "want 32 hex digits, as Slack shows it")
	}
	if s.APIURL != "" {
		v.absURL("slack.api_url", s.APIURL)
	}
	if s.PollInterval < 10*time.Second {
		v.errf("slack.poll_interval", "must be at least 10s")
	}
	if s.EditWindow < 0 {
		v.errf("slack.edit_window", "must not be negative")
	}
	oneOf(v, "slack.thread_replies", s.ThreadReplies, "context", "items")
	if s.MaxFileBytes < 1<<10 {
		v.errf("slack.max_file_bytes", "must be at least 1024")
	}
	if s.Ack.Reaction != "none" && !slackEmoji.MatchString(s.Ack.Reaction) {
		v.errf("slack.ack.reaction", "want an emoji name without colons, like eyes, or none")
	}
	oneOf(v, "slack.ack.reply", s.Ack.Reply, "thread", "ephemeral", "none")
	if len(s.Channels) == 0 {
		v.errf("slack.channels", "name at least one channel to read")
	}
	names := map[string]bool{}
	for _, m := range v.c.Mailboxes {
		names[m.Name] = true
	}
	for i, ch := range s.Channels {
		p := fmt.Sprintf("slack.channels[%d]", i)
		if ch.Name == "" {
			v.errf(p+".name", "required")
		} else if names[ch.Name] || ch.Name == "twilio" || ch.Name == "slack" {
			v.errf(p+".name", "duplicate source name %q", ch.Name)
		}
		names[ch.Name] = true
		if !slackChannel.MatchString(ch.Channel) {
			v.errf(p+".channel", "want a channel ID like C0123ABCD or a name like #field-intel, got %q", ch.Channel)
		}
		oneOf(v, p+".category", ch.Category, "feedback", "intel", "both")
	}
	for i, o := range v.c.Owners {
		if o.Slack != "" && !slackDestination.MatchString(o.Slack) {
			v.errf(fmt.Sprintf("owners[%d].slack", i), "want a channel ID (C…) or a user ID (U…), got %q", o.Slack)
		}
	}
}
