package outbound_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/store"
	"github.com/earshot-dev/earshot/templates"
)

// smtpConfig points at host:port in plaintext, as the test sinks speak.
func smtpConfig(t *testing.T, addr string) config.SMTP {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return config.SMTP{Host: host, Port: p, TLS: "none", From: "Earshot <earshot@example.test>", Hostname: "earshot.example.test"}
}

func composer(t testing.TB, sc config.SMTP) *outbound.Composer {
	t.Helper()
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	la, _ := time.LoadLocation("America/Los_Angeles")
	c, err := outbound.NewComposer(&config.Config{SMTP: &sc, Location: la, HTTP: config.HTTP{PublicURL: "https://earshot.example.test/"}}, set)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// contribution is an intel item from Dana with her standing.
func contribution(tag string) outbound.Contribution {
	return outbound.Contribution{
		Item: model.Item{ID: 42, Kind: "email", ReceivedAt: time.Date(2026, 3, 3, 17, 41, 0, 0, time.UTC),
			Raw: []byte("From: Dana Reyes <dana@example.test>\r\nSubject: Acme pricing\r\nMessage-ID: <orig-" + tag + "@mail.example.test>\r\n\r\nAcme offered 40% off.\r\n")},
		Subject: "RE: Re: Acme pricing " + tag,
		Text:    "Acme offered 40% off.",
		From:    model.Address{Name: "Dana Reyes", Addr: "dana-" + tag + "@example.test"},
		Rep:     &model.Rep{ID: 1, Name: "Dana Reyes"},
		Tags: []model.Tag{
			{Kind: "category", Value: "intel"},
			{Kind: "competitor", Value: "Acme", Evidence: []model.Evidence{{Phrase: "Acme offered", Field: "text", Offset: 0}}},
		},
		Owners: []string{"ci-lead"},
		Award: points.Award{Month: "2026-03", Points: 5, Lines: []points.Line{
			{Reason: "category:intel", Points: 3}, {Reason: "bonus:first-intel-of-month", Points: 2}}},
		Tally: model.Tally{Month: "2026-03", Points: 16, Rank: 2, Ranked: 7, AllTime: 112,
			Goals: []model.GoalProgress{{Name: "competitive nugget", Category: "intel", Done: 1, Target: 1}}},
		MessageID:  "orig-" + tag + "@mail.example.test",
		References: []string{"root-" + tag + "@mail.example.test"},
		Mailbox:    "intel@example.test",
	}
}

func worker(s *store.Store, senders map[model.Channel]outbound.Sender) (*outbound.Worker, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	w := &outbound.Worker{Store: s, Senders: senders, Name: "w1", Lease: time.Minute, MaxAttempts: 3, Log: slog.New(slog.DiscardHandler)}
	w.Register(reg)
	return w, reg
}

// metric checks one counter's exposition.
func metric(t *testing.T, reg *prometheus.Registry, name, sample string) {
	t.Helper()
	want := "# HELP " + name + " " + map[string]string{
		"earshot_outbox_sent_total":   "Outbox messages sent, by channel.",
		"earshot_outbox_failed_total": "Outbox messages that failed for good (permanent error or attempts exhausted), by channel.",
	}[name] + "\n# TYPE " + name + " counter\n" + sample + "\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), name); err != nil {
		t.Error(err)
	}
}

