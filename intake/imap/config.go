package imap

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// TLS modes of Config.TLS.
const (
	TLSImplicit = "implicit" // TLS from the first byte (port 993)
	TLSStartTLS = "starttls" // plaintext greeting upgraded with STARTTLS (port 143)
	TLSNone     = "none"     // plaintext; only to loopback unless Insecure
)

// What Config.AfterIngest does with a message once it is stored.
const (
	AfterKeep = "keep" // leave it as it is
	AfterSeen = "seen" // set \Seen
	AfterMove = "move" // move it to Config.MoveTo
)

// Defaults of the optional settings.
const (
	DefaultFolder          = "INBOX"
	DefaultPollInterval    = time.Minute
	DefaultIdleRefresh     = 9 * time.Minute
	DefaultBatchSize       = 100
	DefaultMaxMessageBytes = 50 << 20
)

// Bounds that Validate enforces.
const (
	maxIdleRefresh  = 10 * time.Minute
	minInterval     = time.Second
	maxBatchSize    = 5000
	minMessageBytes = 1 << 10
)

// Config is the IMAP part of one configured mailbox.
type Config struct {
	// Host is the IMAP server name, e.g. imap.gmail.com.
	Host string `yaml:"host"`
	// Port defaults to 993 with implicit TLS and to 143 otherwise.
	Port int `yaml:"port"`
	// TLS is implicit (default), starttls or none.
	TLS string `yaml:"tls"`
	// Insecure allows tls: none, and an http oauth2 token_url, to a host
	// that is not loopback.
	Insecure bool `yaml:"insecure"`
	// Username is the login name, usually the mailbox address.
	Username string `yaml:"username"`
	// Password logs in with LOGIN; leave it empty when OAuth2 is set.
	Password string `yaml:"password"`
	// OAuth2 logs in with SASL XOAUTH2 (Gmail, Microsoft 365).
	OAuth2 OAuth2Config `yaml:"oauth2"`
	// Folder is the folder to ingest; INBOX by default.
	Folder string `yaml:"folder"`
	// AfterIngest is keep (default), seen or move.
	AfterIngest string `yaml:"after_ingest"`
	// MoveTo is the destination folder of after_ingest: move; it is
	// created when missing.
	MoveTo string `yaml:"move_to"`
	// PollInterval is how often the folder is checked when the server
	// lacks IDLE; one minute by default.
	PollInterval time.Duration `yaml:"poll_interval"`
	// NoIdle polls every PollInterval even where the server offers IDLE,
	// for servers whose IDLE misses mail.
	NoIdle bool `yaml:"no_idle"`
	// IdleRefresh is how long one IDLE command lasts before it is renewed;
	// nine minutes by default, at most ten.
	IdleRefresh time.Duration `yaml:"idle_refresh"`
	// BatchSize is the number of messages stored per transaction; 100 by
	// default.
	BatchSize int `yaml:"batch_size"`
	// MaxMessageBytes is the largest message stored whole; a larger one is
	// stored as its header only. 50 MB by default.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
}

// OAuth2Config holds the OAuth 2.0 client and refresh token used to obtain
// access tokens for SASL XOAUTH2.
type OAuth2Config struct {
	ClientID     string   `yaml:"client_id"`
	ClientSecret string   `yaml:"client_secret"`
	RefreshToken string   `yaml:"refresh_token"`
	TokenURL     string   `yaml:"token_url"`
	Scopes       []string `yaml:"scopes"`
}

// Enabled reports whether any OAuth2 setting is present.
func (o OAuth2Config) Enabled() bool {
	return o.ClientID != "" || o.ClientSecret != "" || o.RefreshToken != "" || o.TokenURL != ""
}

