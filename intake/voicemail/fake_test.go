package voicemail

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/store"
)

// Test credentials: twilio-go wants letters and digits only.
const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "secrettoken42"
)

// sid makes a Twilio-shaped SID: prefix and 32 hex digits.
func sid(prefix string, n int) string { return fmt.Sprintf("%s%032x", prefix, n) }

// fakeTwilio is a small stateful stand-in for the parts of Twilio's REST
// API the source uses. Prism checks the requests against Twilio's spec but
// cannot change state; this fake lets a test add recordings, finish them,
// fail downloads and watch deletions. Its answers have the spec's shape.
type fakeTwilio struct {
	t   *testing.T
	srv *httptest.Server

	mu             sync.Mutex
	recordings     map[string]*fakeRecording
	calls          map[string][2]string   // call sid → from, to
	mediaFailures  map[string][]int       // recording sid → statuses to answer before the audio
	transcriptions map[string][][2]string // recording sid → successive (status, text) answers
	deleteFailures map[string]int         // recording sid → 500s before a delete works
	hits           map[string]int         // "METHOD kind" → count
	queries        []url.Values           // of the recording listings
}

type fakeRecording struct {
	sid, call, status string
	created           time.Time
	audio             []byte
	deleted           bool
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t, recordings: map[string]*fakeRecording{}, calls: map[string][2]string{},
		mediaFailures: map[string][]int{}, transcriptions: map[string][][2]string{},
		deleteFailures: map[string]int{}, hits: map[string]int{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// add makes a recording of a call from caller with the given audio.
func (f *fakeTwilio) add(n int, status string, created time.Time, caller string, audio []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs, cs := sid("RE", n), sid("CA", n)
	f.recordings[rs] = &fakeRecording{sid: rs, call: cs, status: status, created: created.UTC(), audio: audio}
	f.calls[cs] = [2]string{caller, "+15005550006"}
	return rs
}

func (f *fakeTwilio) setStatus(rs, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recordings[rs].status = status
}

func (f *fakeTwilio) hit(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[key]
}

func (f *fakeTwilio) isDeleted(rs string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recordings[rs].deleted
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != testAccount || p != testToken {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	prefix := "/2010-04-01/Accounts/" + testAccount + "/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case r.Method == "GET" && rest == "Recordings.json":
		f.hits["GET list"]++
		f.list(w, r)
	case len(parts) == 2 && parts[0] == "Recordings" && (strings.HasSuffix(parts[1], ".wav") || strings.HasSuffix(parts[1], ".mp3")):
		f.hits["GET media"]++
		f.media(w, strings.TrimSuffix(strings.TrimSuffix(parts[1], ".wav"), ".mp3"))
	case len(parts) == 2 && parts[0] == "Recordings" && r.Method == "GET":
		f.hits["GET recording"]++
		if rec := f.recordings[strings.TrimSuffix(parts[1], ".json")]; rec != nil && !rec.deleted {
			writeJSON(w, http.StatusOK, recordingJSON(rec))
			return
		}
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	case len(parts) == 2 && parts[0] == "Recordings" && r.Method == "DELETE":
		f.hits["DELETE recording"]++
		rs := strings.TrimSuffix(parts[1], ".json")
		if f.deleteFailures[rs] > 0 {
			f.deleteFailures[rs]--
			twilioError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
			return
		}
		if rec := f.recordings[rs]; rec != nil && !rec.deleted {
			rec.deleted = true
			w.WriteHeader(http.StatusNoContent)
			return
		}
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	case len(parts) == 3 && parts[0] == "Recordings" && parts[2] == "Transcriptions.json":
		f.hits["GET transcriptions"]++
		f.transcription(w, parts[1])
	case len(parts) == 2 && parts[0] == "Calls":
		f.hits["GET call"]++
		c, ok := f.calls[strings.TrimSuffix(parts[1], ".json")]
		if !ok {
			twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"sid": strings.TrimSuffix(parts[1], ".json"),
			"account_sid": testAccount, "from": c[0], "to": c[1], "caller_name": "DANA", "direction": "inbound",
			"status": "completed"})
	default:
		f.t.Errorf("fake twilio: unexpected %s %s", r.Method, r.URL)
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	}
}

// list answers a recordings listing: newest first, filtered by whole GMT
// days as Twilio does, paged with PageSize, Page and PageToken.
func (f *fakeTwilio) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.queries = append(f.queries, q)
	var since time.Time
	if v := q.Get("DateCreated>"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f.t.Errorf("DateCreated> %q: %v", v, err)
		}
		since = t.UTC().Truncate(24 * time.Hour)
	}
	var recs []*fakeRecording
	for _, rec := range f.recordings {
		if !rec.deleted && !rec.created.Before(since) {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].created.After(recs[j].created) })
	size, _ := strconv.Atoi(q.Get("PageSize"))
	if size <= 0 {
		size = 50
	}
	page, _ := strconv.Atoi(q.Get("Page"))
	if page > 0 && !strings.HasPrefix(q.Get("PageToken"), "PA") {
		f.t.Errorf("page %d asked without the page token", page)
	}
	start := min(page*size, len(recs))
	end := min(start+size, len(recs))
	out := []map[string]any{}
	for _, rec := range recs[start:end] {
		out = append(out, recordingJSON(rec))
	}
	var next any
	if end < len(recs) {
		v := url.Values{"PageSize": {strconv.Itoa(size)}, "Page": {strconv.Itoa(page + 1)}, "PageToken": {"PA" + recs[end-1].sid}}
		if s := q.Get("DateCreated>"); s != "" {
			v.Set("DateCreated>", s)
		}
		next = r.URL.Path + "?" + v.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"recordings": out, "page": page, "page_size": size,
		"next_page_uri": next, "uri": r.URL.RequestURI(), "first_page_uri": r.URL.Path})
}

