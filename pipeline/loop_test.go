package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/earshot-dev/earshot/dev"
	"github.com/earshot-dev/earshot/model"
)

// An out-of-office reply to our ack arrives in the mailbox: it is stored
// and processed, and gets no ack, so two auto-responders cannot loop.
func TestAckLoop(t *testing.T) {
	sink, err := dev.StartSMTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	_, smtpPort, _ := strings.Cut(sink.Addr, ":")
	imapSrv, st, _ := daemon(t, "sqlite:"+filepath.Join(t.TempDir(), "loop.db"), fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %s, tls: none, from: "Earshot <earshot@example.test>", hostname: earshot.example.test}
acks: {enabled: true}
`, smtpPort))

	if err := imapSrv.Append("feedback@example.test", mail("dana@example.test", "feedback@example.test",
		"Invoice export", "Customers want the invoice export back.")); err != nil {
		t.Fatal(err)
	}
	ack := waitMail(t, sink, "dana@example.test", 1)
	mr, err := gomail.CreateReader(bytes.NewReader(ack.Raw))
	if err != nil {
		t.Fatal(err)
	}
	ackID, _ := mr.Header.MessageID()
	if v := mr.Header.Get("Auto-Submitted"); v != "auto-replied" || ackID == "" {
		t.Fatalf("ack has Auto-Submitted %q and Message-ID %q", v, ackID)
	}

	// Dana's mail server answers our ack with an out-of-office reply.
	ooo := fmt.Sprintf("From: dana@example.test\r\nTo: feedback@example.test\r\nSubject: Automatic reply: %s\r\n"+
		"Message-ID: <ooo-%d@example.test>\r\nIn-Reply-To: <%s>\r\nAuto-Submitted: auto-replied\r\n"+
		"Date: Wed, 04 Mar 2026 10:00:00 -0800\r\n\r\nI am out of the office until Monday.\r\n",
		ack.Subject, time.Now().UnixNano(), ackID)
	if err := imapSrv.Append("feedback@example.test", []byte(ooo)); err != nil {
		t.Fatal(err)
	}
	waitProcessed(t, st, 2, 2)
	// The sink has the first ack before the outbox marks it sent: wait
	// for the rows themselves.
	var rows []struct {
		Subject string            `db:"subject"`
		State   model.OutboxState `db:"state"`
		Reason  string            `db:"reason"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows = rows[:0]
		if err := st.DB().Select(&rows, `select i.subject, o.state, o.reason from items i
			join outbox o on o.item_id = i.id and o.kind = 'ack' order by i.id`); err != nil {
			t.Fatal(err)
		}
		if len(rows) == 2 && rows[0].State == model.OutboxSent && rows[1].State == model.OutboxSuppressed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acks = %+v; want the first sent and the out-of-office reply's suppressed", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("out-of-office reply to our ack: ack %s (%s)", rows[1].State, rows[1].Reason)
	time.Sleep(300 * time.Millisecond) // give a wrong second ack the time to arrive
	if n := len(mailTo(sink, "dana@example.test")); n != 1 {
		t.Fatalf("dana received %d messages; want only the first ack", n)
	}
}

func mailTo(sink *dev.SMTPCapture, rcpt string) []dev.Captured {
	var out []dev.Captured
	for _, m := range sink.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, rcpt) {
				out = append(out, m)
			}
		}
	}
	return out
}

func waitMail(t *testing.T, sink *dev.SMTPCapture, rcpt string, n int) dev.Captured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if got := mailTo(sink, rcpt); len(got) >= n {
			return got[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no mail to %s within 15 s", rcpt)
	return dev.Captured{}
}