// Defaults fills every unset optional setting with its default.
func (c *Config) Defaults() {
	if c.TLS == "" {
		c.TLS = TLSImplicit
	}
	if c.Port == 0 {
		c.Port = 143
		if c.TLS == TLSImplicit {
			c.Port = 993
		}
	}
	if c.Folder == "" {
		c.Folder = DefaultFolder
	}
	if c.AfterIngest == "" {
		c.AfterIngest = AfterKeep
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.IdleRefresh == 0 {
		c.IdleRefresh = DefaultIdleRefresh
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
}

// Validate reports every invalid setting, naming its key (imap.host, …).
// Unset optional settings are judged by their defaults.
func (c *Config) Validate() error {
	d := *c
	d.Defaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if d.Host == "" {
		bad("imap.host is required")
	}
	if d.Port < 1 || d.Port > 65535 {
		bad("imap.port %d is not a tcp port", d.Port)
	}
	switch d.TLS {
	case TLSImplicit, TLSStartTLS:
	case TLSNone:
		if d.Host != "" && !d.Insecure && !isLoopback(d.Host) {
			bad("imap.tls none sends the password in clear to %s: use implicit or starttls, or set imap.insecure: true", d.Host)
		}
	default:
		bad("imap.tls %q must be implicit, starttls or none", d.TLS)
	}
	if d.Username == "" {
		bad("imap.username is required")
	}
	errs = append(errs, d.validateAuth()...)
	if strings.TrimSpace(d.Folder) == "" {
		bad("imap.folder must not be blank")
	}
	switch d.AfterIngest {
	case AfterKeep, AfterSeen:
		if d.MoveTo != "" {
			bad("imap.move_to is set but imap.after_ingest is %s, not move", d.AfterIngest)
		}
	case AfterMove:
		if strings.TrimSpace(d.MoveTo) == "" {
			bad("imap.move_to is required when imap.after_ingest is move")
		} else if strings.EqualFold(d.MoveTo, d.Folder) {
			bad("imap.move_to must differ from imap.folder %q", d.Folder)
		}
	default:
		bad("imap.after_ingest %q must be keep, seen or move", d.AfterIngest)
	}
	if d.PollInterval < minInterval {
		bad("imap.poll_interval %s is shorter than %s", d.PollInterval, minInterval)
	}
	if d.IdleRefresh < minInterval || d.IdleRefresh > maxIdleRefresh {
		bad("imap.idle_refresh %s must be between %s and %s", d.IdleRefresh, minInterval, maxIdleRefresh)
	}
	if d.BatchSize < 1 || d.BatchSize > maxBatchSize {
		bad("imap.batch_size %d must be between 1 and %d", d.BatchSize, maxBatchSize)
	}
	if d.MaxMessageBytes < minMessageBytes {
		bad("imap.max_message_bytes %d is smaller than %d", d.MaxMessageBytes, minMessageBytes)
	}
	return errors.Join(errs...)
}

// validateAuth checks that exactly one way to log in is configured.
func (c *Config) validateAuth() []error {
	o := c.OAuth2
	if !o.Enabled() {
		if c.Password == "" {
			return []error{errors.New("imap.password or imap.oauth2 is required")}
		}
		return nil
	}
	var errs []error
	if c.Password != "" {
		errs = append(errs, errors.New("imap.password and imap.oauth2 are exclusive: set one"))
	}
	if o.ClientID == "" {
		errs = append(errs, errors.New("imap.oauth2.client_id is required"))
	}
	if o.RefreshToken == "" {
		errs = append(errs, errors.New("imap.oauth2.refresh_token is required"))
	}
	if u, err := url.Parse(o.TokenURL); o.TokenURL == "" || err != nil || u.Host == "" ||
		(u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("imap.oauth2.token_url %q must be an http(s) url", o.TokenURL))
	} else if u.Scheme == "http" && !c.Insecure && !isLoopback(u.Hostname()) {
		errs = append(errs, fmt.Errorf("imap.oauth2.token_url %q must use https", o.TokenURL))
	}
	return errs
}

// isLoopback reports whether host names this machine: localhost or a
// loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// addr returns host:port.
func (c *Config) addr() string {
	return net.JoinHostPort(c.Host, fmt.Sprint(c.Port))
}
