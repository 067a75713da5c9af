package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake/voicemail"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/store"
	"github.com/earshot-dev/earshot/web"
)

const listenConfig = `
database: sqlite:unused.db
http: {public_url: "https://earshot.example.test"}
mailboxes: []
smtp: {host: 127.0.0.1, port: 2525, tls: none, from: "Earshot <earshot@example.test>", hostname: earshot.example.test}
owners:
  - {name: ci-lead, email: ci@example.test}
  - {name: billing-pm, email: billing@example.test}
competitors:
  - {name: Acme}
products:
  - {name: Billing, keywords: [billing, invoice]}
route:
  owner: billing-pm
  routes:
    - {match: [category=intel], owner: ci-lead}
    # a voicemail heard too badly to have a category is still listened to
    - {match: ['category!~".+"'], owner: billing-pm}
`

// TestBrowserListenQueue walks the listen queue in Chromium, on the real
// pipeline: Dana's 8 kHz voicemail naming Acme, transcribed by pocketsphinx
// (whose model is made for 16 kHz), is processed with its transcript
// marked unreliable; it waits in the dashboard's listen queue, its page
// says to listen and its tags are provisional, and the owner's notice says
// to listen too. A manager corrects the transcript in the browser; the
// workers process the item again: it is tagged Acme and intel, routed to
// the CI lead, and leaves the queue. Screenshots go to $EARSHOT_ARTIFACTS.
func TestBrowserListenQueue(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { listenQueue(t, dialect) })
	}
}

