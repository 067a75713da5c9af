package web

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
)

var (
	boardName = regexp.MustCompile(`<td class="name"><a href="/reps/\d+">([^<]+)</a>`)
	boardRank = regexp.MustCompile(`<td class="num rank">(\d+)</td>`)
	boardDiff = regexp.MustCompile(`<td class="num change">(?:<span class="\w+">)([^<]+)</span>`)
	inboxRow  = regexp.MustCompile(`<tr data-id="(\d+)">`)
)

// board reads the leaderboard table of a page: names, ranks and changes.
func board(page string) (names, ranks, diffs []string) {
	for _, m := range boardName.FindAllStringSubmatch(page, -1) {
		names = append(names, m[1])
	}
	for _, m := range boardRank.FindAllStringSubmatch(page, -1) {
		ranks = append(ranks, m[1])
	}
	for _, m := range boardDiff.FindAllStringSubmatch(page, -1) {
		diffs = append(diffs, html.UnescapeString(m[1]))
	}
	return names, ranks, diffs
}

// inboxIDs reads the item ids listed on an inbox page.
func inboxIDs(page string) []string {
	var out []string
	for _, m := range inboxRow.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestLeaderboardPage(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		seedScenario(t, e.st)
		c, _ := e.signIn(t)
		cases := []struct {
			name, path  string
			names       []string
			ranks       []string
			diffs       []string
			contains    []string
			notContains []string
		}{
			{"this month by default; ties share a rank", "/",
				[]string{"Ana Lima", "Bo Chen", "Cy Diaz", "Di Evans"}, []string{"1", "2", "2", "4"},
				[]string{"new", "+3", "new", "−6"}, []string{"March 2026", "<svg class=\"chart\"", "4 reps"}, nil},
			{"a team ranks among itself", "/leaderboard?month=2026-03&team=East",
				[]string{"Cy Diaz", "Di Evans"}, []string{"1", "2"}, []string{"new", "−6"}, []string{"team East"}, []string{"Ana Lima"}},
			{"an earlier month", "/leaderboard?month=2026-02",
				[]string{"Di Evans", "Bo Chen"}, []string{"1", "2"}, []string{"new", "new"}, []string{"February 2026", "March 2026 →"}, nil},
			{"a month without points", "/leaderboard?month=2025-06", nil, nil, nil, []string{"No points in June 2025"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp, page := get(t, c, e.srv.URL+tc.path)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s = %d", tc.path, resp.StatusCode)
				}
				names, ranks, diffs := board(page)
				if !slices.Equal(names, tc.names) || !slices.Equal(ranks, tc.ranks) || !slices.Equal(diffs, tc.diffs) {
					t.Errorf("board = %v %v %v, want %v %v %v", names, ranks, diffs, tc.names, tc.ranks, tc.diffs)
				}
				for _, s := range tc.contains {
					if !strings.Contains(page, s) {
						t.Errorf("page lacks %q", s)
					}
				}
				for _, s := range tc.notContains {
					if strings.Contains(page, s) {
						t.Errorf("page shows %q", s)
					}
				}
			})
		}
		if resp, _ := get(t, c, e.srv.URL+"/leaderboard?month=2026-13"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("month 2026-13 = %d, want 400", resp.StatusCode)
		}
	})
}

// TestDefaultMonthInConfiguredZone: at 02:00 UTC on 1 April it is still
// 31 March in New York, the configured zone.
func TestDefaultMonthInConfiguredZone(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	seedScenario(t, e.st)
	e.clock.Add(time.Date(2026, 4, 1, 2, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
	c, _ := e.signIn(t)
	_, page := get(t, c, e.srv.URL+"/")
	if !strings.Contains(page, "<h1>Leaderboard <span class=\"muted\">March 2026</span></h1>") {
		t.Errorf("the default month is not March 2026:\n%s", page)
	}
}

func TestPages(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		c, _ := e.signIn(t)
		cases := []struct {
			name, path string
			code       int
			contains   []string
		}{
			{"rep with history and the adjustment's reason", fmt.Sprintf("/reps/%d", sc.reps["Cy Diaz"]), 200,
				[]string{"Cy Diaz", "Adjustment: trade show leads", "<td>lee</td>", "Product feedback", "March 2026"}},
			{"rep paid with a bonus", fmt.Sprintf("/reps/%d", sc.reps["Ana Lima"]), 200,
				[]string{"First intel this month", "Competitive intel", "All-time points</dt><dd>10</dd>"}},
			{"unknown rep", "/reps/99999", 404, nil},
			{"inbox", "/items", 200, []string{"Billing page is confusing", "unregistered", "billing-pm", "1 untriaged"}},
			{"item: folded quote and forward, evidence, route, ack and points", fmt.Sprintf("/items/%d", sc.acme), 200,
				[]string{"<details class=\"forwarded\"><summary>Forwarded message: Acme quote — from pat@customer.test",
					"Acme quoted us 40% below your price.", "<summary>Quoted text</summary>", "&gt; When is the renewal?",
					"<q>Acme</q>", "competitor=Acme → ci-team", "Thanks for the intel", `<span class="state sent">sent</span>`, "id smtp-42", "First intel this month",
					"<th class=\"num\">10</th>", "counts in March 2026"}},
			{"voicemail: player and transcript", fmt.Sprintf("/items/%d", sc.voicemail), 200,
				[]string{fmt.Sprintf(`<audio controls preload="metadata" src="/items/%d/audio">`, sc.voicemail),
					"Customer says the Acme price is lower.", "confidence 82%", "Correct the transcript"}},
			{"suppressed ack with its reason", fmt.Sprintf("/items/%d", sc.billing), 200,
				[]string{"suppressed", "sender is not a registered rep", "the sender is not a registered rep"}},
			{"voicemail to email plays its attachment", fmt.Sprintf("/items/%d", sc.pbxMail), 200,
				[]string{fmt.Sprintf(`src="/items/%d/audio"`, sc.pbxMail), "message.wav", "Type the transcript"}},
			{"unknown item", "/items/99999", 404, nil},
			{"not an item id", "/items/abc", 404, nil},
			{"outbox", "/outbox", 200, []string{"Thanks for the intel", "sender is not a registered rep"}},
			{"outbox by state", "/outbox?state=suppressed", 200, []string{"sender is not a registered rep"}},
			{"outbox with a bad state", "/outbox?state=lost", 400, nil},
			{"quarantine", "/quarantine", 200, []string{"Nothing in quarantine"}},
			{"sources", "/sources", 200, []string{"test", "imap"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp, page := get(t, c, e.srv.URL+tc.path)
				if resp.StatusCode != tc.code {
					t.Fatalf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.code)
				}
				for _, s := range tc.contains {
					if !strings.Contains(page, s) {
						t.Errorf("page lacks %q", s)
					}
				}
			})
		}
	})
}

