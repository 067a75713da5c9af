package outbound_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
)

func suppressConfig(cap int) *config.Config {
	la, _ := time.LoadLocation("America/Los_Angeles")
	return &config.Config{
		Location:  la,
		Mailboxes: []config.Mailbox{{Name: "intel", Address: "Intel@Example.test"}, {Name: "feedback", Address: "feedback@example.test"}},
		SMTP:      &config.SMTP{From: "Earshot <earshot@example.test>", Hostname: "earshot.example.test"},
		Twilio:    &config.Twilio{PhoneNumber: "+15555550199"},
		Acks:      config.Acks{Enabled: true, DailyCap: cap},
	}
}

func TestSuppressionRules(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, testenv.NewClock(time.Now()))
	sup := outbound.NewSuppressor(suppressConfig(20))
	now := time.Now()
	cases := []struct {
		name string
		in   outbound.Incoming
		want string
	}{
		{"a rep's own mail is acked", outbound.Incoming{Recipient: "dana@example.test"}, ""},
		{"no address to answer", outbound.Incoming{Recipient: " "}, "no recipient"},
		{"an out-of-office reply (RFC 3834 Auto-Submitted)", outbound.Incoming{Recipient: "dana@example.test", AutoReason: "auto-submitted: auto-replied"}, "auto-generated (auto-submitted: auto-replied)"},
		{"a bounce", outbound.Incoming{Recipient: "MAILER-DAEMON@example.test", AutoReason: "dsn"}, "auto-generated (dsn)"},
		{"list mail by List-Id", outbound.Incoming{Recipient: "list@example.test", AutoReason: "list-id"}, "mailing list (list-id)"},
		{"bulk mail", outbound.Incoming{Recipient: "news@example.test", AutoReason: "precedence: bulk"}, "mailing list (precedence: bulk)"},
		{"one of our mailboxes, any case and +tag", outbound.Incoming{Recipient: "intel+x@example.TEST"}, "our own address"},
		{"smtp.from, as another Earshot's ack would come", outbound.Incoming{Recipient: "Earshot <earshot@example.test>"}, "our own address"},
		{"our Twilio number", outbound.Incoming{Recipient: "+15555550199"}, "our own address"},
		{"a no-reply sender", outbound.Incoming{Recipient: "no-reply@vendor.example"}, "no-reply sender"},
		{"a do-not-reply sender", outbound.Incoming{Recipient: "DoNotReply@vendor.example"}, "no-reply sender"},
		{"a list robot", outbound.Incoming{Recipient: "sales-request@lists.example"}, "mailing list address"},
		{"a reply to an ack we sent", outbound.Incoming{Recipient: "dana@example.test", InReplyTo: []string{"1A2B.3C@earshot.example.test"}}, "reply to a message earshot sent"},
		{"deeper in a thread we are part of", outbound.Incoming{Recipient: "dana@example.test", References: []string{"x@mail.example", "1A2B.3C@EARSHOT.example.test"}}, "reply to a message earshot sent"},
		{"a reply to someone else's message", outbound.Incoming{Recipient: "dana@example.test", InReplyTo: []string{"x@mail.example"}}, ""},
		{"a forwarded bounce (sisimai lhost-sendmail-14)", outbound.Incoming{Recipient: "dana@example.test", Subject: "Fwd: Returned mail: see transcript for details"}, "subject of a bounce or report"},
		{"an old Hotmail complaint (sisimai arf-22)", outbound.Incoming{Recipient: "staff@hotmail.com", Subject: " complaint about message from 192.0.2.222"}, "subject of a bounce or report"},
		{"a rep writing about delivery is not a bounce", outbound.Incoming{Recipient: "dana@example.test", Subject: "Delivery dates for Globex"}, ""},
		{"nor about returns", outbound.Incoming{Recipient: "dana@example.test", Subject: "Returned mailers from the trade show"}, ""},
		{"an address without a domain (\"From: Moderator-Address <moderator>\" of a list's held-message notice)", outbound.Incoming{Recipient: "moderator"}, "recipient has no valid domain"},
		{"a single-label domain", outbound.Incoming{Recipient: "dana@localhost"}, "recipient has no valid domain"},
		{"an empty domain", outbound.Incoming{Recipient: "dana@"}, "recipient has no valid domain"},
		{"a domain with an empty label", outbound.Incoming{Recipient: "dana@example..test"}, "recipient has no valid domain"},
		{"an IP address is no domain name", outbound.Incoming{Recipient: "dana@192.0.2.7"}, "recipient has no valid domain"},
		{"an address literal (RFC 5321 section 4.1.3)", outbound.Incoming{Recipient: "dana@[192.0.2.7]"}, ""},
		{"an internationalized domain", outbound.Incoming{Recipient: "dana@bücher.example"}, ""},
		{"a display name and a +tag", outbound.Incoming{Recipient: "Dana Rep <dana+news@sales.example.test>"}, ""},
		{"an SMS ack to a phone number", outbound.Incoming{Recipient: "+15555550123"}, ""},
		{"a Slack ack to a Slack user", outbound.Incoming{Recipient: outbound.SlackKey("U024BE7LH")}, ""},
	}
	for _, c := range cases {
		got, err := sup.Ack(ctx, s, c.in, now)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	off := suppressConfig(20)
	off.Acks.Enabled = false
	if got, _ := outbound.NewSuppressor(off).Ack(ctx, s, outbound.Incoming{Recipient: "dana@example.test"}, now); got != "acks disabled" {
		t.Errorf("acks disabled: %q", got)
	}
}

