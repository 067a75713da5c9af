package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/dev"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
)

const testConfig = `
database: %s
timezone: America/Los_Angeles
workers: {items: 2, batch: 5, lease: 30s}
mailboxes:
  - name: feedback
    address: feedback@example.test
    category: feedback
    imap: {host: %[2]s, port: %[3]s, tls: none, username: feedback@example.test, password: pw1, poll_interval: 1s, no_idle: true}
    contributors: {require: none}
  - name: intel
    address: intel@example.test
    category: intel
    imap: {host: %[2]s, port: %[3]s, tls: none, username: intel@example.test, password: pw2, poll_interval: 1s, no_idle: true}
    contributors: {require: none}
owners:
  - {name: ci-lead, email: ci@example.test}
  - {name: billing-pm, email: billing@example.test}
  - {name: product-ops, email: ops@example.test}
competitors:
  - {name: Acme, aliases: [Acme Corp], owner: ci-lead}
products:
  - {name: Billing, keywords: [billing, invoice], owner: billing-pm}
route:
  owner: product-ops
  routes:
    - {match: [category=intel], owner: ci-lead}
`

// tWriter sends the daemon's log to the test log, shown on failure.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func mail(from, to, subject, body string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%d.%s@example.test>\r\nDate: Tue, 03 Mar 2026 10:00:00 -0800\r\n\r\n%s\r\n",
		from, to, subject, time.Now().UnixNano(), strings.ReplaceAll(subject, " ", ""), body))
}

// daemon starts a daemon against an in-memory IMAP server and the given
// database, and stops it when the test ends.
// extra is appended to the test configuration.
func daemon(t *testing.T, dbURL, extra string) (*dev.IMAPServer, *store.Store, string) {
	t.Helper()
	return daemonWith(t, dbURL, extra, pipeline.Options{})
}