func TestInboxFilters(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		c, _ := e.signIn(t)
		id := func(n int64) string { return fmt.Sprint(n) }
		cases := []struct {
			query string
			want  []string
		}{
			{"competitor=Acme", []string{id(sc.acme)}},
			{"category=intel", []string{id(sc.voicemail), id(sc.acme)}},
			{"product=Billing&category=feedback", []string{id(sc.billing)}},
			{"owner=billing-pm", []string{id(sc.billing)}},
			{"unregistered=1", []string{id(sc.billing)}},
			{"q=invoice", []string{id(sc.billing)}},
			{"q=globex", []string{id(sc.acme)}},
			{"q=%22acme+price%22&category=intel", []string{id(sc.voicemail)}},
			{"state=quarantined", nil},
		}
		for _, tc := range cases {
			resp, page := get(t, c, e.srv.URL+"/items?"+tc.query)
			if got := inboxIDs(page); resp.StatusCode != 200 || !slices.Equal(got, tc.want) {
				t.Errorf("/items?%s = %d %v, want %v", tc.query, resp.StatusCode, got, tc.want)
			}
		}
		if resp, _ := get(t, c, e.srv.URL+"/items?state=lost"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown state = %d, want 400", resp.StatusCode)
		}
		if resp, _ := get(t, c, e.srv.URL+"/items?after=garbage"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("bad cursor = %d, want 400", resp.StatusCode)
		}
	})
}

// TestInboxPages pages through more items than a page holds.
func TestInboxPages(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	seedScenario(t, e.st)
	for i := range inboxPageSize {
		seedItem(t, e.st, model.RawItem{SourceKey: fmt.Sprintf("9:%d", i), Kind: "email",
			ReceivedAt: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)}, model.Processed{Subject: fmt.Sprintf("old item %d", i)})
	}
	c, _ := e.signIn(t)
	_, first := get(t, c, e.srv.URL+"/items")
	next := regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next">`).FindStringSubmatch(first)
	if next == nil {
		t.Fatal("no link to the next page")
	}
	_, second := get(t, c, e.srv.URL+strings.ReplaceAll(next[1], "&amp;", "&"))
	a, b := inboxIDs(first), inboxIDs(second)
	if len(a) != inboxPageSize || len(b) != 7 {
		t.Fatalf("pages of %d and %d items, want %d and 7", len(a), len(b), inboxPageSize)
	}
	for _, x := range b {
		if slices.Contains(a, x) {
			t.Errorf("item %s is on both pages", x)
		}
	}
}

// TestEscaping: message content is text, never markup.
func TestEscaping(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	sc := seedScenario(t, e.st)
	c, _ := e.signIn(t)
	for _, path := range []string{fmt.Sprintf("/items/%d", sc.acme), "/items", "/items?q=acme"} {
		_, page := get(t, c, e.srv.URL+path)
		for _, bad := range []string{"<script>alert", "<img src=x", "<b>not bold</b>", "onerror=alert(2)>"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s contains the markup %q", path, bad)
			}
		}
		if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt; Acme cuts prices") {
			t.Errorf("%s does not show the subject as text", path)
		}
	}
}

// TestSecurityHeaders: every page forbids inline script and framing, and
// carries no inline script or style that the policy would block.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	sc := seedScenario(t, e.st)
	c, _ := e.signIn(t)
	// Escaped text holds no "<", so a match is real markup.
	inline := regexp.MustCompile(`<script(?: [^>]*)?>[^<]|<script>|<[a-zA-Z][^>]*\s(?:style|on[a-z]+)=`)
	for _, path := range []string{"/", "/items", fmt.Sprintf("/items/%d", sc.acme), fmt.Sprintf("/reps/%d", sc.reps["Cy Diaz"]),
		"/outbox", "/quarantine", "/sources", "/login"} {
		resp, page := get(t, c, e.srv.URL+path)
		h := resp.Header
		for k, want := range map[string]string{
			"Content-Security-Policy": "script-src 'self'", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
		} {
			if !strings.Contains(h.Get(k), want) {
				t.Errorf("%s: %s = %q, want %q", path, k, h.Get(k), want)
			}
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: no frame-ancestors in %q", path, h.Get("Content-Security-Policy"))
		}
		if m := inline.FindString(page); m != "" {
			t.Errorf("%s has inline script or style: %q", path, m)
		}
	}
}
