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
	// Contributors says whose mail here earns points and acks.
	Contributors Contributors `yaml:"contributors"`
}

// Contributors says whose mail to a mailbox earns points, acks and owner
// attention; everyone else's is kept and tagged, and waits for a manager.
type Contributors struct {
	// Accept is roster (default: the reps of the roster), domains (also
	// verified senders of Domains, colleagues not in the roster yet: an
	// ack, and points once they are) or anyone (an explicit opt-in: an
	// ack that echoes nothing of theirs, at most HourlyCap an hour).
	Accept string `yaml:"accept"`
	// Domains are the colleagues' mail domains, with accept: domains.
	Domains []string `yaml:"domains,omitempty"`
	// HourlyCap bounds the acks to senders outside the roster, with
	// accept: anyone (default 20 an hour).
	HourlyCap int `yaml:"hourly_cap"`
	// Require is how a sender's address is verified before it earns
	// anything: dmarc (default: a valid DKIM signature aligned with the
	// From domain), dkim (a valid signature of the From domain's
	// organization) or none (the roster alone decides).
	Require string `yaml:"require"`
	// AuthservIDs are mail servers whose Authentication-Results (RFC 8601)
	// are trusted instead of verifying signatures here: the servers that
	// receive this mailbox's mail and check it.
	AuthservIDs []string `yaml:"authserv_ids,omitempty"`
	// PBX lists the addresses phone systems send voicemail-to-email from:
	// only their (verified) mail is credited to the caller's number.
	PBX []string `yaml:"pbx,omitempty"`
	// RouteStrangers sends mail of non-contributors to its owners too; by
	// default it waits in the dashboard's unregistered queue.
	RouteStrangers bool `yaml:"route_strangers"`
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
