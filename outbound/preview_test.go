package outbound_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/points"
)

func TestPreview(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, testenv.NewClock(time.Date(2026, 3, 3, 18, 0, 0, 0, time.UTC)))
	if _, err := s.ImportReps(ctx, []model.Rep{{Name: "Dana Reyes", Emails: []string{"dana@example.test"}, Line: 2}}); err != nil {
		t.Fatal(err)
	}
	dana, _ := s.FindRep(ctx, "Dana Reyes")
	if _, err := s.Receive(ctx, model.Batch{Source: "feedback", Items: []model.RawItem{{
		SourceKey: "1:1", Kind: "email", Mailbox: "intel@example.test", ContentHash: "h1",
		Raw: []byte("Subject: Acme\r\n\r\nAcme Corp is cheaper\r\n"), ReceivedAt: time.Date(2026, 3, 3, 17, 0, 0, 0, time.UTC),
	}}}); err != nil {
		t.Fatal(err)
	}
	claimed, _ := s.Claim(ctx, "w", 1, time.Minute)
	item := claimed[0].ID
	if err := s.Complete(ctx, item, "w", model.Processed{
		Sender: "dana@example.test", RepID: dana.ID, Subject: "Acme pricing", BodyText: "Acme Corp is cheaper",
		Tags:        []model.Tag{{Kind: "category", Value: "intel"}, {Kind: "competitor", Value: "Acme", Evidence: []model.Evidence{{Phrase: "Acme Corp"}}}},
		Assignments: []model.Assignment{{Owner: "ci-lead", Route: "root"}},
		Ledger: []model.LedgerEntry{{RepID: dana.ID, Points: 3, Reason: "category:intel", Month: "2026-03",
			ItemID: item}},
	}); err != nil {
		t.Fatal(err)
	}
	c := composer(t, smtpConfig(t, "127.0.0.1:25"))
	r := points.NewRules(config.Points{Goals: []config.Goal{{Name: "competitive nugget", Category: "intel", Count: 2}}}, nil, c.Location)
	owners := []config.Owner{{Name: "ci-lead", Email: "ci@example.test"}}
	cases := []struct {
		kind string
		item int64
		want []string
	}{
		{"ack", item, []string{"Subject: Re: Acme pricing", "Thanks, Dana!", "+3  Competitive intel", "March 2026: 3 points, rank 1 of 1", "Goal: 1 of 2 competitive nugget", "text/html"}},
		{"sms", item, []string{"Earshot: thanks Dana, your intel is in. +3 pts.", "(GSM-7,"}},
		{"notice", item, []string{"Subject: [Earshot] Intel from Dana Reyes: Acme pricing", "ci-lead: a new message", `Acme ("Acme Corp")`, "https://earshot.example.test/items/1"}},
		{"digest", item, []string{"1 new item for ci-lead"}},
		{"reminder", item, []string{"Acme pricing (intel), waiting"}},
		{"manager-digest", item, []string{"Leaderboard for March 2026", "1. Dana Reyes", "3 points", "Notable intel"}},
		{"ack", 0, []string{"Subject: Re: Acme undercutting us at Globex", "rank 2 of 7"}},
	}
	for _, cs := range cases {
		var b bytes.Buffer
		err := outbound.Preview(ctx, &b, s, c, r, outbound.PreviewOptions{Kind: cs.kind, ItemID: cs.item, Owners: owners})
		if err != nil {
			t.Fatalf("%s of item %d: %v", cs.kind, cs.item, err)
		}
		for _, w := range cs.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s of item %d lacks %q:\n%s", cs.kind, cs.item, w, b.String())
			}
		}
	}
	if err := outbound.Preview(ctx, &bytes.Buffer{}, s, c, r, outbound.PreviewOptions{Kind: "ack", ItemID: 99}); err == nil {
		t.Error("previewing a missing item succeeded")
	}
}
