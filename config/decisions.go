package config

import (
	"encoding/base64"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Decisions configures owners' decisions on items and what the rep hears
// of them.
type Decisions struct {
	// ReplyTo is an address of an intake mailbox. When set, an owner
	// notice's Reply-To is this address with a +token, so that an owner's
	// reply ("shipped: in 4.2") reaches Earshot and sets the item's status.
	ReplyTo string `yaml:"reply_to,omitempty"`
	// Notify lists the statuses the rep hears about (default planned,
	// shipped, declined); [] for none.
	Notify []string `yaml:"notify"`
	// Points are quality bonuses per status (e.g. planned 5, shipped 10),
	// paid once per item and status.
	Points map[string]int `yaml:"points,omitempty"`
	// RepLinkTTL is how long the link to a rep's own page in an ack opens
	// (default 2160h, 90 days).
	RepLinkTTL time.Duration `yaml:"rep_link_ttl"`
}

// Webhooks configures the endpoints that receive item events.
type Webhooks struct {
	// MaxAttempts is how often a delivery is tried before it is a dead
	// letter on the outbox page (default 8).
	MaxAttempts int `yaml:"max_attempts"`
	// Timeout bounds one delivery (default 10s).
	Timeout   time.Duration `yaml:"timeout"`
	Endpoints []Webhook     `yaml:"endpoints,omitempty"`
}

// Webhook is one endpoint.
type Webhook struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Secret signs deliveries per Standard Webhooks: "whsec_" and the
	// base64 key. Env EARSHOT_WEBHOOK_<NAME>_SECRET.
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file,omitempty"`
	// Events are item.processed and item.status_changed (default both).
	Events []string `yaml:"events,omitempty"`
}

// The webhook events.
const (
	EventItemProcessed     = "item.processed"
	EventItemStatusChanged = "item.status_changed"
)

// Wants reports whether the endpoint receives event.
func (w Webhook) Wants(event string) bool { return slices.Contains(w.Events, event) }

// Key decodes the endpoint's signing key.
func (w Webhook) Key() ([]byte, error) {
	s, ok := strings.CutPrefix(w.Secret.Value(), "whsec_")
	if !ok {
		return nil, fmt.Errorf("the secret must start with whsec_")
	}
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) < 16 {
		return nil, fmt.Errorf("the secret after whsec_ must be at least 16 bytes in base64")
	}
	return k, nil
}

// decisionStatuses are the statuses an owner decides.
var decisionStatuses = []string{"triaged", "planned", "shipped", "declined", "duplicate"}

func (c *Config) decisionDefaults() {
	if c.Decisions.Notify == nil {
		c.Decisions.Notify = []string{"planned", "shipped", "declined"}
	}
	if c.Decisions.RepLinkTTL == 0 {
		c.Decisions.RepLinkTTL = 90 * 24 * time.Hour
	}
	if c.Webhooks.MaxAttempts == 0 {
		c.Webhooks.MaxAttempts = 8
	}
	if c.Webhooks.Timeout == 0 {
		c.Webhooks.Timeout = 10 * time.Second
	}
	for i := range c.Webhooks.Endpoints {
		if len(c.Webhooks.Endpoints[i].Events) == 0 {
			c.Webhooks.Endpoints[i].Events = []string{EventItemProcessed, EventItemStatusChanged}
		}
	}
}

func (v *validator) decisions() {
	d := v.c.Decisions
	if d.ReplyTo != "" {
		if a, err := mail.ParseAddress(d.ReplyTo); err != nil || a.Name != "" || strings.Contains(a.Address, "+") {
			v.errf("decisions.reply_to", "want a plain address of an intake mailbox, like decisions@example.com (without a +tag)")
		} else if v.c.SMTP == nil {
			v.warnf("decisions.reply_to", "owner notices go out only with smtp configured")
		}
	}
	for _, s := range d.Notify {
		if !slices.Contains(decisionStatuses, s) {
			v.errf("decisions.notify", "unknown status %q: want some of %s", s, strings.Join(decisionStatuses, ", "))
		}
	}
	for s, n := range d.Points {
		if !slices.Contains(decisionStatuses, s) {
			v.errf("decisions.points", "unknown status %q: want some of %s", s, strings.Join(decisionStatuses, ", "))
		}
		if n < 0 || n > 1000 {
			v.errf("decisions.points."+s, "want 0 to 1000 points")
		}
	}
	if d.RepLinkTTL < time.Hour {
		v.errf("decisions.rep_link_ttl", "must be at least 1h")
	}
	w := v.c.Webhooks
	if w.MaxAttempts < 1 || w.MaxAttempts > 50 {
		v.errf("webhooks.max_attempts", "want 1 to 50")
	}
	seen := map[string]bool{}
	for i, e := range w.Endpoints {
		p := fmt.Sprintf("webhooks.endpoints[%d]", i)
		if e.Name == "" || seen[e.Name] {
			v.errf(p+".name", "each endpoint needs a unique name")
		}
		seen[e.Name] = true
		v.absURL(p+".url", e.URL)
		if _, err := e.Key(); err != nil {
			v.errf(p+".secret", "%v (earshot webhook-secret makes one)", err)
		}
		for _, ev := range e.Events {
			if ev != EventItemProcessed && ev != EventItemStatusChanged {
				v.errf(p+".events", "unknown event %q: want item.processed or item.status_changed", ev)
			}
		}
	}
}
