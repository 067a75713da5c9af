// Package config reads Earshot's one YAML configuration file, applies
// secrets from the environment and from files, and validates the result.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/earshot-dev/earshot/routing"
)

// Config is the whole configuration of an Earshot instance.
type Config struct {
	// Database is "postgres://…" or "sqlite:PATH". Env EARSHOT_DATABASE_URL.
	Database Secret `yaml:"database"`
	// DatabaseFile holds the database URL in a mounted secret file.
	DatabaseFile string `yaml:"database_file,omitempty"`
	// TimeZone is the IANA zone months are counted in (default UTC).
	TimeZone string `yaml:"timezone"`
	// PhoneRegion reads phone numbers written without a country code, as
	// in a PBX's voicemail mail or the rep roster (default US).
	PhoneRegion string `yaml:"phone_region"`

	Log        Log        `yaml:"log"`
	HTTP       HTTP       `yaml:"http"`
	Workers    Workers    `yaml:"workers"`
	Mailboxes  []Mailbox  `yaml:"mailboxes"`
	Twilio     *Twilio    `yaml:"twilio,omitempty"`
	Slack      *Slack     `yaml:"slack,omitempty"`
	Transcribe Transcribe `yaml:"transcribe"`
	SMTP       *SMTP      `yaml:"smtp,omitempty"`
	SMS        SMS        `yaml:"sms"`

	Owners      []Owner              `yaml:"owners"`
	Competitors []routing.Competitor `yaml:"competitors"`
	Products    []routing.Product    `yaml:"products"`
	// Topics replace the default topics when set.
	Topics []routing.Topic `yaml:"topics,omitempty"`
	// SpokenForms say how a transcript spells a keyword or alias
	// ("sso": ["single sign on"]); they add to routing.DefaultSpokenForms.
	SpokenForms map[string][]string `yaml:"spoken_forms,omitempty"`
	Route       routing.Route       `yaml:"route"`

	Points Points `yaml:"points"`
	Acks   Acks   `yaml:"acks"`
	// DNS is how senders' DKIM keys and DMARC records are looked up.
	DNS    DNS    `yaml:"dns"`
	Digest Digest `yaml:"digest"`
	Web    Web    `yaml:"web"`
	// Decisions are owners' statuses on items and what reps hear of them.
	Decisions Decisions `yaml:"decisions"`
	// Webhooks are endpoints that receive item events.
	Webhooks Webhooks `yaml:"webhooks"`

	// Location is TimeZone loaded by Validate.
	Location *time.Location `yaml:"-"`
	// source is the file's text, for naming the line of a bad key.
	source []byte
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is json (default) or text.
	Format string `yaml:"format"`
}

// HTTP configures the HTTP server of the dashboard, health and webhooks.
type HTTP struct {
	// Listen is the address to listen on (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// PublicURL is the URL users and Twilio reach Earshot at, used in links
	// and to validate webhook signatures behind a proxy.
	PublicURL string `yaml:"public_url"`
	// OpsListen is an address of its own for /healthz, /readyz and
	// /metrics, which then are not on Listen (but /healthz). Without it,
	// /readyz and /metrics answer loopback clients only on Listen.
	OpsListen string `yaml:"ops_listen,omitempty"`
	// ReadHeaderTimeout is how long a client has to send a request's
	// headers (default 10s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout is how long a client has to send a whole request, body
	// included (default 30s).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout is how long a response may take (default 30s). A
	// download (audio, raw message, CSV) may take longer as long as each
	// part of it is sent within WriteTimeout.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// DownloadTimeout is how long one download may take in all (default
	// 30m).
	DownloadTimeout time.Duration `yaml:"download_timeout"`
	// IdleTimeout closes a kept-alive connection that sends no request for
	// that long (default 2m).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's headers (default 65536).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// MaxConnections caps the connections open at once (default 512).
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerClient caps the connections of one client address
	// (an IPv6 /64), as the TCP peer; web.trusted_proxies are exempt
	// (default 64).
	MaxConnectionsPerClient int `yaml:"max_connections_per_client"`
}

// Workers configures item processing.
type Workers struct {
	// Items is how many items are processed at once (default 4).
	Items int `yaml:"items"`
	// Batch is how many items a worker claims at a time (default 20).
	Batch int `yaml:"batch"`
	// MaxAttempts is how often an item is tried before quarantine (default 8).
	MaxAttempts int `yaml:"max_attempts"`
	// Lease is how long a worker's claim on an item lasts (default 5m);
	// it must outlast the transcription timeout.
	Lease time.Duration `yaml:"lease"`
	// SourceLease is how long a replica holds a mailbox or the Twilio
	// account without renewing it, so the time a dead replica's sources
	// take to move to another (default 1m).
	SourceLease time.Duration `yaml:"source_lease"`
}

// SMTP configures the mail sender for acknowledgments and notices.
type SMTP struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// TLS is implicit, starttls (default) or none (loopback only unless Insecure).
	TLS      string `yaml:"tls"`
	Insecure bool   `yaml:"insecure"`
	Username string `yaml:"username"`
	// Password; env EARSHOT_SMTP_PASSWORD.
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file,omitempty"`
	// From is the sender of notices and digests (acks come from the mailbox).
	From string `yaml:"from"`
	// Hostname is said in HELO and used for Message-IDs.
	Hostname string `yaml:"hostname"`
}

