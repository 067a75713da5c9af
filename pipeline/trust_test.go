package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/pipeline"
)

// verdicts is a sender check that answers by From address, as DKIM and
// DMARC verification would; an address it does not know fails.
type verdicts map[string]pipeline.SenderVerdict

func (v verdicts) Check(ctx context.Context, raw []byte, p pipeline.SenderPolicy) (pipeline.SenderVerdict, error) {
	for addr, verdict := range v {
		if strings.Contains(string(raw), "<"+addr+">") {
			return verdict, nil
		}
	}
	return pipeline.SenderVerdict{Reason: "no DKIM signature"}, nil
}

var senderVerdicts = verdicts{
	"dana@example.test":       {Verified: true, Reason: "dkim=pass (example.test, aligned)"},
	"lee@colleague.test":      {Verified: true, Reason: "dkim=pass (colleague.test, aligned)"},
	"pbx@example.test":        {Verified: true, Reason: "dkim=pass (example.test, aligned)"},
	"sam@example.test":        {Reason: "dkim=fail (body hash did not verify)"},
	"seller@spam.example":     {Verified: true, Spam: "X-Spam-Flag: YES", Reason: "dkim=pass (spam.example, aligned)"},
	"victim@third-party.test": {Reason: "no DKIM signature"},
}

// Only a verified rep earns points and an ack; a forged rep, a stranger
// and spam are kept and tagged, earn nothing, get no ack and reach no
// owner, each with the reason shown.
func TestTrustDecidesWhoEarns(t *testing.T) {
	for _, c := range []struct {
		name, from      string
		trust           model.Trust
		paid, acked     bool
		ackReason       string
		routed          bool
		reasonSubstring string
	}{
		{"a rep whose signature verifies", "Dana Reyes <dana@example.test>", model.TrustRep, true, true, "", true, "dkim=pass"},
		{"a rep's address with a signature that fails", "Sam Okafor <sam@example.test>", model.TrustUnverified, false, false,
			outbound.ReasonNotVerified, false, "Sam Okafor's address, not verified: dkim=fail"},
		{"a stranger", "CHEAP PILLS <victim@third-party.test>", model.TrustStranger, false, false,
			outbound.ReasonNotContributor, false, "not on the rep roster"},
		{"spam by a trusted server's verdict, even from a rep's domain", "Sales <seller@spam.example>", model.TrustSpam,
			false, false, outbound.ReasonSpam, false, "X-Spam-Flag: YES"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newGatedHarness(t, 20, "{require: dmarc}", senderVerdicts)
			h.deliver("intel", h.now, "From: "+c.from+"\r\nSubject: Acme pricing at http://spam.example/buy\r\n", "Acme is 40% cheaper.")
			item, res := h.process()
			if res.Trust != c.trust || !strings.Contains(res.TrustReason, c.reasonSubstring) {
				t.Errorf("trust %s (%s), want %s (%q)", res.Trust, res.TrustReason, c.trust, c.reasonSubstring)
			}
			if paid := len(res.Ledger) > 0; paid != c.paid {
				t.Errorf("ledger %+v, want paid %v", res.Ledger, c.paid)
			}
			if routed := len(res.Assignments) > 0; routed != c.routed {
				t.Errorf("owners %+v, want routed %v", res.Assignments, c.routed)
			}
			if len(res.Tags) == 0 {
				t.Error("the item was not tagged")
			}
			var acks, notices int
			for _, m := range h.outbox(item) {
				switch {
				case m.Kind == model.OutboxAck && m.State != model.OutboxSuppressed:
					acks++
				case m.Kind == model.OutboxAck && m.Reason != c.ackReason:
					t.Errorf("ack suppressed for %q, want %q", m.Reason, c.ackReason)
				case m.Kind == model.OutboxOwnerNotice:
					notices++
				}
			}
			if (acks == 1) != c.acked || (notices > 0) != c.routed {
				t.Errorf("%d acks and %d owner notices; want acked %v, routed %v", acks, notices, c.acked, c.routed)
			}
		})
	}
}

// A mailbox open to colleague domains acknowledges their verified senders
// (points wait for the roster), and the ack echoes nothing they wrote.
func TestTrustColleagueAckEchoesNothing(t *testing.T) {
	h := newGatedHarness(t, 20, "{accept: domains, domains: [colleague.test], require: dmarc}", senderVerdicts)
	h.deliver("feedback", h.now, "From: \"Visit http://spam.example\" <lee@colleague.test>\r\nSubject: BUY NOW http://spam.example\r\n",
		"The billing screen is slow.")
	item, res := h.process()
	if res.Trust != model.TrustColleague || len(res.Ledger) != 0 {
		t.Fatalf("trust %s, ledger %+v; want a colleague, unpaid", res.Trust, res.Ledger)
	}
	ack := h.outbox(item)["ack lee@colleague.test"]
	hdr, text := ackText(t, ack)
	if subject := hdr.Get("Subject"); subject != "Thanks for your message" {
		t.Errorf("ack subject %q echoes the sender's", subject)
	}
	if strings.Contains(string(ack.Body), "spam.example") || strings.Contains(string(ack.Body), "BUY NOW") {
		t.Errorf("the ack echoes what the sender wrote:\n%s", ack.Body)
	}
	if !strings.Contains(text, "not on the rep roster yet") {
		t.Errorf("ack text lacks the waiting points:\n%s", text)
	}
}