func TestAckThroughMailpit(t *testing.T) {
	addr, api := testenv.SMTP(t), testenv.Mailpit(t)
	ctx := context.Background()
	s := openStore(t, testenv.NewClock(time.Now()))
	sc := smtpConfig(t, addr)
	tag := unique()
	ct := contribution(tag)
	msg, err := composer(t, sc).AckEmail(ct, ct.From.Addr)
	if err != nil {
		t.Fatal(err)
	}
	item := enqueue(t, s, msg)
	mailer, err := outbound.NewMailer(sc)
	if err != nil {
		t.Fatal(err)
	}
	w, reg := worker(s, map[model.Channel]outbound.Sender{"email": mailer})
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("run once = %d, %v", n, err)
	}

	raw, summary := mailpitRaw(t, api, ct.From.Addr)
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := mr.Header
	subject, _ := h.Subject()
	inReplyTo, _ := h.MsgIDList("In-Reply-To")
	refs, _ := h.MsgIDList("References")
	id, _ := h.MessageID()
	from, _ := h.AddressList("From")
	headers := []struct{ name, got, want string }{
		{"Subject without stacked Re:", subject, "Re: Acme pricing " + tag},
		{"In-Reply-To the original", strings.Join(inReplyTo, " "), "orig-" + tag + "@mail.example.test"},
		{"References: the original's, then its Message-ID", strings.Join(refs, " "), "root-" + tag + "@mail.example.test orig-" + tag + "@mail.example.test"},
		{"Auto-Submitted (RFC 3834)", h.Get("Auto-Submitted"), "auto-replied"},
		{"From the mailbox it arrived at", from[0].Address, "intel@example.test"},
		{"Message-ID on the configured hostname", id[strings.LastIndexByte(id, '@'):], "@earshot.example.test"},
	}
	for _, c := range headers {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		b, _ := io.ReadAll(p.Body)
		parts[ct] = string(b)
	}
	for _, want := range []string{"Thanks, Dana!", "+3  Competitive intel", "+2  First intel this month",
		"March 2026: 16 points, rank 2 of 7", "All time: 112 points", "Goal: 1 of 1 competitive nugget this month"} {
		if !strings.Contains(parts["text/plain"], want) {
			t.Errorf("text part lacks %q:\n%s", want, parts["text/plain"])
		}
	}
	if !strings.Contains(parts["text/html"], "rank 2 of 7") || !strings.Contains(parts["text/html"], "<strong>Acme</strong>") {
		t.Errorf("html part lacks the tally or the competitor:\n%s", parts["text/html"])
	}

	msgs, _ := s.ItemOutbox(ctx, item)
	if m := msgs[0]; m.State != model.OutboxSent || m.ProviderID != summary["ID"] || m.SentAt.IsZero() {
		t.Errorf("outbox row = %s, provider id %q (mailpit id %v), sent at %v", m.State, m.ProviderID, summary["ID"], m.SentAt)
	}
	metric(t, reg, "earshot_outbox_sent_total", `earshot_outbox_sent_total{channel="email"} 1`)
}

func TestNoticeThroughMailpit(t *testing.T) {
	addr, api := testenv.SMTP(t), testenv.Mailpit(t)
	ctx := context.Background()
	s := openStore(t, testenv.NewClock(time.Now()))
	sc := smtpConfig(t, addr)
	sc.Username, sc.Password = "earshot", "any" // mailpit accepts any login
	tag := unique()
	ct := contribution(tag)
	owner := config.Owner{Name: "ci-lead", Email: "ci-" + tag + "@example.test"}
	msg, err := composer(t, sc).Notice(ct, owner, ct.From.Addr)
	if err != nil {
		t.Fatal(err)
	}
	// The outbox keeps the notice without the original; the item has the
	// one copy, which the worker attaches as it sends.
	if msg.Original.At == 0 || bytes.Contains(msg.Body, ct.Item.Raw) {
		t.Errorf("notice to store: original deferred %+v, body carries it %v", msg.Original, bytes.Contains(msg.Body, ct.Item.Raw))
	}
	enqueueFor(t, s, ct.Item.Raw, msg)
	mailer, err := outbound.NewMailer(sc)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := worker(s, map[model.Channel]outbound.Sender{"email": mailer})
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("run once = %d, %v", n, err)
	}
	raw, summary := mailpitRaw(t, api, owner.Email)
	if got := attachedOriginal(t, raw); !bytes.Equal(got, ct.Item.Raw) {
		t.Errorf("delivered original = %q\nwant the item's raw %q", got, ct.Item.Raw)
	}
	if !strings.Contains(summary["Subject"].(string), "[Earshot] Intel from Dana Reyes: RE: Re: Acme pricing "+tag) {
		t.Errorf("subject = %v", summary["Subject"])
	}
	replyTo := summary["ReplyTo"].([]any)
	if len(replyTo) != 1 || replyTo[0].(map[string]any)["Address"] != ct.From.Addr {
		t.Errorf("Reply-To = %v, want the rep", replyTo)
	}
	att := summary["Attachments"].([]any)
	if len(att) != 1 || att[0].(map[string]any)["ContentType"] != "message/rfc822" {
		t.Errorf("attachments = %v, want the original as message/rfc822", att)
	}
	for _, want := range []string{"https://earshot.example.test/items/42", "Acme (\"Acme offered\")", "> Acme offered 40% off."} {
		if !strings.Contains(summary["Text"].(string), want) {
			t.Errorf("notice text lacks %q:\n%s", want, summary["Text"])
		}
	}
	if !bytes.Contains(raw, []byte("Auto-Submitted: auto-generated")) {
		t.Error("notice lacks Auto-Submitted: auto-generated")
	}
}

