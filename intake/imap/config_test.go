package imap

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{Host: "imap.example.com", Username: "u", Password: "p"}
	c.Defaults()
	want := Config{Host: "imap.example.com", Port: 993, TLS: TLSImplicit, Username: "u", Password: "p",
		Folder: "INBOX", AfterIngest: AfterKeep, PollInterval: time.Minute, IdleRefresh: 9 * time.Minute,
		BatchSize: 100, MaxMessageBytes: 50 << 20}
	if c.Port != want.Port || c.TLS != want.TLS || c.Folder != want.Folder || c.AfterIngest != want.AfterIngest ||
		c.PollInterval != want.PollInterval || c.IdleRefresh != want.IdleRefresh || c.BatchSize != want.BatchSize ||
		c.MaxMessageBytes != want.MaxMessageBytes {
		t.Fatalf("defaults %+v, want %+v", c, want)
	}
	s := Config{TLS: TLSStartTLS}
	s.Defaults()
	if s.Port != 143 {
		t.Fatalf("starttls port %d, want 143", s.Port)
	}
}

func TestConfigValidate(t *testing.T) {
	base := func() Config {
		return Config{Host: "imap.example.com", Username: "feedback@example.com", Password: "pw"}
	}
	oauth := OAuth2Config{ClientID: "id", ClientSecret: "s", RefreshToken: "r", TokenURL: "https://oauth2.googleapis.com/token"}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // substring of the error; "" means valid
	}{
		{"minimal", func(*Config) {}, ""},
		{"oauth2", func(c *Config) { c.Password, c.OAuth2 = "", oauth }, ""},
		{"plaintext to loopback", func(c *Config) { c.Host, c.TLS = "127.0.0.1", TLSNone }, ""},
		{"plaintext insecure", func(c *Config) { c.TLS, c.Insecure = TLSNone, true }, ""},
		{"move", func(c *Config) { c.AfterIngest, c.MoveTo = AfterMove, "Earshot" }, ""},
		{"no host", func(c *Config) { c.Host = "" }, "imap.host is required"},
		{"bad port", func(c *Config) { c.Port = 70000 }, "imap.port"},
		{"bad tls", func(c *Config) { c.TLS = "ssl" }, `imap.tls "ssl"`},
		{"plaintext remote", func(c *Config) { c.TLS = TLSNone }, "imap.insecure"},
		{"no username", func(c *Config) { c.Username = "" }, "imap.username is required"},
		{"no auth", func(c *Config) { c.Password = "" }, "imap.password or imap.oauth2"},
		{"both auths", func(c *Config) { c.OAuth2 = oauth }, "exclusive"},
		{"oauth2 no refresh token", func(c *Config) { c.Password, c.OAuth2 = "", oauth; c.OAuth2.RefreshToken = "" }, "imap.oauth2.refresh_token"},
		{"oauth2 no client", func(c *Config) { c.Password, c.OAuth2 = "", oauth; c.OAuth2.ClientID = "" }, "imap.oauth2.client_id"},
		{"oauth2 bad url", func(c *Config) { c.Password, c.OAuth2 = "", oauth; c.OAuth2.TokenURL = "token" }, "imap.oauth2.token_url"},
		{"oauth2 http", func(c *Config) { c.Password, c.OAuth2 = "", oauth; c.OAuth2.TokenURL = "http://example.com/t" }, "must use https"},
		{"bad after_ingest", func(c *Config) { c.AfterIngest = "delete" }, "imap.after_ingest"},
		{"move without folder", func(c *Config) { c.AfterIngest = AfterMove }, "imap.move_to is required"},
		{"move to itself", func(c *Config) { c.AfterIngest, c.MoveTo = AfterMove, "inbox" }, "imap.move_to must differ"},
		{"move_to without move", func(c *Config) { c.MoveTo = "Done" }, "imap.move_to is set"},
		{"fast poll", func(c *Config) { c.PollInterval = time.Millisecond }, "imap.poll_interval"},
		{"long idle", func(c *Config) { c.IdleRefresh = 29 * time.Minute }, "imap.idle_refresh"},
		{"huge batch", func(c *Config) { c.BatchSize = 1 << 20 }, "imap.batch_size"},
		{"tiny max size", func(c *Config) { c.MaxMessageBytes = 10 }, "imap.max_message_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid config rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Config{TLS: "ssl", BatchSize: -1}
	err := c.Validate()
	for _, key := range []string{"imap.host", "imap.tls", "imap.username", "imap.password", "imap.batch_size"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}
