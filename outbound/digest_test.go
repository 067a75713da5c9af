package outbound_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
)

func TestScheduledMail(t *testing.T) {
	c := composer(t, smtpConfig(t, "127.0.0.1:25"))
	owner := config.Owner{Name: "billing-pm", Email: "billing@example.test", Digest: "daily"}
	one, two := contribution("a"), contribution("b")
	two.Item.ID = 43
	digest, err := c.Digest(owner, "Tuesday 3 March 2026", []outbound.Contribution{one, two})
	if err != nil {
		t.Fatal(err)
	}
	reminder, err := c.Reminder(owner, []outbound.Contribution{one}, []time.Duration{26 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reminder(owner, []outbound.Contribution{one}, nil); err == nil {
		t.Error("a reminder without waiting times was built")
	}
	board := []model.Standing{{Rank: 1, Name: "Sam Okafor", Points: 31}, {Rank: 2, Name: "Dana Reyes", Points: 24}, {Rank: 2, Name: "Lee Park", Points: 24}}
	monthly, err := c.ManagerDigest("Kim", "kim@example.test", "2026-02", board, []outbound.Contribution{one})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		m       model.OutboxMessage
		kind    string
		subject string
		text    []string
	}{
		{"daily digest", digest, "digest", "[Earshot] 2 new items for billing-pm (Tuesday 3 March 2026)",
			[]string{"https://earshot.example.test/items/42", "https://earshot.example.test/items/43"}},
		{"SLA reminder", reminder, "reminder", "[Earshot] 1 item waits for your triage", []string{"waiting 26h"}},
		{"manager digest", monthly, "digest", "[Earshot] Leaderboard for February 2026",
			[]string{"  2. Dana Reyes", "  2. Lee Park", "Notable intel"}},
	}
	for _, cs := range cases {
		mr, err := mail.CreateReader(bytes.NewReader(cs.m.Body))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := mr.Header.Subject()
		if string(cs.m.Kind) != cs.kind || subject != cs.subject || cs.m.Subject != subject || mr.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("%s: kind %q, subject %q, auto-submitted %q", cs.name, cs.m.Kind, subject, mr.Header.Get("Auto-Submitted"))
		}
		p, _ := mr.NextPart()
		var b bytes.Buffer
		b.ReadFrom(p.Body)
		for _, w := range cs.text {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s lacks %q:\n%s", cs.name, w, b.String())
			}
		}
	}
}