// SMS configures SMS acknowledgments through Twilio.
type SMS struct {
	Enabled bool `yaml:"enabled"`
}

// Owner receives routed items.
type Owner struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	// Digest is immediate (default), hourly or daily.
	Digest string `yaml:"digest"`
	// SLA is how long an assignment may stay untriaged before one reminder (default 24h).
	SLA time.Duration `yaml:"sla"`
	// Slack is a channel or user ID that hears of the owner's items in
	// Slack too (needs the slack section).
	Slack string `yaml:"slack,omitempty"`
}

// Points configures the incentive rules.
type Points struct {
	// Categories gives points per category (default intel 3, feedback 1).
	Categories map[string]int `yaml:"categories"`
	// Channels adds points per channel (email, voicemail).
	Channels map[string]int `yaml:"channels,omitempty"`
	// FirstIntelBonus is added to a rep's first intel of the month.
	FirstIntelBonus int `yaml:"first_intel_bonus"`
	// NewCompetitorBonus is added when a competitor was not reported in the last 30 days.
	NewCompetitorBonus int `yaml:"new_competitor_bonus"`
	// Goals are monthly targets shown in acks.
	Goals []Goal `yaml:"goals,omitempty"`
}

// Goal is a monthly target, e.g. one competitive nugget.
type Goal struct {
	Name     string `yaml:"name"`
	Category string `yaml:"category"`
	Count    int    `yaml:"count"`
}

// Acks configures acknowledgments to reps.
type Acks struct {
	Enabled bool `yaml:"enabled"`
	// DailyCap is how many acks one recipient gets per day (default 20).
	// Addresses are counted folded: case, and +tags (see PlusDomains).
	DailyCap int `yaml:"daily_cap"`
	// HourlyCap bounds all acks together per hour, a brake on any flood
	// (default 1000).
	HourlyCap int `yaml:"hourly_cap"`
	// DomainDailyCap bounds the acks per day to one domain of senders
	// outside the roster (colleague domains, mailboxes open to anyone)
	// (default 100).
	DomainDailyCap int `yaml:"domain_daily_cap"`
	// PlusDomains are the domains whose addresses take +tags
	// (name+tag@domain is name@domain); "*" (the default) means every one.
	PlusDomains []string `yaml:"plus_domains,omitempty"`
	// TemplateDir overrides the embedded templates file by file.
	TemplateDir string `yaml:"template_dir,omitempty"`
}

// DNS configures the lookups that verify senders.
type DNS struct {
	// Resolver is a DNS server (host:port) to ask instead of the system's.
	Resolver string `yaml:"resolver,omitempty"`
	// Timeout bounds one lookup (default 3s).
	Timeout time.Duration `yaml:"timeout"`
}

// Digest configures the monthly manager digest.
type Digest struct {
	// Managers receive last month's leaderboard and notable intel on the
	// first day of each month; nobody when empty.
	Managers []string `yaml:"managers,omitempty"`
}

// Web configures the dashboard's users.
type Web struct {
	Users []User `yaml:"users"`
	// TrustedHeader names a header set by an SSO proxy that carries the user.
	TrustedHeader string `yaml:"trusted_header,omitempty"`
	// TrustedProxies are the addresses allowed to set TrustedHeader.
	TrustedProxies []string `yaml:"trusted_proxies,omitempty"`
}

// User is a dashboard login.
type User struct {
	Name string `yaml:"name"`
	// PasswordHash is a bcrypt hash from `earshot hash-password`.
	PasswordHash Secret `yaml:"password_hash"`
}

// Load reads, decodes, completes and validates the file at path.
// Environment variables (see Env) override secrets.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, os.LookupEnv)
}

// Parse decodes data as YAML, rejecting unknown keys, applies secrets from
// lookup (os.LookupEnv in production) and secret files, fills defaults and
// validates.
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	var c Config
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("config is empty")
	}
	if err := yaml.UnmarshalWithOptions(data, &c, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("config: %s", oneLine(yaml.FormatError(err, false, false)))
	}
	c.source = data
	if err := c.applySecrets(lookup); err != nil {
		return nil, err
	}
	c.defaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// line returns the line of the key at path ("$.mailboxes[0].imap.host"),
// or of its nearest parent that exists, or 0.
func (c *Config) line(path string) int {
	if len(c.source) == 0 {
		return 0
	}
	f, err := parser.ParseBytes(c.source, 0)
	if err != nil {
		return 0
	}
	for p := path; p != "" && p != "$"; p = parent(p) {
		yp, err := yaml.PathString(p)
		if err != nil {
			continue
		}
		n, err := yp.FilterFile(f)
		if err == nil && n != nil && n.GetToken() != nil {
			return n.GetToken().Position.Line
		}
	}
	return 0
}

var position = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*`)

// oneLine turns go-yaml's "[3:1] unknown field" into "line 3: unknown field".
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return position.ReplaceAllString(s, "line $1: ")
}

func parent(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '.' || p[i] == '[' {
			return p[:i]
		}
	}
	return ""
}
