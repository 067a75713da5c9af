// Package slack is the Slack source: one app reads the configured
// channels through Socket Mode (the default) or the Events API, and every
// channel catches up from its stored cursor through conversations.history
// and conversations.replies on start, after any gap in the event stream
// and every poll interval. Every message reaches the store raw first, its
// event's JSON keyed by (team, channel, ts), so that a redelivery, a
// replay or a catch-up of it is one item; an edit within the edit window
// is kept as a new revision, a deletion is marked, and a rep's reply under
// their own post is kept as its context. The app also posts what Earshot
// sends in Slack (acks in the thread, owners' notices), looks up users and
// downloads files.
package slack

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// Kind is the store's source kind of Slack sources.
const Kind = "slack"

// AppSource is the store's name of the app's Socket Mode connection.
const AppSource = "slack"

// Config is what the Slack source needs.
type Config struct {
	BotToken, AppToken, SigningSecret string
	// Mode is socket or events.
	Mode string
	// APIURL replaces https://slack.com/api/ (a test server); it ends in /.
	APIURL         string
	PollInterval   time.Duration
	Backfill       time.Duration
	ThreadLookback time.Duration
	EditWindow     time.Duration
	// ThreadReplies is context or items.
	ThreadReplies string
	MaxFileBytes  int64
	// Reaction is the emoji added at once to a stored message; "" or
	// none for no reaction.
	Reaction string
	Channels []Channel
}

// Channel is one configured channel.
type Channel struct {
	// Name is the source's name; Channel the ID or #name; Category
	// feedback, intel or both.
	Name, Channel, Category string
}

// FromConfig takes the source's settings from the configuration file.
func FromConfig(c *config.Config) Config {
	s := c.Slack
	if s == nil {
		return Config{}
	}
	out := Config{BotToken: s.BotToken.Value(), AppToken: s.AppToken.Value(), SigningSecret: s.SigningSecret.Value(),
		Mode: s.Mode, APIURL: s.APIURL, PollInterval: s.PollInterval, Backfill: s.Backfill,
		ThreadLookback: s.ThreadLookback, EditWindow: s.EditWindow, ThreadReplies: s.ThreadReplies,
		MaxFileBytes: s.MaxFileBytes, Reaction: s.Ack.Reaction}
	for _, ch := range s.Channels {
		out.Channels = append(out.Channels, Channel{Name: ch.Name, Channel: ch.Channel, Category: ch.Category})
	}
	return out
}

// Defaults fills the zero fields.
func (c *Config) Defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Mode == "" {
		c.Mode = "socket"
	}
	def(&c.PollInterval, 10*time.Minute)
	def(&c.Backfill, 24*time.Hour)
	def(&c.ThreadLookback, 24*time.Hour)
	def(&c.EditWindow, time.Hour)
	if c.ThreadReplies == "" {
		c.ThreadReplies = "context"
	}
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = 25 << 20
	}
	if c.Reaction == "none" {
		c.Reaction = ""
	}
	if c.APIURL != "" && c.APIURL[len(c.APIURL)-1] != '/' {
		c.APIURL += "/"
	}
}

// Validate names the first bad setting.
func (c *Config) Validate() error {
	var errs []error
	if c.BotToken == "" {
		errs = append(errs, errors.New("bot token: required"))
	}
	if c.Mode == "socket" && c.AppToken == "" {
		errs = append(errs, errors.New("app token: required in socket mode"))
	}
	if c.Mode == "events" && c.SigningSecret == "" {
		errs = append(errs, errors.New("signing secret: required for the events API"))
	}
	if c.APIURL != "" {
		if u, err := url.Parse(c.APIURL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("api url %q: want an absolute URL", c.APIURL))
		}
	}
	if len(c.Channels) == 0 {
		errs = append(errs, errors.New("channels: none configured"))
	}
	return errors.Join(errs...)
}
