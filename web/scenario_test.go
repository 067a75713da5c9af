package web

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// xssSubject is a subject that would run script if it were not escaped.
const xssSubject = `<script>alert(1)</script> Acme cuts prices <img src=x onerror=alert(2)>`

// scenario is a month of contributions: March 2026 ranks Ana 10, Bo 7,
// Cy 7, Di 3 (ranks 1, 2, 2, 4); in February Bo had 4 and Di 9.
type scenario struct {
	reps                              map[string]int64
	acme, voicemail, billing, pbxMail int64
	audio                             []byte
}

func seedScenario(t *testing.T, st *store.Store) scenario {
	t.Helper()
	ctx := context.Background()
	sc := scenario{reps: seedReps(t, st, "Ana Lima/West", "Bo Chen/West", "Cy Diaz/East", "Di Evans/East"),
		audio: wav(1, 8000)}
	ana, bo, cy, di := sc.reps["Ana Lima"], sc.reps["Bo Chen"], sc.reps["Cy Diaz"], sc.reps["Di Evans"]
	march := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 10, 14, 0, 0, 0, time.UTC)

	sc.acme = seedItem(t, st, model.RawItem{SourceKey: "1:1", Kind: "email", Mailbox: "intel@example.test",
		ReceivedAt: march, Raw: []byte("From: Ana Lima <ana@example.test>\r\nSubject: " + xssSubject +
			"\r\nContent-Type: text/html\r\n\r\n<p>Acme is offering <b>40%</b> off.</p><script>alert(3)</script>\r\n")},
		model.Processed{RepID: ana, Sender: "ana@example.test", Subject: xssSubject,
			BodyText: "Acme is offering 40% off to our Globex customers.\n<b>not bold</b>",
			FullText: "Acme is offering 40% off to our Globex customers.",
			Message: model.Message{From: model.Address{Name: "Ana Lima", Addr: "ana@example.test"}, Quoted: "> When is the renewal?",
				Forwarded: []model.Forward{{From: model.Address{Name: "Pat Buyer", Addr: "pat@customer.test"},
					Date: time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC), Subject: "Acme quote", Text: "Acme quoted us 40% below your price."}},
				Mailboxes: []string{"intel@example.test"}},
			Tags: []model.Tag{
				{Kind: "category", Value: "intel", Origin: "mailbox", Evidence: []model.Evidence{{Phrase: "intel", Field: "mailbox"}}},
				{Kind: "competitor", Value: "Acme", Origin: "alias", Evidence: []model.Evidence{{Phrase: "Acme", Field: "text"}}},
			},
			Assignments: []model.Assignment{{Owner: "ci-team", Route: "competitor=Acme → ci-team"}},
			Ledger:      ledger(ana, "2026-03", "category:intel", 3, "bonus:first-intel-of-month", 7),
			Outbox: []model.OutboxMessage{{Kind: "ack", Channel: "email", Recipient: "ana@example.test",
				Subject: "Thanks for the intel", Body: []byte("Subject: Thanks for the intel\r\n\r\nYou earned 10 points.\r\n")}},
		})
	msgs, err := st.ClaimOutbox(ctx, "test-sender", 10, time.Minute)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("claim the ack: %v %v", msgs, err)
	}
	if err := st.MarkOutboxSent(ctx, msgs[0].ID, "smtp-42"); err != nil {
		t.Fatal(err)
	}
	sc.voicemail = seedItem(t, st, model.RawItem{SourceKey: "RE0001", Kind: "voicemail", ReceivedAt: march.Add(time.Hour),
		Raw: sc.audio, Meta: `{"from":"+15550100","duration":1,"media_format":"wav","media_content_type":"audio/x-wav"}`},
		model.Processed{RepID: bo, Sender: "+15550100",
			Tags: []model.Tag{{Kind: "category", Value: "intel", Origin: "competitor mention"},
				{Kind: "category", Value: "feedback", Origin: "content"}},
			Ledger: ledger(bo, "2026-03", "category:intel", 3, "category:feedback", 1, "channel:voicemail", 3)})
	if _, err := st.DB().ExecContext(ctx, st.DB().Rebind(`update items set transcript = ?, transcript_engine = 'command',
		transcript_confidence = 0.82 where id = ?`), "Customer says the Acme price is lower.", sc.voicemail); err != nil {
		t.Fatal(err)
	}
	sc.billing = seedItem(t, st, model.RawItem{SourceKey: "1:2", Kind: "email", Mailbox: "feedback@example.test",
		ReceivedAt: march.Add(2 * time.Hour), Raw: []byte("From: someone@customer.test\r\nSubject: Billing page\r\n\r\nconfusing\r\n")},
		model.Processed{Sender: "someone@customer.test", Subject: "Billing page is confusing", BodyText: "The invoice screen hides totals.",
			Trust: model.TrustStranger, TrustReason: "not on the rep roster",
			FullText:    "The invoice screen hides totals.",
			Tags:        []model.Tag{{Kind: "category", Value: "feedback", Origin: "mailbox"}, {Kind: "product", Value: "Billing", Origin: "keyword"}},
			Assignments: []model.Assignment{{Owner: "billing-pm", Route: "product=Billing → billing-pm"}},
			Outbox: []model.OutboxMessage{{Kind: "ack", Channel: "email", Recipient: "someone@customer.test",
				State: model.OutboxSuppressed, Reason: "sender is not a registered rep", Body: []byte("x")}}})
	// A PBX voicemail-to-email: the recording is an attachment.
	sc.pbxMail = seedItem(t, st, model.RawItem{SourceKey: "1:3", Kind: "email", Mailbox: "feedback@example.test",
		ReceivedAt: march.Add(3 * time.Hour), Raw: pbxMessage(sc.audio)},
		model.Processed{RepID: cy, Sender: "cy@example.test", Subject: "Voicemail from +15550123",
			Message: model.Message{Attachments: []model.Attachment{{Filename: "message.wav", ContentType: "audio/wav", Size: 16044, Audio: true}}},
			Tags:    []model.Tag{{Kind: "category", Value: "feedback", Origin: "mailbox"}},
			Ledger:  ledger(cy, "2026-03", "category:feedback", 1)})
	seedItem(t, st, model.RawItem{SourceKey: "1:4", Kind: "email", ReceivedAt: march}, model.Processed{RepID: di,
		Sender: "di@example.test", Subject: "Onboarding feedback", Ledger: ledger(di, "2026-03", "category:feedback", 3)})
	seedItem(t, st, model.RawItem{SourceKey: "1:5", Kind: "voicemail", ReceivedAt: feb, Raw: []byte("RIFF")},
		model.Processed{RepID: bo, Ledger: ledger(bo, "2026-02", "category:feedback", 4)})
	seedItem(t, st, model.RawItem{SourceKey: "1:6", Kind: "email", ReceivedAt: feb}, model.Processed{RepID: di,
		Ledger: ledger(di, "2026-02", "category:intel", 9)})
	if _, err := st.AdjustPoints(ctx, model.LedgerEntry{RepID: cy, Points: 6, Reason: "trade show leads",
		Month: "2026-03", Actor: "lee"}); err != nil {
		t.Fatal(err)
	}
	// What the daemon's search indexer does behind processing; the
	// transcript above was written behind the store's back, so its item
	// is queued again by hand.
	if st.Dialect() == store.Postgres {
		if _, err := st.DB().ExecContext(ctx, `insert into search_queue (item_id, queued_at) values ($1, now())
			on conflict do nothing`, sc.voicemail); err != nil {
			t.Fatal(err)
		}
		if _, err := st.IndexSearch(ctx, 1000); err != nil {
			t.Fatal(err)
		}
	}
	return sc
}

// pbxMessage is a voicemail-to-email with the recording attached.
func pbxMessage(audio []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(audio)
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	return []byte("From: PBX <pbx@example.test>\r\nTo: feedback@example.test\r\nSubject: Voicemail from +15550123\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nYou have a new voicemail.\r\n" +
		"--b1\r\nContent-Type: audio/wav; name=message.wav\r\nContent-Disposition: attachment; filename=message.wav\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + strings.Join(lines, "\r\n") + "\r\n--b1--\r\n")
}