// daemonWith is daemon with options (Listener and Name are set here).
func daemonWith(t *testing.T, dbURL, extra string, opts pipeline.Options) (*dev.IMAPServer, *store.Store, string) {
	t.Helper()
	imapSrv, err := dev.StartIMAP("127.0.0.1:0", map[string]string{"feedback@example.test": "pw1", "intel@example.test": "pw2"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	host, port, _ := net.SplitHostPort(imapSrv.Addr)
	cfg, err := config.Parse([]byte(fmt.Sprintf(testConfig, dbURL, host, port)+extra), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, cfg.Database.Value(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportReps(ctx, []model.Rep{{Name: "Dana", Emails: []string{"dana@example.test"}, Line: 2}}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Listener, opts.Name = ln, "test"
	d, err := pipeline.New(cfg, st, log, &opts)
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
	return imapSrv, st, "http://" + ln.Addr().String()
}

// waitProcessed waits until every one of receipts deliveries is stored
// and the n items they make are all processed.
func waitProcessed(t *testing.T, st *store.Store, n, receipts int64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := st.StateCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var r int64
		if err := st.DB().Get(&r, `select count(*) from receipts`); err != nil {
			t.Fatal(err)
		}
		if c[model.StateProcessed] == n && len(c) == 1 && r == receipts {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, _ := st.StateCounts(context.Background())
	t.Fatalf("items not processed in time: %v (want %d processed)", c, n)
}

func tagsOf(t *testing.T, st *store.Store, id int64) (tags []string, owners []string) {
	ctx := context.Background()
	ts, err := st.Tags(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts {
		tags = append(tags, string(tg.Kind)+"="+tg.Value)
	}
	as, _ := st.Assignments(ctx, id)
	for _, a := range as {
		owners = append(owners, a.Owner)
	}
	return tags, owners
}

// Mail reaches the mailboxes, is stored, normalized, tagged and routed,
// and credited to its rep; the same mail in both mailboxes is one item.
func TestDaemonEndToEnd(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			url := "sqlite:" + filepath.Join(t.TempDir(), "e2e.db")
			if d == "postgres" {
				url = testenv.Postgres(t)
			}
			imapSrv, st, base := daemon(t, url, "")
			feedback := mail("Dana <Dana+field@example.test>", "feedback@example.test", "Invoices are confusing",
				"The customer says the billing screen hides the invoice total.")
			both := mail("dana@example.test", "feedback@example.test, intel@example.test", "Acme pricing",
				"Acme Corp offered them 40% off to switch.")
			ooo := append([]byte("Auto-Submitted: auto-replied\r\n"), mail("stranger@example.test", "intel@example.test", "Out of office", "I am away.")...)
			for _, m := range []struct {
				user string
				raw  []byte
			}{{"feedback@example.test", feedback}, {"feedback@example.test", both}, {"intel@example.test", both}, {"intel@example.test", ooo}} {
				if err := imapSrv.Append(m.user, m.raw); err != nil {
					t.Fatal(err)
				}
			}
			waitProcessed(t, st, 3, 4)
			ctx := context.Background()
			want := []struct {
				subject, tags, owners string
				rep                   bool
				auto                  string
			}{
				{"Invoices are confusing", "category=feedback product=Billing", "billing-pm", true, ""},
				{"Acme pricing", "category=feedback category=intel competitor=Acme topic=discount topic=pricing", "ci-lead", true, ""},
				{"Out of office", "", "", false, "auto-submitted: auto-replied"},
			}
			ids := map[string]int64{}
			for _, w := range want {
				var id int64
				if err := st.DB().GetContext(ctx, &id, st.DB().Rebind(`select id from items where subject = ?`), w.subject); err != nil {
					t.Fatalf("item %q: %v", w.subject, err)
				}
				ids[w.subject] = id
				it, err := st.Item(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				tags, owners := tagsOf(t, st, it.ID)
				if it.Subject != w.subject || strings.Join(tags, " ") != w.tags || strings.Join(owners, " ") != w.owners ||
					it.RepID != 0 != w.rep || it.AutoReason != w.auto {
					t.Errorf("item %d = %q tags [%s] owners [%s] rep %v auto %q;\nwant %q tags [%s] owners [%s] rep %v auto %q",
						it.ID, it.Subject, strings.Join(tags, " "), strings.Join(owners, " "), it.RepID != 0, it.AutoReason,
						w.subject, w.tags, w.owners, w.rep, w.auto)
				}
			}
			if c, _ := st.StateCounts(ctx); c[model.StateProcessed] != 3 || len(c) != 1 {
				t.Errorf("states = %v; want exactly 3 processed items for 4 deliveries", c)
			}
			mbs, _ := st.Mailboxes(ctx, ids["Acme pricing"])
			if len(mbs) != 2 {
				t.Errorf("the mail to both mailboxes has receipts %v; want both", mbs)
			}
			// The search indexer catches up behind processing (on SQLite
			// the search reads the text itself).
			deadline := time.Now().Add(10 * time.Second)
			for {
				found, _, err := st.Inbox(ctx, store.InboxQuery{Text: "billing screen"})
				if err != nil {
					t.Fatal(err)
				}
				if len(found) == 1 && found[0].ID == ids["Invoices are confusing"] {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("search for %q found %v, want item %d", "billing screen", found, ids["Invoices are confusing"])
				}
				time.Sleep(50 * time.Millisecond)
			}

			resp, err := http.Get(base + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			var ready struct {
				Status  string
				Sources []struct{ Name, State string }
			}
			json.NewDecoder(resp.Body).Decode(&ready)
			resp.Body.Close()
			if resp.StatusCode != 200 || ready.Status != "ok" || len(ready.Sources) != 2 {
				t.Errorf("/readyz = %d %+v", resp.StatusCode, ready)
			}
		})
	}
}

// An intake-only replica stores what arrives and processes nothing: no
// claim, no outbox message.
func TestDaemonIntakeOnly(t *testing.T) {
	imapSrv, st, _ := daemonWith(t, "sqlite:"+filepath.Join(t.TempDir(), "intake.db"), "", pipeline.Options{IntakeOnly: true})
	for _, user := range []string{"feedback@example.test", "intel@example.test"} {
		if err := imapSrv.Append(user, mail("dana@example.test", user, "Acme pricing "+user, "Acme Corp offered 40% off.")); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var r int64
		if err := st.DB().GetContext(ctx, &r, `select count(*) from receipts`); err != nil {
			t.Fatal(err)
		}
		if r == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 messages stored", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A processing replica's workers would have been woken by the
	// receive and claimed at once; give them more than their poll.
	time.Sleep(1500 * time.Millisecond)
	var claimed, queued int64
	if err := st.DB().GetContext(ctx, &claimed, `select count(*) from items where attempts > 0 or state <> 'received'`); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().GetContext(ctx, &queued, `select count(*) from outbox`); err != nil {
		t.Fatal(err)
	}
	if claimed != 0 || queued != 0 {
		t.Fatalf("intake-only replica: %d items claimed or processed, %d outbox rows; want none", claimed, queued)
	}
}
