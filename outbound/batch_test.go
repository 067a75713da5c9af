package outbound_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
)

// awkward is a message whose data needs both of SMTP's cares: bare LFs
// to end in CRLF, lines starting with a dot, no final line ending.
func awkward(i int) model.OutboxMessage {
	return model.OutboxMessage{Recipient: fmt.Sprintf("rep%d@example.test", i), Body: []byte(fmt.Sprintf(
		"Subject: %d\r\nMessage-ID: <b%d@earshot.example.test>\r\n\r\n.leading dot\nbare LF\r\n..two dots\r\n.\r\nlast line", i, i))}
}

// awkwardWire is awkward(i)'s data as the server must receive it.
func awkwardWire(i int) string {
	return fmt.Sprintf("Subject: %d\r\nMessage-ID: <b%d@earshot.example.test>\r\n\r\n.leading dot\r\nbare LF\r\n..two dots\r\n.\r\nlast line\r\n", i, i)
}

// heldListener holds back the server's answers on each connection, from
// the client's first MAIL FROM until want messages are answered "OK:
// queued": a client that waits for an answer before its next command gets
// none, and times out.
type heldListener struct {
	net.Listener
	want int
}

func (l heldListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &heldConn{Conn: c, want: l.want}, nil
}

type heldConn struct {
	net.Conn
	want int

	mu              sync.Mutex
	armed, released bool
	held            []byte
}

func (c *heldConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if bytes.Contains(p[:n], []byte("MAIL FROM:")) {
		c.armed = true
	}
	c.mu.Unlock()
	return n, err
}

func (c *heldConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.armed || c.released {
		return c.Conn.Write(p)
	}
	c.held = append(c.held, p...)
	if bytes.Count(c.held, []byte("OK: queued")) < c.want {
		return len(p), nil
	}
	c.released = true
	if _, err := c.Conn.Write(c.held); err != nil {
		return 0, err
	}
	return len(p), nil
}

// unpipelined hides PIPELINING from the server's EHLO answer.
type unpipelined struct{ net.Listener }

func (l unpipelined) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return hiding{c}, err
}

type hiding struct{ net.Conn }

