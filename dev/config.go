package dev

import (
	_ "embed"
	"fmt"
	"os/exec"
	"strings"
)

//go:embed samples/reps.csv
var sampleReps []byte

// Ports of the local instance. Every server binds 127.0.0.1 only.
type Ports struct {
	HTTP, IMAP, SMTP int
}

// DefaultPorts keep clear of the system defaults (8080 is often taken).
func DefaultPorts() Ports { return Ports{HTTP: 8025, IMAP: 1143, SMTP: 1025} }

// Passwords of the local mailboxes and the dashboard login, printed at start.
const (
	FeedbackAddr = "feedback@example.test"
	IntelAddr    = "intel@example.test"
	MailboxPass  = "earshot"
	WebUser      = "dev"
	WebPass      = "earshot"
)

// sampleConfig is the configuration of the local instance.
func sampleConfig(dbPath string, p Ports, passwordHash, twilioURL, slackURL string) string {
	transcribe := "engine: none"
	if ps, err := exec.LookPath("pocketsphinx_continuous"); err == nil {
		transcribe = fmt.Sprintf("engine: command\n  command:\n    argv: [%s, -infile, \"{audio}\", -logfn, /dev/null]\n    sample_rate: 16000", ps)
	}
	return strings.NewReplacer(
		"$DB", dbPath,
		"$HTTP", fmt.Sprint(p.HTTP),
		"$IMAP", fmt.Sprint(p.IMAP),
		"$SMTP", fmt.Sprint(p.SMTP),
		"$FEEDBACK", FeedbackAddr,
		"$INTEL", IntelAddr,
		"$MBPASS", MailboxPass,
		"$HASH", passwordHash,
		"$TRANSCRIBE", transcribe,
		"$TWILIO_URL", twilioURL,
		"$TWILIO_ACCOUNT", TwilioAccount,
		"$TWILIO_TOKEN", TwilioToken,
		"$TWILIO_NUMBER", TwilioNumber,
		"$SLACK_URL", slackURL,
		"$SLACK_CHANNEL", SlackChannelName,
	).Replace(configTemplate)
}

const configTemplate = `# The configuration of 'earshot dev': everything embedded, on 127.0.0.1.
database: sqlite:$DB
timezone: America/Los_Angeles
log: {level: info, format: text}
http:
  listen: 127.0.0.1:$HTTP
  public_url: http://127.0.0.1:$HTTP
workers: {items: 2, batch: 10}
mailboxes:
  - name: feedback
    address: $FEEDBACK
    category: feedback
    imap: {host: 127.0.0.1, port: $IMAP, tls: none, username: $FEEDBACK, password: $MBPASS, after_ingest: seen, poll_interval: 1s, no_idle: true}
    # The samples are not DKIM-signed: the roster alone decides here. A
    # real mailbox keeps the default, require: dmarc.
    contributors: {require: none, pbx: [pbx@example.com]}
  - name: intel
    address: $INTEL
    category: intel
    imap: {host: 127.0.0.1, port: $IMAP, tls: none, username: $INTEL, password: $MBPASS, after_ingest: seen, poll_interval: 1s, no_idle: true}
    contributors: {require: none, pbx: [pbx@example.com]}
twilio:
  account_sid: $TWILIO_ACCOUNT
  auth_token: $TWILIO_TOKEN
  api_url: $TWILIO_URL        # a local stand-in for Twilio's API
  phone_number: "$TWILIO_NUMBER"
  poll_interval: 10s
  attestation: none           # the stand-in's calls carry no STIR/SHAKEN attestation
slack:
  bot_token: xoxb-0000000000-0000000000-earshotdev
  app_token: xapp-1-A0EARSHOT-0000000000-earshotdev
  api_url: $SLACK_URL         # a local stand-in for Slack's Web API and Socket Mode
  channels:
    - {name: $SLACK_CHANNEL, channel: '#$SLACK_CHANNEL', category: intel}
transcribe:
  $TRANSCRIBE
smtp: {host: 127.0.0.1, port: $SMTP, tls: none, from: "Earshot <earshot@example.test>", hostname: earshot.example.test}
owners:
  - {name: ci-lead, email: ci-lead@example.test, digest: immediate, slack: C0CILEAD01}
  - {name: billing-pm, email: billing-pm@example.test, digest: immediate}
  - {name: reports-pm, email: reports-pm@example.test, digest: daily}
  - {name: product-ops, email: product-ops@example.test, digest: daily}
competitors:
  - {name: Acme, aliases: [Acme Corp, AcmeCloud], owner: ci-lead}
  - {name: Globex, aliases: [Globex Corporation]}
  - {name: Initech, aliases: [Initech Billing]}
products:
  - {name: Billing, keywords: [billing, invoice, invoices, payment], owner: billing-pm, weight: 2}
  - {name: Reports, keywords: [report, reports, dashboard, dashboards], owner: reports-pm}
  - {name: Integrations, keywords: [integration, integrations, api, webhook]}
route:
  owner: product-ops
  routes:
    - {match: [category=intel], owner: ci-lead}
points:
  categories: {intel: 3, feedback: 1}
  first_intel_bonus: 2
  new_competitor_bonus: 2
  goals:
    - {name: competitive nugget, category: intel, count: 1}
acks: {enabled: true, daily_cap: 20}
web:
  users:
    - {name: dev, password_hash: "$HASH"}
`
