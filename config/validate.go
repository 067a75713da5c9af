package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/routing"
)

// Problem is one thing wrong (or doubtful) in the configuration.
type Problem struct {
	// Path names the key, like "mailboxes[1].imap.port".
	Path string
	// Line is the line of the key (or its nearest parent) in the file, 0 if unknown.
	Line    int
	Message string
	Warning bool
}

func (p Problem) String() string {
	s := p.Path + ": " + p.Message
	if p.Line > 0 {
		s = fmt.Sprintf("line %d: %s", p.Line, s)
	}
	if p.Warning {
		s += " (warning)"
	}
	return s
}

// ValidationError lists every error found in a configuration.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid config: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

type validator struct {
	c        *Config
	problems []Problem
}

func (v *validator) errf(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Line: v.c.line("$." + path), Message: fmt.Sprintf(format, args...)})
}

func (v *validator) warnf(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Line: v.c.line("$." + path), Message: fmt.Sprintf(format, args...), Warning: true})
}

// Warnings returns the doubtful but accepted parts of a valid config.
func (c *Config) Warnings() []Problem {
	v := c.check()
	var out []Problem
	for _, p := range v.problems {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks the configuration and names every bad key and why.
func (c *Config) Validate() error {
	v := c.check()
	var errs []Problem
	for _, p := range v.problems {
		if !p.Warning {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Problems: errs}
	}
	return nil
}

var (
	twilioSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	e164      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	alnum     = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

func (c *Config) check() *validator {
	v := &validator{c: c}
	v.database()
	if loc, err := time.LoadLocation(c.TimeZone); err != nil {
		v.errf("timezone", "unknown time zone %q", c.TimeZone)
	} else {
		c.Location = loc
	}
	oneOf(v, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf(v, "log.format", c.Log.Format, "json", "text")
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		v.errf("http.listen", "want host:port: %v", err)
	}
	if c.HTTP.PublicURL != "" {
		v.absURL("http.public_url", c.HTTP.PublicURL)
	}
	v.httpLimits()
	if c.Workers.Items < 1 || c.Workers.Batch < 1 || c.Workers.MaxAttempts < 1 {
		v.errf("workers", "items, batch and max_attempts must be at least 1")
	}
	if c.Workers.Lease < 10*time.Second {
		v.errf("workers.lease", "must be at least 10s")
	}
	if c.Workers.SourceLease < 10*time.Second {
		v.errf("workers.source_lease", "must be at least 10s")
	}
	if c.Transcribe.Engine != "none" && c.Transcribe.Timeout >= c.Workers.Lease {
		v.errf("transcribe.timeout", "must be shorter than workers.lease (%s): a claim must outlast a transcription", c.Workers.Lease)
	}
	if len(c.PhoneRegion) != 2 {
		v.errf("phone_region", "want a two-letter region code like US or GB")
	}
	v.mailboxes()
	v.twilio()
	v.slack()
	v.transcribe()
	v.smtp()
	owners := v.owners()
	v.routing(owners)
	v.points()
	v.decisions()
	if c.Acks.DailyCap < 0 {
		v.errf("acks.daily_cap", "must not be negative")
	}
	if c.DNS.Resolver != "" {
		if _, _, err := net.SplitHostPort(c.DNS.Resolver); err != nil {
			v.errf("dns.resolver", "want host:port: %v", err)
		}
	}
	if c.DNS.Timeout < 100*time.Millisecond || c.DNS.Timeout > time.Minute {
		v.errf("dns.timeout", "must be between 100ms and 1m")
	}
	if c.Acks.HourlyCap < 0 {
		v.errf("acks.hourly_cap", "must not be negative")
	}
	if c.Acks.DomainDailyCap < 0 {
		v.errf("acks.domain_daily_cap", "must not be negative")
	}
	if c.Acks.Enabled && c.SMTP == nil && !c.SMS.Enabled && c.Slack == nil {
		v.warnf("acks.enabled", "acks are enabled but neither smtp nor sms is configured")
	}
	if c.SMS.Enabled && c.Twilio == nil {
		v.errf("sms.enabled", "sms needs the twilio section")
	}
	for i, m := range c.Digest.Managers {
		if _, err := mail.ParseAddress(m); err != nil {
			v.errf(fmt.Sprintf("digest.managers[%d]", i), "want a mail address: %v", err)
		}
	}
	for i, u := range c.Web.Users {
		p := fmt.Sprintf("web.users[%d]", i)
		if u.Name == "" {
			v.errf(p+".name", "required")
		}
		if !strings.HasPrefix(u.PasswordHash.Value(), "$2") {
			v.errf(p+".password_hash", "want a bcrypt hash from `earshot hash-password`")
		}
	}
	for i, a := range c.Web.TrustedProxies {
		if net.ParseIP(a) == nil {
			if _, _, err := net.ParseCIDR(a); err != nil {
				v.errf(fmt.Sprintf("web.trusted_proxies[%d]", i), "want an IP address or CIDR, got %q", a)
			}
		}
	}
	if c.Web.TrustedHeader != "" && len(c.Web.TrustedProxies) == 0 {
		v.errf("web.trusted_header", "needs web.trusted_proxies: the header is accepted only from them")
	}
	return v
}

func (v *validator) database() {
	d := v.c.Database.Value()
	switch {
	case d == "":
		v.errf("database", "required (postgres://… or sqlite:PATH), or set EARSHOT_DATABASE_URL")
	case strings.HasPrefix(d, "postgres://"), strings.HasPrefix(d, "postgresql://"):
		u, err := url.Parse(d)
		if err != nil {
			v.errf("database", "bad postgres url: %v", redactErr(err))
		} else if u.Host == "" {
			v.errf("database", "postgres url has no host")
		}
	case strings.HasPrefix(d, "sqlite:"):
		if strings.TrimPrefix(d, "sqlite:") == "" {
			v.errf("database", "sqlite: needs a file path, e.g. sqlite:earshot.db")
		}
	default:
		v.errf("database", "must start with postgres://, postgresql:// or sqlite:")
	}
}

// redactErr keeps a URL parse error from echoing a password.
func redactErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

func (v *validator) absURL(path, s string) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		v.errf(path, "want an absolute URL, got %q", s)
	}
}

func oneOf(v *validator, path, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.errf(path, "must be one of %s, got %q", strings.Join(allowed, ", "), val)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *validator) mailboxes() {
	names := map[string]bool{}
	for i, m := range v.c.Mailboxes {
		p := fmt.Sprintf("mailboxes[%d]", i)
		if m.Name == "" {
			v.errf(p+".name", "required")
		} else if names[m.Name] {
			v.errf(p+".name", "duplicate mailbox name %q", m.Name)
		}
		names[m.Name] = true
		if _, err := mail.ParseAddress(m.Address); err != nil {
			v.errf(p+".address", "want a mail address: %v", err)
		}
		oneOf(v, p+".category", m.Category, "feedback", "intel")
		im := m.IMAP
		if im.Host == "" {
			v.errf(p+".imap.host", "required")
		}
		if im.Port < 1 || im.Port > 65535 {
			v.errf(p+".imap.port", "must be 1-65535, got %d", im.Port)
		}
		oneOf(v, p+".imap.tls", im.TLS, "implicit", "starttls", "none")
		if im.TLS == "none" && !im.Insecure && !isLoopback(im.Host) {
			v.errf(p+".imap.tls", "plaintext IMAP to %s sends the password in clear: use implicit or starttls, or set insecure: true", im.Host)
		}
		if im.Username == "" {
			v.errf(p+".imap.username", "required")
		}
		if im.OAuth2 != nil {
			o := im.OAuth2
			if o.ClientID == "" || o.RefreshToken == "" || o.TokenURL == "" {
				v.errf(p+".imap.oauth2", "client_id, refresh_token and token_url are required")
			} else {
				v.absURL(p+".imap.oauth2.token_url", o.TokenURL)
			}
			if im.Password != "" {
				v.warnf(p+".imap.password", "ignored: oauth2 is used")
			}
		} else if im.Password == "" {
			v.errf(p+".imap.password", "required (or oauth2), or set EARSHOT_MAILBOX_%s_PASSWORD", envName(m.Name))
		}
		oneOf(v, p+".imap.after_ingest", im.AfterIngest, "keep", "seen", "move")
		if im.AfterIngest == "move" && im.MoveTo == "" {
			v.errf(p+".imap.move_to", "required with after_ingest: move")
		}
		if im.AfterIngest == "move" && im.MoveTo == im.Folder {
			v.errf(p+".imap.move_to", "must differ from folder %q", im.Folder)
		}
		if im.IdleRefresh < time.Minute || im.IdleRefresh > 10*time.Minute {
			v.errf(p+".imap.idle_refresh", "must be between 1m and 10m (servers drop idle clients after about 10 minutes)")
		}
		if im.PollInterval < time.Second {
			v.errf(p+".imap.poll_interval", "must be at least 1s")
		}
		if im.BatchSize < 1 || im.BatchSize > 5000 {
			v.errf(p+".imap.batch_size", "must be 1-5000")
		}
		if im.MaxMessageBytes < 64<<10 {
			v.errf(p+".imap.max_message_bytes", "must be at least 65536")
		}
		v.contributors(p+".contributors", m.Contributors)
	}
}

func (v *validator) contributors(p string, c Contributors) {
	oneOf(v, p+".accept", c.Accept, "roster", "domains", "anyone")
	oneOf(v, p+".require", c.Require, "dmarc", "dkim", "none")
	if c.Accept == "domains" && len(c.Domains) == 0 {
		v.errf(p+".domains", "required with accept: domains")
	}
	for i, d := range c.Domains {
		if d = strings.TrimSpace(d); d == "" || strings.ContainsAny(d, "@ ") || !strings.Contains(d, ".") {
			v.errf(fmt.Sprintf("%s.domains[%d]", p, i), "want a mail domain like example.com, got %q", c.Domains[i])
		}
	}
	if c.HourlyCap < 0 {
		v.errf(p+".hourly_cap", "must not be negative")
	}
	for i, a := range c.PBX {
		if _, err := mail.ParseAddress(a); err != nil {
			v.errf(fmt.Sprintf("%s.pbx[%d]", p, i), "want a mail address: %v", err)
		}
	}
	if c.Accept == "anyone" {
		v.warnf(p+".accept", "anyone who writes to this mailbox gets an ack (at most %d an hour)", c.HourlyCap)
	}
	if c.Require == "none" {
		v.warnf(p+".require", "anyone who writes from a rep's address earns that rep's points")
	}
}

func (v *validator) twilio() {
	t := v.c.Twilio
	if t == nil {
		return
	}
	if !twilioSID.MatchString(t.AccountSID) {
		v.errf("twilio.account_sid", "want AC followed by 32 hex digits")
	}
	if t.AuthToken == "" {
		v.errf("twilio.auth_token", "required, or set EARSHOT_TWILIO_AUTH_TOKEN")
	}
	if t.APIURL != "" {
		v.absURL("twilio.api_url", t.APIURL)
	}
	oneOf(v, "twilio.media_format", t.MediaFormat, "wav", "mp3")
	if t.PollInterval < 10*time.Second {
		v.errf("twilio.poll_interval", "must be at least 10s")
	}
	if t.PhoneNumber != "" && !e164.MatchString(t.PhoneNumber) {
		v.errf("twilio.phone_number", "want E.164, like +14155550100")
	}
	if tok := t.AuthToken.Value(); tok != "" && !alnum.MatchString(tok) {
		v.errf("twilio.auth_token", "must be letters and digits only, as Twilio's tokens are")
	}
	if t.MaxRecordingLength < time.Second || t.MaxRecordingLength > 4*time.Hour {
		v.errf("twilio.max_recording_length", "must be between 1s and 4h")
	}
	oneOf(v, "twilio.attestation", t.Attestation, "A", "B", "C", "none")
	if t.Attestation == "none" {
		v.warnf("twilio.attestation", "a spoofed caller number earns that rep's points")
	}
	if v.c.HTTP.PublicURL == "" {
		v.warnf("twilio", "without http.public_url Twilio's webhooks cannot be verified or pointed at earshot")
	}
	if v.c.Transcribe.Engine == "twilio" && t.MaxRecordingLength > 2*time.Minute {
		v.warnf("twilio.max_recording_length", "Twilio transcribes at most 2 minutes of a recording")
	}
}

func (v *validator) transcribe() {
	t := v.c.Transcribe
	oneOf(v, "transcribe.engine", t.Engine, "none", "openai", "whisper", "twilio", "command")
	switch t.Engine {
	case "openai":
		if t.OpenAI.BaseURL == "" {
			v.errf("transcribe.openai.base_url", "required for engine openai")
		} else {
			v.absURL("transcribe.openai.base_url", t.OpenAI.BaseURL)
		}
		if t.OpenAI.Model == "" {
			v.errf("transcribe.openai.model", "required for engine openai")
		}
	case "whisper":
		w := t.Whisper
		if w.BaseURL != "" {
			v.absURL("transcribe.whisper.base_url", w.BaseURL)
			if w.Model != "" || w.Server != "" || len(w.Args) > 0 || w.Threads != 0 {
				v.warnf("transcribe.whisper.base_url", "server, model, threads and args are ignored: the server at base_url is used")
			}
		} else if w.Model == "" {
			v.errf("transcribe.whisper.model", "required to run whisper-server (scripts/whisper install fetches one), or set base_url")
		}
		if w.Threads < 0 || w.Threads > 64 {
			v.errf("transcribe.whisper.threads", "must be 0 (default) to 64")
		}
		if w.StartTimeout < time.Second {
			v.errf("transcribe.whisper.start_timeout", "must be at least 1s")
		}
	case "twilio":
		if v.c.Twilio == nil {
			v.errf("transcribe.engine", "engine twilio needs the twilio section")
		}
	case "command":
		if len(t.Command.Argv) == 0 {
			v.errf("transcribe.command.argv", "required for engine command")
		} else if !strings.Contains(strings.Join(t.Command.Argv, " "), "{audio}") {
			v.errf("transcribe.command.argv", "must contain {audio}, where the audio file goes")
		}
		if r := t.Command.SampleRate; r != 0 && (r < 4000 || r > 192000) {
			v.errf("transcribe.command.sample_rate", "must be 0 (no resampling) or 4000-192000")
		}
		if r := t.Command.ModelRate; r != 0 && (r < 4000 || r > 192000) {
			v.errf("transcribe.command.model_rate", "must be 0 (the sample rate) or 4000-192000")
		}
	}
	oneOf(v, "transcribe.openai.response_format", t.OpenAI.ResponseFormat, "json", "verbose_json")
	if t.Twilio.Wait < time.Minute {
		v.errf("transcribe.twilio.wait", "must be at least 1m")
	}
	if t.Timeout < time.Second {
		v.errf("transcribe.timeout", "must be at least 1s")
	}
}

func (v *validator) smtp() {
	s := v.c.SMTP
	if s == nil {
		return
	}
	if s.Host == "" {
		v.errf("smtp.host", "required")
	}
	if s.Port < 1 || s.Port > 65535 {
		v.errf("smtp.port", "must be 1-65535, got %d", s.Port)
	}
	oneOf(v, "smtp.tls", s.TLS, "implicit", "starttls", "none")
	if s.TLS == "none" && !s.Insecure && !isLoopback(s.Host) {
		v.errf("smtp.tls", "plaintext SMTP to %s: use implicit or starttls, or set insecure: true", s.Host)
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		v.errf("smtp.from", "want a mail address: %v", err)
	}
}

func (v *validator) owners() []string {
	var names []string
	seen := map[string]bool{}
	for i, o := range v.c.Owners {
		p := fmt.Sprintf("owners[%d]", i)
		if o.Name == "" {
			v.errf(p+".name", "required")
		} else if seen[o.Name] {
			v.errf(p+".name", "duplicate owner %q", o.Name)
		}
		seen[o.Name] = true
		names = append(names, o.Name)
		if _, err := mail.ParseAddress(o.Email); err != nil {
			v.errf(p+".email", "want a mail address: %v", err)
		}
		oneOf(v, p+".digest", o.Digest, "immediate", "hourly", "daily")
		if o.SLA < time.Minute {
			v.errf(p+".sla", "must be at least 1m")
		}
	}
	return names
}

func (v *validator) routing(owners []string) {
	c := v.c
	add := func(ps []routing.Problem) {
		for _, p := range ps {
			if p.Warning {
				v.warnf(p.Path, "%s", p.Message)
			} else {
				v.errf(p.Path, "%s", p.Message)
			}
		}
	}
	add(routing.Check(c.Competitors, c.Products, c.Topics))
	topics := c.Topics
	if len(topics) == 0 {
		topics = routing.DefaultTopics()
	}
	add(routing.CheckSpokenForms(c.SpokenForms, c.Competitors, c.Products, topics))
	if len(c.Owners) > 0 || c.Route.Owner != "" || len(c.Route.Routes) > 0 {
		_, ps, _ := routing.NewTree(c.Route, owners)
		add(ps)
	}
	if _, err := routing.NewTagger(c.Competitors, c.Products, c.Topics, routing.WithSpokenForms(c.SpokenForms)); err != nil {
		v.errf("competitors", "%v", err)
	}
}

func (v *validator) points() {
	for k, n := range v.c.Points.Categories {
		if k != "feedback" && k != "intel" {
			v.errf("points.categories."+k, "unknown category (feedback or intel)")
		}
		if n < 0 {
			v.errf("points.categories."+k, "must not be negative")
		}
	}
	for k := range v.c.Points.Channels {
		if k != "email" && k != "voicemail" && k != "slack" {
			v.errf("points.channels."+k, "unknown channel (email, voicemail or slack)")
		}
	}
	for i, g := range v.c.Points.Goals {
		p := fmt.Sprintf("points.goals[%d]", i)
		if g.Name == "" {
			v.errf(p+".name", "required")
		}
		if g.Category != "" && g.Category != "feedback" && g.Category != "intel" {
			v.errf(p+".category", "feedback, intel or empty for any")
		}
		if g.Count < 1 {
			v.errf(p+".count", "must be at least 1")
		}
	}
}
