package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

// The shipped example must load, and must name every key of Config.
func TestExampleLoads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "earshot.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data, noEnv)
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if len(c.Mailboxes) != 2 || c.Mailboxes[1].IMAP.Port != 993 || c.Location.String() != "America/Los_Angeles" {
		t.Fatalf("example decoded wrong: %+v", c.Mailboxes)
	}
	for _, w := range c.Warnings() {
		t.Logf("warning: %s", w)
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "smtp-pw")
	os.WriteFile(pwFile, []byte("from-file\n"), 0o600)
	yml := `database: sqlite:x.db
mailboxes:
  - name: intel box
    address: intel@example.test
    category: intel
    imap: {host: 127.0.0.1, tls: none, username: intel@example.test, password: in-file}
smtp: {host: 127.0.0.1, tls: none, from: e@example.test, password_file: ` + pwFile + `}
`
	env := map[string]string{"EARSHOT_MAILBOX_INTEL_BOX_PASSWORD": "from-env", "EARSHOT_DATABASE_URL": "sqlite:env.db"}
	c, err := Parse([]byte(yml), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Mailboxes[0].IMAP.Password.Value(); got != "from-env" {
		t.Errorf("env must override the file's password, got %q", got)
	}
	if got := c.SMTP.Password.Value(); got != "from-file" {
		t.Errorf("password_file: got %q", got)
	}
	if got := c.Database.Value(); got != "sqlite:env.db" {
		t.Errorf("EARSHOT_DATABASE_URL: got %q", got)
	}
	out, err := c.Print()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"from-env", "from-file", "in-file", "env.db"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed config shows secret %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "password: '***'") && !strings.Contains(out, `password: "***"`) && !strings.Contains(out, "password: ***") {
		t.Errorf("printed config does not mask the password:\n%s", out)
	}
}

func TestInvalid(t *testing.T) {
	base := "database: sqlite:x.db\n"
	mb := func(imap string) string {
		return base + "mailboxes:\n  - name: fb\n    address: fb@example.test\n    category: feedback\n    imap: {" + imap + "}\n"
	}
	cases := []struct {
		name, yml string
		want      []string // substrings of the error
	}{
		{"unknown key is an error with its line", base + "\nmailboxs: []\n", []string{"unknown field", "mailboxs", "line 3"}},
		{"not yaml", "database: [oops\n", []string{"config:"}},
		{"empty file", "  \n", []string{"config is empty"}},
		{"no database", "timezone: UTC\n", []string{"database: required"}},
		{"bad database scheme", "database: mysql://x\n", []string{"database: must start with"}},
		{"bad time zone", base + "timezone: Mars/Olympus\n", []string{"line 2: timezone: unknown time zone"}},
		{"plaintext imap to a remote host", mb("host: imap.example.com, tls: none, username: u, password: p"), []string{"mailboxes[0].imap.tls: plaintext IMAP"}},
		{"no password", mb("host: 127.0.0.1, tls: none, username: u"), []string{"mailboxes[0].imap.password: required", "EARSHOT_MAILBOX_FB_PASSWORD"}},
		{"move without folder", mb("host: 127.0.0.1, tls: none, username: u, password: p, after_ingest: move"), []string{"mailboxes[0].imap.move_to: required"}},
		{"bad category", strings.Replace(mb("host: h, username: u, password: p"), "feedback", "gossip", 1), []string{"mailboxes[0].category: must be one of"}},
		{"bad twilio sid", base + "twilio: {account_sid: AC1, auth_token: x}\n", []string{"twilio.account_sid"}},
		{"route to unknown owner", base + "owners: [{name: a, email: a@example.test}]\nroute: {owner: a, routes: [{match: [category=intel], owner: ghost}]}\n", []string{"route", "ghost"}},
		{"bad matcher", base + "owners: [{name: a, email: a@example.test}]\nroute: {owner: a, routes: [{match: ['product=~\"(\"'], owner: a}]}\n", []string{"route.routes[0].match[0]"}},
		{"impossible model rate", base + "transcribe: {engine: command, command: {argv: [p, '{audio}'], model_rate: 100}}\n", []string{"transcribe.command.model_rate"}},
		{"empty spoken form", base + "spoken_forms: {sso: ['']}\n", []string{"spoken_forms.sso[0]: empty spoken form"}},
		{"whisper without a model or a server", base + "transcribe: {engine: whisper}\n", []string{"transcribe.whisper.model: required"}},
		{"whisper base_url not a URL", base + "transcribe: {engine: whisper, whisper: {base_url: whisper:8178}}\n", []string{"transcribe.whisper.base_url: want an absolute URL"}},
		{"trusted header without proxies", base + "web: {trusted_header: X-User}\n", []string{"web.trusted_header"}},
		{"plain password instead of hash", base + "web: {users: [{name: m, password_hash: hunter2}]}\n", []string{"web.users[0].password_hash: want a bcrypt hash"}},
		{"header deadline under a second", base + "http:\n  read_header_timeout: 100ms\n", []string{"line 3: http.read_header_timeout: must be at least 1s"}},
		{"request deadline shorter than the headers'", base + "http:\n  read_header_timeout: 20s\n  read_timeout: 10s\n", []string{"line 4: http.read_timeout: must be at least http.read_header_timeout (20s)"}},
		{"download deadline shorter than a response's", base + "http: {write_timeout: 1m, download_timeout: 30s}\n", []string{"http.download_timeout: must be at least http.write_timeout (1m0s)"}},
		{"negative idle timeout", base + "http: {idle_timeout: -1s}\n", []string{"http.idle_timeout: must be at least 1s"}},
		{"a client may hold more than all", base + "http:\n  max_connections: 100\n  max_connections_per_client: 200\n", []string{"line 4: http.max_connections_per_client: must be 1 to http.max_connections (100), got 200"}},
		{"too few connections", base + "http: {max_connections: 2}\n", []string{"http.max_connections: must be at least 16"}},
		{"ops listener without a port", base + "http:\n  ops_listen: 127.0.0.1\n", []string{"line 3: http.ops_listen: want host:port"}},
		{"ops listener on the public address", base + "http: {listen: 0.0.0.0:8080, ops_listen: 0.0.0.0:8080}\n", []string{"http.ops_listen: must differ from http.listen"}},
		{"tiny header limit", base + "http: {max_header_bytes: 100}\n", []string{"http.max_header_bytes: must be 4096-1048576, got 100"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yml), noEnv)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Count(err.Error(), "\n") > 12 {
				t.Errorf("error is not short: %q", err)
			}
		})
	}
}

// The configuration docker-compose.yml mounts is valid once the
// environment gives what it leaves out.
func TestComposeConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"EARSHOT_DATABASE_URL": "postgres://earshot:earshot@postgres:5432/earshot?sslmode=disable",
		"EARSHOT_MAILBOX_FEEDBACK_PASSWORD": "x", "EARSHOT_MAILBOX_INTEL_PASSWORD": "y"}
	if _, err := Parse(data, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
}

// The HTTP server's limits have defaults for a small deployment.
func TestHTTPDefaults(t *testing.T) {
	c, err := Parse([]byte("database: sqlite:x.db\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	got := c.HTTP
	want := HTTP{Listen: "127.0.0.1:8080", ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, DownloadTimeout: 30 * time.Minute, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, MaxConnections: 512, MaxConnectionsPerClient: 64}
	if got != want {
		t.Errorf("http defaults:\n got %+v\nwant %+v", got, want)
	}
}