func (c hiding) Write(p []byte) (int, error) {
	if _, err := c.Conn.Write(bytes.ReplaceAll(p, []byte("250-PIPELINING\r\n"), nil)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// A batch goes out in one write when the server offers PIPELINING and
// CHUNKING: the server here answers nothing until it has taken every
// message of the batch.
func TestMailerPipelinesABatch(t *testing.T) {
	const n = 6
	b := &sink{}
	port := serveSink(t, b, func(_ *smtp.Server, ln net.Listener) net.Listener { return heldListener{ln, n} })
	mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(port)))
	defer mailer.Close()
	mailer.Timeout = 5 * time.Second
	var msgs []model.OutboxMessage
	for i := range n {
		msgs = append(msgs, awkward(i))
	}
	for i, r := range mailer.SendBatch(context.Background(), msgs) {
		if want := fmt.Sprintf("b%d@earshot.example.test", i); r.Err != nil || r.ProviderID != want {
			t.Errorf("message %d: %q, %v; want %q sent", i, r.ProviderID, r.Err, want)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.conns) != 1 || len(b.got) != n {
		t.Fatalf("%d connections carried %d messages, want 1 for %d", len(b.conns), len(b.got), n)
	}
	for i, got := range b.got {
		if string(got) != awkwardWire(i) {
			t.Errorf("message %d arrived as %q, want %q", i, got, awkwardWire(i))
		}
	}
}

// Each message of a batch gets its own answer, pipelined or a command at
// a time: a refusal fails that message alone, and the connection goes on.
func TestMailerBatchAnswers(t *testing.T) {
	reject := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	later := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	for _, tc := range []struct {
		name string
		wrap func(*smtp.Server, net.Listener) net.Listener
	}{
		{"pipelined", nil},
		{"a command at a time", func(_ *smtp.Server, ln net.Listener) net.Listener { return unpipelined{ln} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &sink{rcpt: []error{nil, reject, later, nil}}
			mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(serveSink(t, b, tc.wrap))))
			defer mailer.Close()
			injected := awkward(9)
			injected.Recipient = "x@example.test>\r\nRCPT TO:<y@example.test"
			msgs := []model.OutboxMessage{awkward(0), awkward(1), awkward(2), injected, awkward(3)}
			res := mailer.SendBatch(context.Background(), msgs)
			wants := []struct {
				ok, permanent bool
				says          string
			}{
				{true, false, ""},
				{false, true, "smtp rcpt to: 550 5.1.1 no such user here"},
				{false, false, "smtp rcpt to: 451 4.3.0 try again later"},
				{false, true, "is not an address"},
				{true, false, ""},
			}
			for i, w := range wants {
				r := res[i]
				if (r.Err == nil) != w.ok || outbound.IsPermanent(r.Err) != w.permanent || r.Err != nil && !strings.Contains(r.Err.Error(), w.says) {
					t.Errorf("message %d: %v (permanent %v); want ok %v, permanent %v, saying %q", i, r.Err, outbound.IsPermanent(r.Err), w.ok, w.permanent, w.says)
				}
			}
			// The connection is kept and clean for the next batch.
			if r := mailer.SendBatch(context.Background(), msgs[4:]); r[0].Err != nil {
				t.Fatalf("next batch: %v", r[0].Err)
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if len(b.conns) != 1 || len(b.got) != 3 || b.calls != 5 {
				t.Fatalf("%d connections, %d messages, %d RCPT; want 1, 3 and 5 (the injected recipient never sent)", len(b.conns), len(b.got), b.calls)
			}
			for i, want := range []string{awkwardWire(0), awkwardWire(3), awkwardWire(3)} {
				if string(b.got[i]) != want {
					t.Errorf("message %d arrived as %q, want %q", i, b.got[i], want)
				}
			}
		})
	}
}

// DATA's dot-stuffing and line endings, through Mailpit, which offers
// neither PIPELINING nor CHUNKING.
func TestMailerDataThroughMailpit(t *testing.T) {
	addr, api := testenv.SMTP(t), testenv.Mailpit(t)
	mailer, _ := outbound.NewMailer(smtpConfig(t, addr))
	defer mailer.Close()
	tag := unique()
	msg := awkward(1)
	msg.Recipient = "dots-" + tag + "@example.test"
	msg.Body = append([]byte("To: "+msg.Recipient+"\r\n"), msg.Body...) // Mailpit finds it by To
	if _, err := mailer.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	raw, _ := mailpitRaw(t, api, msg.Recipient)
	if !bytes.HasSuffix(raw, []byte(awkwardWire(1))) {
		t.Errorf("Mailpit holds %q, want it to end with %q", raw, awkwardWire(1))
	}
}

