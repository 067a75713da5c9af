// Package voicemail is the Twilio source: it lists the account's
// recordings, looks up each call for the caller's number, downloads the
// audio and hands it to the store raw-first, and serves Twilio's webhooks
// (the signed recording-status callback and the TwiML that records a
// voicemail).
package voicemail

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// Kind is the store's source kind of Twilio sources.
const Kind = "twilio"

// Config is what the Twilio source needs.
type Config struct {
	// AccountSID is AC followed by 32 hex digits.
	AccountSID string
	// AuthToken signs webhooks and authenticates API calls.
	AuthToken string
	// APIURL replaces https://api.twilio.com (a proxy, a test server).
	APIURL string
	// PhoneNumber is the E.164 number SMS are sent from.
	PhoneNumber string
	// PollInterval is the pause between listings (default 1m).
	PollInterval time.Duration
	// MediaFormat is wav (default) or mp3.
	MediaFormat string
	// DeleteAfterIngest deletes each recording at Twilio once stored.
	DeleteAfterIngest bool
	// PublicURL is where Twilio reaches Earshot (http.public_url),
	// including any path prefix a proxy strips; webhook signatures are
	// checked against it. Without it the URL is rebuilt from the request,
	// which fails behind a proxy that changes scheme, host or path.
	PublicURL string
	// Greeting is said before the beep by /twilio/voice.
	Greeting string
	// MaxRecordingLength caps a voicemail recorded by /twilio/voice
	// (default 5m).
	MaxRecordingLength time.Duration
	// Transcribe asks Twilio to transcribe what /twilio/voice records (for
	// the twilio transcription engine).
	Transcribe bool
}

// FromConfig takes the source's settings from the configuration file.
func FromConfig(c *config.Config) Config {
	out := Config{PublicURL: c.HTTP.PublicURL, Transcribe: c.Transcribe.Engine == "twilio"}
	if t := c.Twilio; t != nil {
		out.AccountSID, out.AuthToken, out.APIURL, out.PhoneNumber = t.AccountSID, t.AuthToken.Value(), t.APIURL, t.PhoneNumber
		out.PollInterval, out.MediaFormat, out.DeleteAfterIngest = t.PollInterval, t.MediaFormat, t.DeleteAfterIngest
		out.Greeting, out.MaxRecordingLength = t.Greeting, t.MaxRecordingLength
	}
	return out
}

// DefaultGreeting is said when Config.Greeting is empty.
const DefaultGreeting = "Thanks for calling Earshot. After the beep, tell us what you heard from the customer or the competition. Hang up when you are done."

// Defaults fills the zero fields.
func (c *Config) Defaults() {
	if c.PollInterval == 0 {
		c.PollInterval = time.Minute
	}
	if c.MediaFormat == "" {
		c.MediaFormat = "wav"
	}
	if c.Greeting == "" {
		c.Greeting = DefaultGreeting
	}
	if c.MaxRecordingLength == 0 {
		c.MaxRecordingLength = 5 * time.Minute
	}
}

var (
	accountSID   = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	recordingSID = regexp.MustCompile(`^RE[0-9a-fA-F]{32}$`)
	alphanumeric = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
)

// Validate names the first bad setting.
func (c *Config) Validate() error {
	var errs []error
	if !accountSID.MatchString(c.AccountSID) {
		errs = append(errs, errors.New("account sid: want AC followed by 32 hex digits"))
	}
	if !alphanumeric.MatchString(c.AuthToken) {
		// twilio-go refuses other characters before sending anything.
		errs = append(errs, errors.New("auth token: required, letters and digits only"))
	}
	for name, raw := range map[string]string{"api url": c.APIURL, "public url": c.PublicURL} {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: want an absolute http(s) URL, got %q", name, raw))
		}
	}
	if c.MediaFormat != "wav" && c.MediaFormat != "mp3" {
		errs = append(errs, fmt.Errorf("media format: want wav or mp3, got %q", c.MediaFormat))
	}
	if c.PollInterval < time.Second {
		errs = append(errs, errors.New("poll interval: must be at least 1s"))
	}
	if c.MaxRecordingLength < time.Second || c.MaxRecordingLength > 4*time.Hour {
		errs = append(errs, errors.New("max recording length: must be between 1s and 4h"))
	}
	return errors.Join(errs...)
}

// publicBase is PublicURL without a trailing slash.
func (c *Config) publicBase() string { return strings.TrimRight(c.PublicURL, "/") }
