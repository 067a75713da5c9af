package config

import "time"

// Mailbox is one dedicated mailbox reps write to, read over IMAP.
type Mailbox struct {
	// Name identifies the source in the store, logs and metrics.
	Name string `yaml:"name"`
	// Address is the mailbox's own address; acks come from it.
	Address string `yaml:"address"`
	// Category is what mail here is by default: feedback or intel.
	Category string `yaml:"category"`
	IMAP     IMAP   `yaml:"imap"`
}

// IMAP is how to reach and read a mailbox.
type IMAP struct {
	Host string `yaml:"host"`
	// Port defaults to 993 for implicit TLS and 143 otherwise.
	Port int `yaml:"port"`
	// TLS is implicit (default), starttls or none. none is refused unless
	// the host is loopback or Insecure is set.
	TLS      string `yaml:"tls"`
	Insecure bool   `yaml:"insecure"`
	Username string `yaml:"username"`
	// Password; env EARSHOT_MAILBOX_<NAME>_PASSWORD.
	Password     Secret `yaml:"password"`
	PasswordFile string `yaml:"password_file,omitempty"`
	// OAuth2 logs in with SASL XOAUTH2 (Gmail, Microsoft 365) instead of a password.
	OAuth2 *OAuth2 `yaml:"oauth2,omitempty"`
	// Folder is the folder to read (default INBOX).
	Folder string `yaml:"folder"`
	// AfterIngest is keep (default), seen or move; done only after the
	// message is committed to the database.
	AfterIngest string `yaml:"after_ingest"`
	// MoveTo is the folder for after_ingest: move (created if missing).
	MoveTo string `yaml:"move_to,omitempty"`
	// PollInterval is used where the server lacks IDLE (default 1m).
	PollInterval time.Duration `yaml:"poll_interval"`
	// NoIdle polls every PollInterval even where the server offers IDLE.
	NoIdle bool `yaml:"no_idle"`
	// IdleRefresh re-issues IDLE at least this often (default 9m, at most 10m).
	IdleRefresh time.Duration `yaml:"idle_refresh"`
	// BatchSize is how many messages are fetched and committed together (default 100).
	BatchSize int `yaml:"batch_size"`
	// MaxMessageBytes: larger messages are stored headers-only (default 50 MB).
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
}

// OAuth2 holds the client and refresh token for XOAUTH2.
type OAuth2 struct {
	ClientID string `yaml:"client_id"`
	// ClientSecret; env EARSHOT_MAILBOX_<NAME>_CLIENT_SECRET.
	ClientSecret Secret `yaml:"client_secret"`
	// RefreshToken; env EARSHOT_MAILBOX_<NAME>_REFRESH_TOKEN.
	RefreshToken Secret `yaml:"refresh_token"`
	// TokenURL, e.g. https://oauth2.googleapis.com/token or
	// https://login.microsoftonline.com/TENANT/oauth2/v2.0/token.
	TokenURL string   `yaml:"token_url"`
	Scopes   []string `yaml:"scopes,omitempty"`
}