func TestSMTPFailures(t *testing.T) {
	ctx := context.Background()
	reject := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	later := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}

	t.Run("a 5xx answer is a permanent failure, recorded with the answer", func(t *testing.T) {
		clk := testenv.NewClock(time.Now())
		s := openStore(t, clk)
		b := &sink{rcpt: []error{reject}}
		mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b))))
		item := enqueue(t, s, model.OutboxMessage{Kind: "ack", Channel: "email", Recipient: "gone@example.test", Body: []byte("Subject: x\r\n\r\nx\r\n")})
		w, reg := worker(s, map[model.Channel]outbound.Sender{"email": mailer})
		if n, err := w.RunOnce(ctx); n != 1 || err != nil {
			t.Fatalf("run once = %d, %v", n, err)
		}
		clk.Add(2 * time.Hour)
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Errorf("a permanent failure was retried")
		}
		m, _ := s.ItemOutbox(ctx, item)
		if m[0].State != model.OutboxFailed || !strings.Contains(m[0].LastError, "550") || !strings.Contains(m[0].LastError, "no such user here") {
			t.Errorf("row = %s %q, want failed with the server's answer", m[0].State, m[0].LastError)
		}
		metric(t, reg, "earshot_outbox_failed_total", `earshot_outbox_failed_total{channel="email"} 1`)
	})

	t.Run("a 4xx answer is retried after a backoff", func(t *testing.T) {
		clk := testenv.NewClock(time.Now())
		s := openStore(t, clk)
		b := &sink{rcpt: []error{later}}
		mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b))))
		item := enqueue(t, s, model.OutboxMessage{Kind: "ack", Channel: "email", Recipient: "busy@example.test", Body: []byte("Subject: x\r\n\r\nx\r\n")})
		w, _ := worker(s, map[model.Channel]outbound.Sender{"email": mailer})
		w.RunOnce(ctx)
		m, _ := s.ItemOutbox(ctx, item)
		if m[0].State != model.OutboxPending || !strings.Contains(m[0].LastError, "451") {
			t.Fatalf("after a 451: %s %q, want pending with the answer", m[0].State, m[0].LastError)
		}
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatal("retried before the backoff")
		}
		clk.Add(2 * time.Minute)
		if n, _ := w.RunOnce(ctx); n != 1 {
			t.Fatal("not retried after the backoff")
		}
		m, _ = s.ItemOutbox(ctx, item)
		if m[0].State != model.OutboxSent || m[0].Attempts != 2 || len(b.got) != 1 {
			t.Errorf("after the retry: %s, %d attempts, %d delivered", m[0].State, m[0].Attempts, len(b.got))
		}
	})

	t.Run("a crash between send and mark sends again, never skips", func(t *testing.T) {
		clk := testenv.NewClock(time.Now())
		s := openStore(t, clk)
		b := &sink{}
		mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b))))
		item := enqueue(t, s, model.OutboxMessage{Kind: "ack", Channel: "email", Recipient: "dana@example.test", Body: []byte("Subject: x\r\n\r\nx\r\n")})
		claimed, _ := s.ClaimOutbox(ctx, "crashed", 1, time.Minute)
		if _, err := mailer.Send(ctx, claimed[0]); err != nil {
			t.Fatal(err)
		}
		// The process dies here, before marking the message sent.
		w, _ := worker(s, map[model.Channel]outbound.Sender{"email": mailer})
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatal("claimed while the lease holds")
		}
		clk.Add(61 * time.Second)
		if n, _ := w.RunOnce(ctx); n != 1 {
			t.Fatal("not sent again after the lease")
		}
		m, _ := s.ItemOutbox(ctx, item)
		if m[0].State != model.OutboxSent || len(b.got) != 2 {
			t.Errorf("%s after %d deliveries, want sent after 2", m[0].State, len(b.got))
		}
	})

	t.Run("no sender for the channel is permanent", func(t *testing.T) {
		s := openStore(t, testenv.NewClock(time.Now()))
		item := enqueue(t, s, model.OutboxMessage{Kind: "ack", Channel: "sms", Recipient: "+15555550100", Body: []byte("hi")})
		w, _ := worker(s, map[model.Channel]outbound.Sender{})
		w.RunOnce(ctx)
		m, _ := s.ItemOutbox(ctx, item)
		if m[0].State != model.OutboxFailed || !strings.Contains(m[0].LastError, `no sender for channel "sms"`) {
			t.Errorf("row = %s %q", m[0].State, m[0].LastError)
		}
	})
}

