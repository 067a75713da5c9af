package config

import (
	"fmt"
	"os"
	"strings"
)

// Secret is a string that never prints: check-config and logs show ***.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// MarshalYAML hides the value when the configuration is printed.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// Value returns the secret itself, for the code that uses it.
func (s Secret) Value() string { return string(s) }

// secretRef is one secret: where it sits in the file, its environment
// variable and its optional file key.
type secretRef struct {
	path string
	env  string
	val  *Secret
	file *string
}

// secrets lists every secret of the configuration.
func (c *Config) secrets() []secretRef {
	refs := []secretRef{{"database", "EARSHOT_DATABASE_URL", &c.Database, &c.DatabaseFile}}
	for i := range c.Mailboxes {
		m := &c.Mailboxes[i]
		env := "EARSHOT_MAILBOX_" + envName(m.Name) + "_"
		p := fmt.Sprintf("mailboxes[%d].imap.", i)
		refs = append(refs, secretRef{p + "password", env + "PASSWORD", &m.IMAP.Password, &m.IMAP.PasswordFile})
		if o := m.IMAP.OAuth2; o != nil {
			refs = append(refs,
				secretRef{p + "oauth2.client_secret", env + "CLIENT_SECRET", &o.ClientSecret, nil},
				secretRef{p + "oauth2.refresh_token", env + "REFRESH_TOKEN", &o.RefreshToken, nil})
		}
	}
	if c.Twilio != nil {
		refs = append(refs, secretRef{"twilio.auth_token", "EARSHOT_TWILIO_AUTH_TOKEN", &c.Twilio.AuthToken, &c.Twilio.AuthTokenFile})
	}
	if c.SMTP != nil {
		refs = append(refs, secretRef{"smtp.password", "EARSHOT_SMTP_PASSWORD", &c.SMTP.Password, &c.SMTP.PasswordFile})
	}
	refs = append(refs, c.slackSecrets()...)
	for i := range c.Webhooks.Endpoints {
		w := &c.Webhooks.Endpoints[i]
		refs = append(refs, secretRef{fmt.Sprintf("webhooks.endpoints[%d].secret", i),
			"EARSHOT_WEBHOOK_" + envName(w.Name) + "_SECRET", &w.Secret, &w.SecretFile})
	}
	refs = append(refs, secretRef{"transcribe.openai.api_key", "EARSHOT_OPENAI_API_KEY", &c.Transcribe.OpenAI.APIKey, &c.Transcribe.OpenAI.APIKeyFile})
	return refs
}

// Env lists the environment variables that override secrets, for docs.
func (c *Config) Env() []string {
	var out []string
	for _, r := range c.secrets() {
		out = append(out, r.env+" ("+r.path+")")
	}
	return out
}

// applySecrets fills secrets from their files, then from the environment,
// which wins.
func (c *Config) applySecrets(lookup func(string) (string, bool)) error {
	for _, r := range c.secrets() {
		if r.file != nil && *r.file != "" {
			b, err := os.ReadFile(*r.file)
			if err != nil {
				return fmt.Errorf("config: %s_file: %w", r.path, err)
			}
			*r.val = Secret(strings.TrimRight(string(b), "\r\n"))
		}
		if v, ok := lookup(r.env); ok && v != "" {
			*r.val = Secret(v)
		}
	}
	return nil
}

// envName turns a mailbox name into its environment variable part.
func envName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