func (f *fakeTwilio) media(w http.ResponseWriter, rs string) {
	if fails := f.mediaFailures[rs]; len(fails) > 0 {
		f.mediaFailures[rs] = fails[1:]
		http.Error(w, http.StatusText(fails[0]), fails[0])
		return
	}
	rec := f.recordings[rs]
	if rec == nil || rec.deleted {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "audio/x-wav")
	w.Write(rec.audio)
}

func (f *fakeTwilio) transcription(w http.ResponseWriter, rs string) {
	var list []map[string]any
	if answers := f.transcriptions[rs]; len(answers) > 0 {
		a := answers[0]
		if len(answers) > 1 {
			f.transcriptions[rs] = answers[1:]
		}
		list = append(list, map[string]any{"sid": sid("TR", 1), "recording_sid": rs, "account_sid": testAccount,
			"status": a[0], "transcription_text": a[1], "date_created": time.Now().UTC().Format(time.RFC1123Z)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"transcriptions": list, "page": 0, "page_size": 20, "next_page_uri": nil})
}

func recordingJSON(rec *fakeRecording) map[string]any {
	return map[string]any{"sid": rec.sid, "account_sid": testAccount, "call_sid": rec.call, "status": rec.status,
		"date_created": rec.created.Format(time.RFC1123Z), "duration": "4", "channels": 1, "source": "RecordVerb",
		"media_url": "https://api.twilio.com/2010-04-01/Accounts/" + testAccount + "/Recordings/" + rec.sid}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func twilioError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status})
}

// openStore opens a migrated SQLite store in the test's directory.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "earshot.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// testConfig is a source configuration aimed at api.
func testConfig(api string) Config {
	return Config{AccountSID: testAccount, AuthToken: testToken, APIURL: api, PhoneNumber: "+15005550006",
		PublicURL: "https://earshot.example.com", PollInterval: time.Second}
}

// newTestSource makes a source on a fresh store aimed at the fake.
func newTestSource(t *testing.T, f *fakeTwilio, cfg Config, opts *Options) (*Source, *store.Store) {
	t.Helper()
	st := openStore(t)
	client, err := NewClient(cfg, &ClientOptions{MediaRetryWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Client = client
	o.Logger = slog.New(slog.DiscardHandler)
	src, err := New("twilio", cfg, st, &o)
	if err != nil {
		t.Fatal(err)
	}
	return src, st
}

// speech reads a file of the shared speech corpus.
func speech(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "corpora", "speech", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign computes X-Twilio-Signature the way Twilio documents it: base64 of
// HMAC-SHA1 over the URL followed by the sorted form keys and values.
func sign(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// discard is a logger that drops everything.
func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
