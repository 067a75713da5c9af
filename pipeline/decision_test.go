package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/dev"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
)

// hookReceiver is a webhook endpoint that answers 500 to its first
// delivery and 200 to the rest, and checks every signature with the
// Standard Webhooks reference library.
type hookReceiver struct {
	mu         sync.Mutex
	srv        *httptest.Server
	verify     *standardwebhooks.Webhook
	deliveries []hookDelivery
}

type hookDelivery struct {
	ID, Type string
	Status   int
	SigErr   error
	Body     []byte
}

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func newHookReceiver(t *testing.T) *hookReceiver {
	wh, err := standardwebhooks.NewWebhook(hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	h := &hookReceiver{verify: wh}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct{ Type string }
		json.Unmarshal(body, &ev)
		h.mu.Lock()
		defer h.mu.Unlock()
		d := hookDelivery{ID: r.Header.Get("webhook-id"), Type: ev.Type, Status: http.StatusOK,
			SigErr: h.verify.Verify(body, r.Header), Body: body}
		if len(h.deliveries) == 0 {
			d.Status = http.StatusInternalServerError
		}
		h.deliveries = append(h.deliveries, d)
		w.WriteHeader(d.Status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) got() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookDelivery(nil), h.deliveries...)
}

// decisionDaemon starts a daemon whose owner replies reach the feedback
// mailbox, with quality points and a webhook endpoint; failed messages
// are retried after 100 ms.
func decisionDaemon(t *testing.T, dbURL, extra string, check pipeline.SenderCheck) (*dev.IMAPServer, *store.Store, *dev.SMTPCapture) {
	t.Helper()
	sink, err := dev.StartSMTP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	_, smtpPort, _ := strings.Cut(sink.Addr, ":")
	imapSrv, err := dev.StartIMAP("127.0.0.1:0", map[string]string{"feedback@example.test": "pw1", "intel@example.test": "pw2"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	host, port, _ := net.SplitHostPort(imapSrv.Addr)
	cfg, err := config.Parse([]byte(fmt.Sprintf(testConfig, dbURL, host, port)+fmt.Sprintf(`
smtp: {host: 127.0.0.1, port: %s, tls: none, from: "Earshot <earshot@example.test>", hostname: earshot.example.test}
acks: {enabled: true}
http: {public_url: "https://earshot.example.test"}
decisions:
  reply_to: feedback@example.test
  points: {planned: 5, shipped: 10}
`, smtpPort)+extra), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, cfg.Database.Value(), &store.Options{Backoff: func(int) time.Duration { return 100 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportReps(ctx, []model.Rep{{Name: "Dana Reyes", Emails: []string{"dana@example.test"}, Line: 2}}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := pipeline.New(cfg, st, log, &pipeline.Options{Listener: ln, Name: "test", SenderCheck: check})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		st.Close()
	})
	return imapSrv, st, sink
}

// reply is a reply to the notice from one address, with the given
// In-Reply-To (empty for none) and text.
func reply(from, to, inReplyTo, text string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: Re: [Earshot] Feedback from Dana Reyes\r\nMessage-ID: <r%d@example.test>\r\n", from, to, time.Now().UnixNano())
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", inReplyTo, inReplyTo)
	}
	fmt.Fprintf(&b, "Date: Wed, 04 Mar 2026 10:00:00 -0800\r\n\r\n%s\r\n\r\n> Dana Reyes wrote:\r\n> the billing screen\r\n", text)
	return []byte(b.String())
}

// The loop closes: an item's owner notice carries a token; the owner's
// reply "shipped: in 4.2" sets the status; the rep hears of it with the
// bonus; the leaderboard's quality column shows it; a webhook endpoint
// gets item.processed and item.status_changed, signed, and a delivery it
// answered 500 is retried. Replies from someone else, without the token
// or with a forged one change nothing.
func TestDecisionLoop(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			url := "sqlite:" + filepath.Join(t.TempDir(), "decide.db")
			if d == "postgres" {
				url = testenv.Postgres(t)
			}
			hooks := newHookReceiver(t)
			imapSrv, st, sink := decisionDaemon(t, url, fmt.Sprintf(`
webhooks:
  max_attempts: 5
  endpoints:
    - {name: jira, url: %q, secret: %q}
`, hooks.srv.URL, hookSecret), nil)
			ctx := context.Background()

			if err := imapSrv.Append("feedback@example.test", mail("Dana Reyes <dana@example.test>", "feedback@example.test",
				"Invoices are confusing", "The customer says the billing screen hides the invoice total.")); err != nil {
				t.Fatal(err)
			}
			notice := waitMail(t, sink, "billing@example.test", 1)
			mr, err := gomail.CreateReader(bytes.NewReader(notice.Raw))
			if err != nil {
				t.Fatal(err)
			}
			noticeID, _ := mr.Header.MessageID()
			replyTo, _ := mr.Header.AddressList("Reply-To")
			if !strings.HasPrefix(noticeID, "notice.1.") || len(replyTo) != 1 || !strings.HasPrefix(replyTo[0].Address, "feedback+n1.") {
				t.Fatalf("notice Message-ID %q, Reply-To %v: want the item's token in both", noticeID, replyTo)
			}
			t.Logf("owner notice: Message-ID <%s>, Reply-To %s", noticeID, replyTo[0].Address)
			var item int64 = 1
			to := replyTo[0].Address
			forged := noticeID[:len("notice.1.")] + "aaaaaaaaaaaaaaaa@earshot.example.test"

			// Someone else replies with the token; the owner replies
			// without it, and with a forged one: nothing changes.
			for _, raw := range [][]byte{
				reply("mallory@example.test", to, noticeID, "declined: not happening"),
				reply("Billing PM <billing@example.test>", "feedback@example.test", "", "declined: no token"),
				reply("Billing PM <billing@example.test>", "feedback@example.test", forged, "declined: forged token"),
			} {
				if err := imapSrv.Append("feedback@example.test", raw); err != nil {
					t.Fatal(err)
				}
			}
			waitProcessed(t, st, 4, 4)
			if s, err := st.ItemStatus(ctx, item); err != nil || s.Status != model.StatusNew {
				t.Fatalf("after replies from someone else or without a valid token, status = %+v, %v; want new", s, err)
			}
			if h, _ := st.StatusHistory(ctx, item); len(h) != 0 {
				t.Fatalf("history = %+v; want none", h)
			}
			t.Log("replies from mallory@, and from the owner without the token or with a forged one: status stays new, no history")

			// The owner replies for real.
			if err := imapSrv.Append("feedback@example.test", reply("Billing PM <billing@example.test>", to, noticeID,
				"shipped: in 4.2\r\n\r\nThanks Dana, that was a good catch.")); err != nil {
				t.Fatal(err)
			}
			waitProcessed(t, st, 5, 5)
			s, err := st.ItemStatus(ctx, item)
			if err != nil || s.Status != model.StatusShipped || s.Note != "in 4.2" || s.Actor != "billing-pm" || s.Via != model.ViaReply {
				t.Fatalf("status = %+v, %v; want shipped: in 4.2 by billing-pm via reply", s, err)
			}
			var replyItem model.Item
			if replyItem, err = st.Item(ctx, 5); err != nil || !strings.HasPrefix(replyItem.AutoReason, pipeline.AutoDecision+"1: shipped") {
				t.Fatalf("the reply item = %q, %v; want it kept as the owner's decision, not a contribution", replyItem.AutoReason, err)
			}
			if tags, owners := tagsOf(t, st, 5); len(tags)+len(owners) != 0 {
				t.Errorf("the reply was tagged %v and routed to %v", tags, owners)
			}
			t.Logf("owner reply: status %s (%q) by %s via %s; reply kept as %q", s.Status, s.Note, s.Actor, s.Via, replyItem.AutoReason)

			// Dana hears of it, with the bonus.
			deadline := time.Now().Add(15 * time.Second)
			var note dev.Captured
			for note.Raw == nil {
				for _, m := range mailTo(sink, "dana@example.test") {
					if strings.HasPrefix(m.Subject, "Shipped:") {
						note = m
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no shipped note to dana; dana got %d messages", len(mailTo(sink, "dana@example.test")))
				}
				time.Sleep(50 * time.Millisecond)
			}
			nr, _ := gomail.CreateReader(bytes.NewReader(note.Raw))
			p, err := nr.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			text, _ := io.ReadAll(p.Body)
			for _, want := range []string{"It shipped. (billing-pm)", "Note: in 4.2", "10 quality points", "https://earshot.example.test/me/"} {
				if !strings.Contains(string(text), want) {
					t.Errorf("the note to dana lacks %q:\n%s", want, text)
				}
			}
			t.Logf("note to dana: %s\n%s", note.Subject, text)

			// The leaderboard's quality column.
			board, err := st.Leaderboard(ctx, model.BoardQuery{Month: model.MonthOf(time.Now(), time.UTC)})
			if err != nil || len(board) != 1 || board[0].Quality != 10 || board[0].Name != "Dana Reyes" {
				t.Fatalf("leaderboard = %+v, %v; want Dana with quality 10", board, err)
			}
			t.Logf("leaderboard: %s %d points, quality %d", board[0].Name, board[0].Points, board[0].Quality)

			// The webhook endpoint got both events, signed, and the
			// delivery it refused came again with the same id.
			deadline = time.Now().Add(20 * time.Second)
			for {
				got := hooks.got()
				types := map[string]int{}
				for _, g := range got {
					if g.Status == http.StatusOK {
						types[g.Type]++
					}
				}
				if types["item.processed"] == 1 && types["item.status_changed"] == 1 {
					for _, g := range got {
						if g.SigErr != nil {
							t.Errorf("delivery %s (%s): signature does not verify: %v", g.ID, g.Type, g.SigErr)
						}
						t.Logf("webhook delivery %s %s -> HTTP %d, signature ok %v", g.ID, g.Type, g.Status, g.SigErr == nil)
					}
					if got[0].Status != 500 || got[1].ID != got[0].ID || len(got) != 3 {
						t.Errorf("deliveries = %+v; want the first answered 500 and retried with the same id", got)
					}
					var ev struct {
						Data struct {
							Item struct {
								ID       int64
								Status   string
								Products []string
								Owners   []string
							}
							Change struct{ Status, Previous, Note, Actor, Via string }
						}
					}
					json.Unmarshal(got[2].Body, &ev)
					if ev.Data.Item.ID != 1 || ev.Data.Change.Status != "shipped" || ev.Data.Change.Note != "in 4.2" ||
						ev.Data.Change.Via != "reply" || strings.Join(ev.Data.Item.Owners, ",") != "billing-pm" {
						t.Errorf("status_changed = %s", got[2].Body)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("webhook deliveries = %+v; want item.processed and item.status_changed delivered", got)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// A reply with the notice's token from the owner's address that does not
// verify (no DKIM signature) changes nothing: it is processed as any mail.
func TestDecisionReplyUnverified(t *testing.T) {
	imapSrv, st, sink := decisionDaemon(t, "sqlite:"+filepath.Join(t.TempDir(), "unverified.db"), "",
		verdicts{"dana@example.test": {Verified: true, Reason: "dkim=pass (example.test, aligned)"}})
	ctx := context.Background()
	if err := imapSrv.Append("feedback@example.test", mail("Dana Reyes <dana@example.test>", "feedback@example.test",
		"Invoices are confusing", "The customer says the billing screen hides the invoice total.")); err != nil {
		t.Fatal(err)
	}
	notice := waitMail(t, sink, "billing@example.test", 1)
	mr, err := gomail.CreateReader(bytes.NewReader(notice.Raw))
	if err != nil {
		t.Fatal(err)
	}
	noticeID, _ := mr.Header.MessageID()
	replyTo, _ := mr.Header.AddressList("Reply-To")
	if err := imapSrv.Append("feedback@example.test", reply("Billing PM <billing@example.test>", replyTo[0].Address, noticeID,
		"shipped: in 4.2")); err != nil {
		t.Fatal(err)
	}
	waitProcessed(t, st, 2, 2)
	if s, err := st.ItemStatus(ctx, 1); err != nil || s.Status != model.StatusNew {
		t.Fatalf("status after an unverified reply = %+v, %v; want new", s, err)
	}
	it, err := st.Item(ctx, 2)
	if err != nil || it.AutoReason != "" || it.Trust != model.TrustStranger {
		t.Fatalf("the unverified reply = auto %q trust %q, %v; want an ordinary stranger's mail", it.AutoReason, it.Trust, err)
	}
	t.Logf("unverified owner reply: status stays new; the reply is item %d, trust %s (%s)", it.ID, it.Trust, it.TrustReason)
}