func TestMailerTLS(t *testing.T) {
	cert, pool := testenv.SelfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, tc := range []struct {
		mode  string
		setup func(*smtp.Server, net.Listener) net.Listener
	}{
		{outbound.TLSStartTLS, func(s *smtp.Server, ln net.Listener) net.Listener { s.TLSConfig = serverTLS; return ln }},
		{outbound.TLSImplicit, func(_ *smtp.Server, ln net.Listener) net.Listener { return tls.NewListener(ln, serverTLS) }},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			b := &sink{mechs: []string{"PLAIN"}}
			sc := smtpConfig(t, "127.0.0.1:"+strconv.Itoa(serveSink(t, b, func(s *smtp.Server, ln net.Listener) net.Listener {
				s.AllowInsecureAuth = false // AUTH only once the connection is secure
				return tc.setup(s, ln)
			})))
			sc.TLS, sc.Username, sc.Password = tc.mode, "earshot", "secret"
			mailer, err := outbound.NewMailer(sc)
			if err != nil {
				t.Fatal(err)
			}
			defer mailer.Close()
			mailer.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
			if _, err := mailer.Send(context.Background(), awkward(1)); err != nil {
				t.Fatal(err)
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if _, secure := b.conns[0].TLSConnectionState(); !secure || len(b.got) != 1 || len(b.logins) != 1 {
				t.Errorf("TLS %v, %d messages, logins %v; want TLS, 1 message, one login", secure, len(b.got), b.logins)
			}
		})
	}

	t.Run("a server that does not offer STARTTLS", func(t *testing.T) {
		b := &sink{}
		sc := smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b)))
		sc.TLS = outbound.TLSStartTLS
		mailer, _ := outbound.NewMailer(sc)
		_, err := mailer.Send(context.Background(), awkward(1))
		if err == nil || outbound.IsPermanent(err) || !strings.Contains(err.Error(), "does not offer STARTTLS") {
			t.Errorf("send = %v, want a temporary error saying STARTTLS is not offered", err)
		}
		if _, msgs, _ := b.counts(); msgs != 0 {
			t.Errorf("%d messages went out in plaintext", msgs)
		}
	})

	t.Run("a certificate nobody vouches for", func(t *testing.T) {
		b := &sink{}
		sc := smtpConfig(t, "127.0.0.1:"+strconv.Itoa(serveSink(t, b, func(s *smtp.Server, ln net.Listener) net.Listener {
			s.TLSConfig = serverTLS
			return ln
		})))
		sc.TLS = outbound.TLSStartTLS
		mailer, _ := outbound.NewMailer(sc)
		mailer.TLSConfig = &tls.Config{ServerName: "127.0.0.1"}
		_, err := mailer.Send(context.Background(), awkward(1))
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("send = %v, want a certificate error", err)
		}
		if _, msgs, _ := b.counts(); msgs != 0 {
			t.Errorf("%d messages went out", msgs)
		}
	})
}

// The worker hands a claim's email messages to the mailer as one batch
// (the server answers nothing until it has both accepted messages), and
// records each message's own outcome.
func TestWorkerSendsABatch(t *testing.T) {
	ctx := context.Background()
	reject := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	b := &sink{rcpt: []error{nil, reject, nil}}
	port := serveSink(t, b, func(_ *smtp.Server, ln net.Listener) net.Listener { return heldListener{ln, 2} })
	mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(port)))
	defer mailer.Close()
	mailer.Timeout = 5 * time.Second
	s := openStore(t, testenv.NewClock(time.Now()))
	msgs := []model.OutboxMessage{awkward(0), awkward(1), awkward(2), {Recipient: "+15555550100", Body: []byte("hi")}}
	for i := range msgs[:3] {
		msgs[i].Kind, msgs[i].Channel = "ack", "email"
	}
	msgs[3].Kind, msgs[3].Channel = "ack", "sms"
	item := enqueue(t, s, msgs...)
	w, reg := worker(s, map[model.Channel]outbound.Sender{"email": mailer})
	if n, err := w.RunOnce(ctx); n != 4 || err != nil {
		t.Fatalf("run once = %d, %v", n, err)
	}
	rows, _ := s.ItemOutbox(ctx, item)
	states := map[string]model.OutboxState{}
	for _, m := range rows {
		states[m.Recipient] = m.State
	}
	want := map[string]model.OutboxState{"rep0@example.test": model.OutboxSent, "rep1@example.test": model.OutboxFailed,
		"rep2@example.test": model.OutboxSent, "+15555550100": model.OutboxFailed}
	for r, st := range want {
		if states[r] != st {
			t.Errorf("%s: %s, want %s", r, states[r], st)
		}
	}
	if conns, got, _ := b.counts(); conns != 1 || got != 2 {
		t.Errorf("%d connections carried %d messages, want 1 for 2", conns, got)
	}
	metric(t, reg, "earshot_outbox_sent_total", `earshot_outbox_sent_total{channel="email"} 2`)
}