func TestDailyCapCountsInTheConfiguredZone(t *testing.T) {
	ctx := context.Background()
	la, _ := time.LoadLocation("America/Los_Angeles")
	// 23:00 in Los Angeles on March 3 is 07:00 UTC on March 4.
	clk := testenv.NewClock(time.Date(2026, 3, 3, 23, 0, 0, 0, la))
	s := openStore(t, clk)
	sup := outbound.NewSuppressor(suppressConfig(2))
	in := outbound.Incoming{Recipient: "dana@example.test"}
	ack := model.OutboxMessage{Kind: "ack", Channel: "email", Recipient: "dana@example.test", Body: []byte("x")}
	enqueue(t, s, ack)
	if got, _ := sup.Ack(ctx, s, in, clk.Now()); got != "" {
		t.Fatalf("one ack today: %q, want none suppressed", got)
	}
	enqueue(t, s, ack)
	if got, _ := sup.Ack(ctx, s, in, clk.Now()); got != "daily cap of 2 acks reached" {
		t.Errorf("two acks today: %q, want the cap", got)
	}
	if got, _ := sup.Ack(ctx, s, outbound.Incoming{Recipient: "sam@example.test"}, clk.Now()); got != "" {
		t.Errorf("the cap is per recipient: %q", got)
	}
	// Midnight in Los Angeles starts a new day, though UTC changed date
	// hours ago.
	clk.Add(90 * time.Minute)
	if got, _ := sup.Ack(ctx, s, in, clk.Now()); got != "" {
		t.Errorf("after local midnight: %q, want a new day", got)
	}
}

// TestCorpusAutoRepliesAndBouncesAreNeverAcked runs every bounce and
// auto-reply of the sisimai corpus through normalization and enqueue-time
// suppression: none may be acked.
func TestCorpusAutoRepliesAndBouncesAreNeverAcked(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "corpora", "mail", "sisimai", "maildir", "bsd")
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Skipf("no sisimai corpus in %s", dir)
	}
	ctx := context.Background()
	s := openStore(t, testenv.NewClock(time.Now()))
	sup := outbound.NewSuppressor(suppressConfig(20))
	reasons := map[string]int{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := intake.Normalize(bytes.NewReader(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sup.Ack(ctx, s, outbound.Incoming{
			Recipient: msg.From.Addr, AutoReason: msg.AutoGenerated, Subject: msg.Subject, InReplyTo: msg.InReplyTo, References: msg.References,
		}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got == "" {
			t.Errorf("%s (from %q, subject %q) would be acked", filepath.Base(f), msg.From.Addr, msg.Subject)
		}
		reasons[strings.SplitN(got, " (", 2)[0]]++
	}
	t.Logf("%d messages, all suppressed: %v", len(files), reasons)
}
