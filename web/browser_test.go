package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
)

// artifactDir is where screenshots go: $EARSHOT_ARTIFACTS, or a
// temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("EARSHOT_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts headless Chromium with a profile of its own; the
// returned context has a running browser and no deadline.
func newBrowser(t *testing.T) context.Context {
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
	return ctx
}

// step runs browser actions with a deadline.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates JavaScript in the page with a deadline.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// screenshot saves the page as a PNG artifact and logs its path.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestBrowser drives the dashboard in Chromium: sign in, read the
// leaderboard, retag an item, check that a hostile subject stays text,
// and download the CSV with the browser's session.
func TestBrowser(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		ctx := newBrowser(t)
		dialect := filepath.Base(t.Name())

		// Every dialog the page opens is counted and dismissed.
		dialogs := make(chan string, 10)
		go func() {
			for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
				if err != nil {
					return
				}
				dialogs <- ev.Message
				chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}()

		step(t, ctx, "sign in",
			chromedp.Navigate(e.srv.URL+"/"),
			chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), "maria"),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(chromedp.ID("signin")),
			chromedp.WaitVisible(chromedp.ID("board")))
		names := eval[[]string](t, ctx, `[...document.querySelectorAll("#board td.name")].map(e => e.textContent.trim())`)
		ranks := eval[[]string](t, ctx, `[...document.querySelectorAll("#board td.rank")].map(e => e.textContent.trim())`)
		if want := []string{"Ana Lima", "Bo Chen", "Cy Diaz", "Di Evans"}; !slices.Equal(names, want) || !slices.Equal(ranks, []string{"1", "2", "2", "4"}) {
			t.Errorf("leaderboard = %v %v, want %v ranked 1 2 2 4", names, ranks, want)
		}
		bars := eval[int](t, ctx, `document.querySelectorAll("svg.chart g.bar").length`)
		if bars != 12 {
			t.Errorf("the chart has %d bars, want 12", bars)
		}
		screenshot(t, ctx, "leaderboard-"+dialect+".png")

		// The team filter submits itself.
		step(t, ctx, "find the team filter", chromedp.WaitVisible(chromedp.ID("team")))
		eval[bool](t, ctx, `(s => { s.value = "East"; return s.dispatchEvent(new Event("change")) })(document.getElementById("team"))`)
		waitFor(t, ctx, `location.search.includes("team=East") && document.querySelectorAll("#board td.name").length == 2`)

		// A retag moves the item from the Acme filter to the Globex one.
		listed := func(query string) bool {
			step(t, ctx, "inbox "+query, chromedp.Navigate(e.srv.URL+"/items?"+query), chromedp.WaitVisible(chromedp.ID("items")))
			return eval[bool](t, ctx, fmt.Sprintf(`document.querySelector('#items tr[data-id="%d"]') !== null`, sc.acme))
		}
		if !listed("competitor=Acme") || listed("competitor=Globex") {
			t.Fatal("before the retag the item should be listed under Acme only")
		}
		item := fmt.Sprintf("%s/items/%d", e.srv.URL, sc.acme)
		step(t, ctx, "retag",
			chromedp.Navigate(item),
			chromedp.WaitVisible(chromedp.ID("add-tag")),
			chromedp.SetValue(chromedp.ID("tag-kind"), "competitor"),
			chromedp.SendKeys(chromedp.ID("tag-value"), "Globex"),
			chromedp.Click(chromedp.ID("tag-add")))
		waitFor(t, ctx, `document.querySelector(".flash")?.textContent == "Tag added."`)
		step(t, ctx, "remove a tag", chromedp.Click(chromedp.CSS(`button[aria-label="Remove competitor Acme"]`)))
		waitFor(t, ctx, `document.querySelector(".flash")?.textContent == "Tag removed."`)
		if listed("competitor=Acme") || !listed("competitor=Globex") {
			t.Error("after the retag the item should be listed under Globex only")
		}
		step(t, ctx, "the whole inbox", chromedp.Navigate(e.srv.URL+"/items"), chromedp.WaitVisible(chromedp.ID("items")))
		screenshot(t, ctx, "inbox-"+dialect+".png")

		// The hostile subject is text, and nothing on the page opens a dialog.
		step(t, ctx, "open the item", chromedp.Navigate(item), chromedp.WaitVisible(chromedp.ID("subject")))
		if got := eval[string](t, ctx, `document.getElementById("subject").textContent`); got != xssSubject {
			t.Errorf("subject shows as %q, want the text %q", got, xssSubject)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("main script, main img").length`); n != 0 {
			t.Errorf("%d script or img elements came from message content", n)
		}
		screenshot(t, ctx, "item-"+dialect+".png")
		select {
		case msg := <-dialogs:
			t.Errorf("a dialog opened: %q", msg)
		case <-time.After(500 * time.Millisecond):
		}
		// The listener does see a dialog when one opens.
		go chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`alert("control")`))
		select {
		case msg := <-dialogs:
			if msg != "control" {
				t.Errorf("control dialog said %q", msg)
			}
		case <-time.After(5 * time.Second):
			t.Error("the dialog listener missed the control alert")
		}

		// The CSV link downloads with the browser's session.
		step(t, ctx, "back to the board", chromedp.Navigate(e.srv.URL+"/leaderboard"), chromedp.WaitVisible(chromedp.ID("board-csv")))
		link := eval[string](t, ctx, `document.getElementById("board-csv").href`)
		cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", link, nil)
		for _, ck := range cookies.Cookies {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || resp.StatusCode != 200 || len(rows) != 5 || rows[1][1] != "Ana Lima" ||
			resp.Header.Get("Content-Disposition") != "attachment; filename=leaderboard-2026-03.csv" {
			t.Errorf("CSV %s = %d %q %q, %v", link, resp.StatusCode, resp.Header.Get("Content-Disposition"), rows, err)
		}

		creditInBrowser(t, ctx, e, sc, dialect)
	})
}

// creditInBrowser is a manager's review of a stranger's item: from the
// inbox's "Waiting for review" filter to the item, credited to a rep with
// an ack; the item leaves the queue and goes back to processing.
func creditInBrowser(t *testing.T, ctx context.Context, e *env, sc scenario, dialect string) {
	t.Helper()
	step(t, ctx, "the review queue",
		chromedp.Navigate(e.srv.URL+"/items"),
		chromedp.WaitVisible(chromedp.ID("items")))
	eval[bool](t, ctx, `(c => { c.checked = true; return c.dispatchEvent(new Event("change")) })(document.querySelector('input[name="unregistered"]'))`)
	// The new page's address shows before its rows are parsed: wait until
	// it has loaded.
	waitFor(t, ctx, `location.search.includes("unregistered=1") && document.readyState == "complete"`)
	waiting := eval[[]string](t, ctx, `[...document.querySelectorAll("#items tr[data-id]")].map(r => r.dataset.id)`)
	if want := []string{fmt.Sprint(sc.billing)}; !slices.Equal(waiting, want) {
		t.Fatalf("waiting for review: items %v, want %v", waiting, want)
	}
	if badge := eval[string](t, ctx, `document.querySelector("#items td.from .badge")?.textContent ?? ""`); badge == "" {
		t.Error("the stranger's row carries no trust badge")
	}
	screenshot(t, ctx, "review-queue-"+dialect+".png")

	item := fmt.Sprintf("%s/items/%d", e.srv.URL, sc.billing)
	step(t, ctx, "open the waiting item", chromedp.Navigate(item), chromedp.WaitVisible(chromedp.ID("sender")))
	if got := eval[string](t, ctx, `document.querySelector("#sender p.muted")?.textContent ?? ""`); !strings.Contains(got, "earns no points") {
		t.Errorf("the sender section says %q, want why the item earns nothing", got)
	}
	ana := sc.reps["Ana Lima"]
	step(t, ctx, "credit to Ana Lima with an ack",
		chromedp.SetValue(chromedp.CSS(`#credit select[name="rep"]`), fmt.Sprint(ana)),
		chromedp.Click(chromedp.CSS(`#credit input[name="ack"]`)))
	screenshot(t, ctx, "credit-form-"+dialect+".png")
	step(t, ctx, "submit the credit", chromedp.Click(chromedp.CSS(`#credit button[type="submit"]`)))
	waitFor(t, ctx, `document.querySelector(".flash")?.textContent.startsWith("Credited")`)
	if got := eval[string](t, ctx, `document.getElementById("review")?.textContent ?? ""`); !strings.HasPrefix(got, "Credited to Ana Lima with an ack by maria") ||
		!strings.HasSuffix(got, "The item waits to be processed again.") {
		t.Errorf("after the credit the sender section says %q", got)
	}
	screenshot(t, ctx, "credited-"+dialect+".png")

	r, ok, err := e.st.ItemReview(context.Background(), sc.billing)
	if err != nil || !ok || r.Verdict != model.ReviewCredit || r.RepID != ana || !r.SendAck || r.Actor != "maria" {
		t.Fatalf("stored review %+v %v %v, want a credit to Ana Lima with an ack by maria", r, ok, err)
	}
	if it, _ := e.st.Item(context.Background(), sc.billing); it.State != model.StateReceived {
		t.Errorf("the credited item is %s, want received (processed again for the rep)", it.State)
	}
	step(t, ctx, "the queue again", chromedp.Navigate(e.srv.URL+"/items?unregistered=1"), chromedp.WaitVisible(chromedp.ID("items")))
	if n := eval[int](t, ctx, `document.querySelectorAll("#items tr[data-id]").length`); n != 0 {
		t.Errorf("%d items still wait for review after the credit", n)
	}
}

// waitFor polls a JavaScript condition until it holds.
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", cond)
}
