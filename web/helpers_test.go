package web

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/decision"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testPassword is the password of the test user "maria".
const testPassword = "correct horse battery staple"

// env is a dashboard on a real store, served by a test server.
type env struct {
	st    *store.Store
	dash  *Dashboard
	srv   *httptest.Server
	clock *testenv.Clock
	cfg   *config.Config
}

// stores runs fn on a fresh SQLite file and on a fresh PostgreSQL schema.
func stores(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) { fn(t, newEnv(t, d, nil)) })
	}
}

// newEnv opens a migrated store of the dialect and serves a dashboard on
// it. The clock reads 15 March 2026, 12:00 UTC; months count in New York.
// edit may change the configuration first.
func newEnv(t *testing.T, dialect string, edit func(*config.Config)) *env {
	t.Helper()
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(t.TempDir(), "earshot.db")
	if dialect == "postgres" {
		url = testenv.Postgres(t)
	}
	clk := testenv.NewClock(time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, url, &store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Location: loc,
		Owners:   []config.Owner{{Name: "ci-team"}, {Name: "billing-pm"}},
		Web: config.Web{
			Users:          []config.User{{Name: "maria", PasswordHash: config.Secret(hash)}},
			TrustedHeader:  "X-Remote-User",
			TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7"},
		},
	}
	if edit != nil {
		edit(cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	decide, err := decision.New(ctx, cfg, st, log)
	if err != nil {
		t.Fatal(err)
	}
	decide.Now = clk.Now
	dash, err := NewDashboard(DashboardOptions{Store: st, Config: cfg, Now: clk.Now, Logger: log,
		Decisions: decide, Signer: decide.Composer.Signer})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	dash.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{st: st, dash: dash, srv: srv, clock: clk, cfg: cfg}
}

// client is a browser-like HTTP client with cookies that does not follow
// redirects, so tests see them.
func (e *env) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken returns the CSRF token of the first form on a page.
func formToken(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", body)
	}
	return m[1]
}

// get fetches path and returns the response with its body read.
func get(t *testing.T, c *http.Client, rawURL string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post submits a form and returns the response with its body read.
func post(t *testing.T, c *http.Client, rawURL string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(rawURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn logs maria in through the login form and returns her client and
// her session's CSRF token.
func (e *env) signIn(t *testing.T) (*http.Client, string) {
	t.Helper()
	c := e.client(t)
	_, page := get(t, c, e.srv.URL+"/login")
	resp, _ := post(t, c, e.srv.URL+"/login", url.Values{"csrf": {formToken(t, page)}, "name": {"maria"},
		"password": {testPassword}, "next": {"/"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d, want 303", resp.StatusCode)
	}
	_, page = get(t, c, e.srv.URL+"/")
	return c, formToken(t, page)
}

// seedReps imports reps given as "name/team" and returns their ids.
func seedReps(t *testing.T, st *store.Store, specs ...string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	var reps []model.Rep
	for i, sp := range specs {
		name, team, _ := strings.Cut(sp, "/")
		reps = append(reps, model.Rep{Name: name, Team: team, Emails: []string{strings.ToLower(strings.Fields(name)[0]) + "@example.test"}, Line: i + 2})
	}
	if _, err := st.ImportReps(ctx, reps); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, r := range reps {
		got, err := st.RepByContact(ctx, "email", r.Emails[0])
		if err != nil {
			t.Fatal(err)
		}
		ids[r.Name] = got.ID
	}
	return ids
}

// seedItem stores one raw item as a source would and completes it as
// processing would; it returns the item's id.
func seedItem(t *testing.T, st *store.Store, it model.RawItem, p model.Processed) int64 {
	t.Helper()
	ctx := context.Background()
	if err := st.EnsureSource(ctx, "test", "imap"); err != nil {
		t.Fatal(err)
	}
	if it.ContentHash == "" {
		it.ContentHash = "hash-" + it.SourceKey
	}
	if it.Raw == nil {
		it.Raw = []byte("Subject: item " + it.SourceKey + "\r\n\r\nbody\r\n")
	}
	if _, err := st.Receive(ctx, model.Batch{Source: "test", Items: []model.RawItem{it}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Claim(ctx, "test-worker", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim %s: %v %v", it.SourceKey, got, err)
	}
	if err := st.Complete(ctx, got[0].ID, "test-worker", p); err != nil {
		t.Fatal(err)
	}
	return got[0].ID
}

// ledger pays an item: reason, points pairs in one month.
func ledger(rep int64, month string, pairs ...any) []model.LedgerEntry {
	var out []model.LedgerEntry
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, model.LedgerEntry{RepID: rep, Reason: pairs[i].(string), Points: pairs[i+1].(int), Month: model.Month(month)})
	}
	return out
}

// wav returns a mono 16-bit PCM WAV file of a 440 Hz tone.
func wav(seconds float64, rate int) []byte {
	n := int(seconds * float64(rate))
	var pcm bytes.Buffer
	for i := range n {
		binary.Write(&pcm, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*440*float64(i)/float64(rate))))
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+pcm.Len()))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(pcm.Len()))
	b.Write(pcm.Bytes())
	return b.Bytes()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