func TestSMTPAuth(t *testing.T) {
	ctx := context.Background()
	msg := model.OutboxMessage{Recipient: "dana@example.test", Body: []byte("Subject: x\r\nMessage-Id: <m1@earshot.example.test>\r\n\r\nx\r\n")}
	cases := []struct {
		name      string
		mechs     []string
		password  string
		login     string
		permanent bool
		fails     bool
	}{
		{"PLAIN when offered", []string{"PLAIN", "LOGIN"}, "secret", "PLAIN:earshot:secret", false, false},
		{"LOGIN when PLAIN is not offered", []string{"LOGIN"}, "secret", "LOGIN:earshot:secret", false, false},
		{"a refused login is temporary: a configuration problem, not the message's", []string{"PLAIN"}, "wrong", "PLAIN:earshot:wrong", false, true},
	}
	for _, c := range cases {
		b := &sink{mechs: c.mechs}
		sc := smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b)))
		sc.Username, sc.Password = "earshot", config.Secret(c.password)
		mailer, err := outbound.NewMailer(sc)
		if err != nil {
			t.Fatal(err)
		}
		id, err := mailer.Send(ctx, msg)
		if (err != nil) != c.fails || outbound.IsPermanent(err) != c.permanent {
			t.Errorf("%s: err = %v (permanent %v)", c.name, err, outbound.IsPermanent(err))
		}
		if len(b.logins) != 1 || b.logins[0] != c.login {
			t.Errorf("%s: logins = %v, want %s", c.name, b.logins, c.login)
		}
		if !c.fails && id != "m1@earshot.example.test" {
			t.Errorf("%s: provider id %q, want the Message-ID when the server gives no queue id", c.name, id)
		}
	}
}