func listenQueue(t *testing.T, dialect string) {
	ctx := context.Background()
	cfg, err := config.Parse([]byte(listenConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("listen-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Web.Users = []config.User{{Name: "maria", PasswordHash: config.Secret(hash)}}
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "earshot.db")
	if dialect == "postgres" {
		dsn = testenv.Postgres(t)
	}
	st, err := store.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportReps(ctx, []model.Rep{{Name: "Dana Reyes", Phones: []string{"+14155550101"}, Line: 2}}); err != nil {
		t.Fatal(err)
	}
	router, err := pipeline.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	awarder, err := pipeline.NewAwarder(cfg, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	workers := &pipeline.Workers{Store: st, Batch: 10, Lease: time.Minute, MaxAttempts: 3, Log: slog.New(slog.DiscardHandler),
		Processor: &pipeline.Processor{Store: st, Router: router, Awarder: awarder,
			Voicemails: &pipeline.Voicemails{Store: st, Transcriber: vmPocketsphinx(t), Router: router}}}

	// The voicemail as Twilio records it: 8 kHz mono.
	said := "Hi it's Dana from the Boston office. Acme is offering big discounts to our billing customers."
	wide := filepath.Join(t.TempDir(), "wide.wav")
	if err := os.WriteFile(wide, vmFlite(t, said), 0o600); err != nil {
		t.Fatal(err)
	}
	phone := filepath.Join(t.TempDir(), "phone.wav")
	sox := testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox")
	if b, err := exec.Command(sox, wide, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", phone).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, b)
	}
	audio, err := os.ReadFile(phone)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureSource(ctx, "twilio", "twilio"); err != nil {
		t.Fatal(err)
	}
	sid := "RE" + strings.Repeat("7", 32)
	meta, _ := json.Marshal(model.VoicemailMeta{RecordingSID: sid, From: "+14155550101", To: "+15005550006", MediaFormat: "wav",
		DateCreated: time.Now().UTC().Format(time.RFC3339), Duration: 6})
	if _, err := st.Receive(ctx, model.Batch{Source: "twilio", Items: []model.RawItem{{SourceKey: sid, Kind: "voicemail",
		ContentHash: voicemail.ContentHash(vmAccount, sid), Raw: audio, Meta: string(meta)}}}); err != nil {
		t.Fatal(err)
	}
	it := vmItem(t, st, sid)
	if n, err := workers.RunOnce(ctx, "w"); n != 1 || err != nil {
		t.Fatalf("processed %d items, %v", n, err)
	}
	d, err := st.ItemDetail(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != model.StateProcessed || d.Transcription.Unreliable != "8000 Hz audio; the recogniser's model expects 16000 Hz" {
		t.Fatalf("item %s, transcript %q unreliable %q; want processed and unreliable", d.State, d.Transcript, d.Transcription.Unreliable)
	}
	t.Logf("pocketsphinx at 8 kHz heard %q", d.Transcript)
	notices := ownerNotices(t, st, it.ID)
	if len(notices) == 0 {
		t.Fatal("no owner was told of the voicemail")
	}
	for owner, body := range notices {
		if !strings.Contains(body, "Listen to the recording: the transcript may be wrong") {
			t.Errorf("the notice to %s does not ask to listen:\n%s", owner, body)
		}
	}

	dash, err := web.NewDashboard(web.DashboardOptions{Store: st, Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	dash.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := newListenBrowser(t)
	b.do("sign in",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "maria"),
		chromedp.SendKeys(chromedp.ID("password"), "listen-pw"),
		chromedp.Click(chromedp.ID("signin")))
	b.waitFor(`document.getElementById("nav-listen") != null && document.readyState == "complete"`)
	b.do("the listen queue", chromedp.Click(chromedp.ID("nav-listen")))
	b.waitFor(`location.search.includes("listen=1") && document.readyState == "complete"`)
	queue := eval[[]string](b, `[...document.querySelectorAll("#items tr[data-id]")].map(r => r.dataset.id)`)
	if want := []string{fmt.Sprint(it.ID)}; !slices.Equal(queue, want) {
		t.Fatalf("listen queue %v, want %v", queue, want)
	}
	if got := eval[string](b, `document.querySelector("#items .badge.listen")?.textContent ?? ""`); got != "listen: transcript may be wrong" {
		t.Errorf("the row's badge says %q", got)
	}
	b.screenshot("listen-queue-" + dialect + ".png")

	b.do("open the item", chromedp.Navigate(fmt.Sprintf("%s/items/%d", srv.URL, it.ID)), chromedp.WaitVisible(chromedp.ID("unreliable")))
	if got := eval[string](b, `document.getElementById("unreliable").textContent`); !strings.Contains(got, "Listen to the recording") ||
		!strings.Contains(got, "8000 Hz audio") {
		t.Errorf("the transcript's warning says %q", got)
	}
	if !eval[bool](b, `document.getElementById("provisional") != null && document.querySelector("#transcript audio") != null`) {
		t.Error("the tags are not marked provisional, or there is no recording to listen to")
	}
	b.screenshot("listen-item-" + dialect + ".png")

	corrected := "Hi it's Dana from the Boston office. Acme is offering big discounts to our billing customers."
	b.do("correct the transcript",
		chromedp.SetValue(chromedp.CSS(`#correct textarea[name="transcript"]`), corrected),
		chromedp.Click(chromedp.CSS(`#correct button[type="submit"]`)))
	b.waitFor(`document.querySelector("p.flash[role=status]") != null && document.readyState == "complete"`)
	// The daemon's workers take the item at once; here the test runs them.
	if n, err := workers.RunOnce(ctx, "w"); n != 1 || err != nil {
		t.Fatalf("processed %d items after the correction, %v", n, err)
	}
	b.do("the corrected item", chromedp.Navigate(fmt.Sprintf("%s/items/%d", srv.URL, it.ID)), chromedp.WaitVisible(chromedp.ID("tags")))
	if eval[bool](b, `document.getElementById("unreliable") != null || document.getElementById("provisional") != null`) {
		t.Error("the corrected transcript is still shown as unreliable")
	}
	b.screenshot("listen-corrected-" + dialect + ".png")

	tags, err := st.Tags(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range tags {
		got = append(got, string(tg.Kind)+"="+tg.Value)
	}
	for _, want := range []string{"category=intel", "competitor=Acme"} {
		if !slices.Contains(got, want) {
			t.Errorf("tags after the correction %v lack %s", got, want)
		}
	}
	as, err := st.Assignments(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(as, func(a model.Assignment) bool { return a.Owner == "ci-lead" }) {
		t.Errorf("assignments after the correction %+v lack ci-lead", as)
	}
	if body, ok := ownerNotices(t, st, it.ID)["ci@example.test"]; !ok || strings.Contains(body, "Listen to the recording") {
		t.Errorf("the CI lead's notice after the correction (sent %v) still asks to listen, or is missing:\n%s", ok, body)
	}

	b.do("the queue again", chromedp.Navigate(srv.URL+"/items?listen=1"), chromedp.WaitVisible(chromedp.ID("items")))
	if n := eval[int](b, `document.querySelectorAll("#items tr[data-id]").length`); n != 0 {
		t.Errorf("%d items still wait to be listened to after the correction", n)
	}
	b.screenshot("listen-queue-empty-" + dialect + ".png")
}

// ownerNotices returns the text of the owner notices enqueued for an item,
// the last one per recipient, quoted-printable soft line breaks joined.
func ownerNotices(t *testing.T, st *store.Store, id int64) map[string]string {
	t.Helper()
	msgs, err := st.ItemOutbox(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range msgs {
		if m.Kind == model.OutboxOwnerNotice {
			out[m.Recipient] = strings.ReplaceAll(strings.ReplaceAll(string(m.Body), "=\r\n", ""), "=\n", "")
		}
	}
	return out
}

// listenBrowser is headless Chromium for one test.
type listenBrowser struct {
	t   *testing.T
	ctx context.Context
}

func newListenBrowser(t *testing.T) *listenBrowser {
	t.Helper()
	path := testenv.Binary(t, testenv.EnvChromium, "/usr/bin/chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &listenBrowser{t: t, ctx: ctx}
}

func (b *listenBrowser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](b *listenBrowser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds.
func (b *listenBrowser) waitFor(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("timed out waiting for %s", cond)
}

// screenshot saves the page to $EARSHOT_ARTIFACTS (or a temporary
// directory) and logs the path.
func (b *listenBrowser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("EARSHOT_ARTIFACTS")
	if dir == "" {
		dir = b.t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}