// A mailbox open to anyone acknowledges at most its hourly cap of senders
// outside the roster.
func TestTrustOpenMailboxHourlyCap(t *testing.T) {
	h := newGatedHarness(t, 20, "{accept: anyone, hourly_cap: 2, require: none}", nil)
	var states []string
	for i, from := range []string{"a@one.test", "b@two.test", "c@three.test"} {
		h.deliver("feedback", h.now.Add(time.Duration(i)*time.Minute), "From: "+from+"\r\nSubject: idea\r\n", "Make reports faster.")
		item, res := h.process()
		if res.Trust != model.TrustOpen {
			t.Fatalf("trust %s, want open", res.Trust)
		}
		m := h.outbox(item)["ack "+from]
		states = append(states, string(m.State)+" "+m.Reason)
	}
	if states[0] != "pending " || states[1] != "pending " ||
		states[2] != "suppressed hourly cap of 2 acks to senders outside the roster reached" {
		t.Errorf("acks %q; want two sent, the third over the cap", states)
	}
}

// A manager credits a forged or foreign item to a rep: processing again
// pays the rep and, when asked, acknowledges the rep, not the sender. On
// PostgreSQL the claim reads the review with the item.
func TestTrustManagerCredit(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testTrustManagerCredit(t, newGatedHarness(t, 20, "{require: dmarc}", senderVerdicts))
	})
	t.Run("postgres", func(t *testing.T) {
		testTrustManagerCredit(t, newHarness(t, testenv.Postgres(t), 20, "{require: dmarc}", senderVerdicts))
	})
}

func testTrustManagerCredit(t *testing.T, h *awardHarness) {
	ctx := context.Background()
	h.deliver("intel", h.now, "From: Partner <partner@partner.test>\r\nSubject: Acme\r\n", "Acme is 40% cheaper.")
	item, res := h.process()
	if res.Trust != model.TrustStranger {
		t.Fatalf("trust %s, want stranger", res.Trust)
	}
	dana, err := h.s.FindRep(ctx, "dana@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.s.ReviewItem(ctx, model.Review{ItemID: item, Verdict: model.ReviewCredit, RepID: dana.ID, SendAck: true, Actor: "kim"}); err != nil {
		t.Fatal(err)
	}
	again, res := h.process()
	if again != item || res.Trust != model.TrustCredited || res.RepID != dana.ID || len(res.Ledger) == 0 ||
		!strings.Contains(res.TrustReason, "credited by kim") {
		t.Fatalf("after the credit: item %d, trust %s (%s), rep %d, ledger %+v", again, res.Trust, res.TrustReason, res.RepID, res.Ledger)
	}
	out := h.outbox(item)
	if m := out["ack dana@example.test"]; m.State != model.OutboxPending {
		t.Errorf("ack to the credited rep: %+v", m)
	}
	if m := out["ack partner@partner.test"]; m.State != model.OutboxSuppressed {
		t.Errorf("the stranger's ack: %+v; want it still suppressed", m)
	}
	// Dismissed: it leaves the queue and is routed to nobody.
	h.deliver("intel", h.now, "From: Spammer <x@spam.test>\r\nSubject: Acme\r\n", "Acme!")
	item, _ = h.process()
	if err := h.s.ReviewItem(ctx, model.Review{ItemID: item, Verdict: model.ReviewDismiss, Actor: "kim"}); err != nil {
		t.Fatal(err)
	}
	if _, res = h.process(); res.Trust != model.TrustStranger || len(res.Assignments) != 0 || !strings.Contains(res.TrustReason, "dismissed by kim") {
		t.Errorf("dismissed: trust %s (%s), owners %+v", res.Trust, res.TrustReason, res.Assignments)
	}
}

// Voicemail-to-email is credited to the caller only from a configured,
// verified phone system; a PBX-shaped mail from anyone else is a
// stranger's.
func TestTrustPBX(t *testing.T) {
	h := newGatedHarness(t, 20, "{require: dmarc, pbx: [pbx@example.test]}", senderVerdicts)
	ctx := context.Background()
	if _, err := h.s.ImportReps(ctx, []model.Rep{{Name: "Cy Moss", Phones: []string{"+14155550134"}, Line: 4}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from  string
		trust model.Trust
	}{
		{"Office PBX <pbx@example.test>", model.TrustRep},
		{"PBX <pbx@attacker.test>", model.TrustStranger},
	} {
		h.deliver("feedback", h.now, "From: "+c.from+"\r\nSubject: Voicemail from +1 415 555 0134\r\n"+
			"Content-Type: multipart/mixed; boundary=b\r\n", "--b\r\nContent-Type: text/plain\r\n\r\nCaller: +1 415 555 0134\r\n"+
			"--b\r\nContent-Type: audio/wav\r\nContent-Disposition: attachment; filename=vm.wav\r\n\r\nRIFF\r\n--b--")
		_, res := h.process()
		if res.Trust != c.trust {
			t.Errorf("voicemail-to-email from %s: trust %s (%s), want %s", c.from, res.Trust, res.TrustReason, c.trust)
		}
	}
}

// The daily cap counts one recipient however its address is written.
func TestTrustCapFoldsAddresses(t *testing.T) {
	h := newGatedHarness(t, 2, "{accept: anyone, hourly_cap: 100, require: none}", nil)
	var sent int
	for i, from := range []string{"victim2@cap.test", "VICTIM2@cap.test", "Victim2@Cap.Test", "victim2+x@cap.test"} {
		h.deliver("feedback", h.now.Add(time.Duration(i)*time.Minute), "From: "+from+"\r\nSubject: hi\r\n", "hello")
		item, _ := h.process()
		for _, m := range h.outbox(item) {
			if m.Kind == model.OutboxAck && m.State != model.OutboxSuppressed {
				sent++
			}
		}
	}
	if sent != 2 {
		t.Errorf("%d acks to one folded recipient, want the daily cap of 2", sent)
	}
}