func TestNewMailer(t *testing.T) {
	cases := []struct {
		name string
		c    config.SMTP
		ok   bool
	}{
		{"plaintext to loopback", config.SMTP{Host: "127.0.0.1", Port: 25, TLS: "none", From: "e@example.test"}, true},
		{"plaintext elsewhere is refused", config.SMTP{Host: "smtp.example.test", Port: 25, TLS: "none", From: "e@example.test"}, false},
		{"plaintext elsewhere when insecure", config.SMTP{Host: "smtp.example.test", Port: 25, TLS: "none", Insecure: true, From: "e@example.test"}, true},
		{"starttls", config.SMTP{Host: "smtp.example.test", Port: 587, TLS: "starttls", From: "Earshot <e@example.test>"}, true},
		{"a bad from", config.SMTP{Host: "smtp.example.test", Port: 587, From: "not an address"}, false},
	}
	for _, c := range cases {
		if _, err := outbound.NewMailer(c.c); (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
}

func TestContextEndsASlowSend(t *testing.T) {
	// A server that accepts the connection but never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	mailer, _ := outbound.NewMailer(smtpConfig(t, ln.Addr().String()))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = mailer.Send(ctx, model.OutboxMessage{Recipient: "a@example.test", Body: []byte("x")})
	if err == nil || outbound.IsPermanent(err) || time.Since(start) > 5*time.Second {
		t.Errorf("send = %v after %v, want a temporary error soon after the context ends", err, time.Since(start))
	}
}

// An original larger than MaxOriginalBytes is linked, not attached: the
// notice stays deliverable and small in the outbox.
func TestNoticeLinksALargeOriginal(t *testing.T) {
	sc := smtpConfig(t, "127.0.0.1:25")
	for _, tc := range []struct {
		name     string
		size     int
		attached bool
	}{
		{"at the limit", outbound.MaxOriginalBytes, true},
		{"over the limit", outbound.MaxOriginalBytes + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := contribution(unique())
			head := ct.Item.Raw
			ct.Item.Raw = append(head[:len(head):len(head)], bytes.Repeat([]byte("x"), tc.size-len(head))...)
			ct.Item.RawSize = int64(len(ct.Item.Raw))
			msg, err := composer(t, sc).Notice(ct, config.Owner{Name: "ci-lead", Email: "ci@example.test"}, "")
			if err != nil {
				t.Fatal(err)
			}
			hasOriginal := bytes.Contains(msg.Body, []byte("message/rfc822"))
			tooLarge := bytes.Contains(msg.Body, []byte("is too large to attach; it is in Earshot"))
			if hasOriginal != tc.attached || tooLarge == tc.attached {
				t.Errorf("%d-byte original: attached %v, says too large %v; want attached %v", tc.size, hasOriginal, tooLarge, tc.attached)
			}
			if !tc.attached && len(msg.Body) > 64<<10 {
				t.Errorf("notice without the original is %d bytes", len(msg.Body))
			}
			if !tc.attached && !bytes.Contains(msg.Body, []byte("(5.2 MB)")) {
				t.Errorf("notice does not give the original's size:\n%s", msg.Body[:min(len(msg.Body), 4000)])
			}
		})
	}
}

// Messages share a connection up to MaxPerConnection; a kept connection
// the server dropped costs nothing but a new one; an idle one is closed.
func TestMailerKeepsItsConnection(t *testing.T) {
	ctx := context.Background()
	body := func(i int) model.OutboxMessage {
		return model.OutboxMessage{Recipient: "dana@example.test",
			Body: []byte(fmt.Sprintf("Subject: %d\r\nMessage-ID: <m%d@earshot.example.test>\r\n\r\nx\r\n", i, i))}
	}

	t.Run("several messages, one connection", func(t *testing.T) {
		b := &sink{}
		mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b))))
		mailer.MaxPerConnection = 3
		for i := range 5 {
			if _, err := mailer.Send(ctx, body(i)); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		if conns, msgs, _ := b.counts(); conns != 2 || msgs != 5 {
			t.Fatalf("%d connections carried %d messages, want 2 for 5 (3 per connection)", conns, msgs)
		}
		mailer.Close()
		eventually(t, "both sessions ended", func() bool { _, _, closed := b.counts(); return closed == 2 })
	})

	t.Run("a connection the server dropped is replaced", func(t *testing.T) {
		b := &sink{}
		mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b))))
		defer mailer.Close()
		if _, err := mailer.Send(ctx, body(1)); err != nil {
			t.Fatal(err)
		}
		b.mu.Lock()
		first := b.conns[0]
		b.mu.Unlock()
		first.Close()
		eventually(t, "the server ended the session", func() bool { _, _, closed := b.counts(); return closed == 1 })
		if _, err := mailer.Send(ctx, body(2)); err != nil {
			t.Fatalf("send on a dropped connection: %v, want a new connection", err)
		}
		if conns, msgs, _ := b.counts(); conns != 2 || msgs != 2 {
			t.Fatalf("%d connections, %d messages; want 2 and 2", conns, msgs)
		}
	})

	t.Run("a rejected recipient does not poison the next message", func(t *testing.T) {
		reject := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
		b := &sink{rcpt: []error{nil, reject}}
		mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b))))
		defer mailer.Close()
		if _, err := mailer.Send(ctx, body(1)); err != nil {
			t.Fatal(err)
		}
		if _, err := mailer.Send(ctx, body(2)); !outbound.IsPermanent(err) {
			t.Fatalf("send to a rejected recipient = %v, want a permanent error", err)
		}
		if _, err := mailer.Send(ctx, body(3)); err != nil {
			t.Fatalf("send after a rejection: %v", err)
		}
		if _, msgs, _ := b.counts(); msgs != 2 {
			t.Fatalf("%d messages delivered, want 2", msgs)
		}
	})

	t.Run("an idle connection is closed", func(t *testing.T) {
		b := &sink{}
		mailer, _ := outbound.NewMailer(smtpConfig(t, "127.0.0.1:"+strconv.Itoa(startSink(t, b))))
		mailer.MaxIdle = 50 * time.Millisecond
		if _, err := mailer.Send(ctx, body(1)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the idle session ended", func() bool { _, _, closed := b.counts(); return closed == 1 })
		if _, err := mailer.Send(ctx, body(2)); err != nil {
			t.Fatal(err)
		}
		if conns, msgs, _ := b.counts(); conns != 2 || msgs != 2 {
			t.Fatalf("%d connections, %d messages; want 2 and 2", conns, msgs)
		}
	})
}

// attachedOriginal returns the body of a delivered message's
// message/rfc822 attachment.
func attachedOriginal(t *testing.T, raw []byte) []byte {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			t.Fatal("no message/rfc822 attachment")
		}
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := p.Header.(*mail.AttachmentHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "message/rfc822" {
				b, err := io.ReadAll(p.Body)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
	}
}
