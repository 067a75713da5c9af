package pipeline_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/intake/voicemail"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/routing"
	"github.com/earshot-dev/earshot/store"
	"github.com/earshot-dev/earshot/transcribe"
)

const (
	vmAccount = "AC0123456789abcdef0123456789abcdef"
	vmToken   = "secrettoken42"
	vmPublic  = "https://earshot.example.com"
)

// vmTwilio serves the three Twilio requests a recording callback
// leads to (the recording, its call, its media) for the recordings a test
// registers, checking HTTP Basic auth like Twilio.
type vmTwilio struct {
	mu   sync.Mutex
	recs map[string]vmRecording // by recording SID
}

type vmRecording struct {
	caller string
	audio  []byte
}

func (f *vmTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != vmAccount || p != vmToken {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"code": 20003, "message": "Authenticate", "status": 401})
		return
	}
	name := filepath.Base(r.URL.Path)
	id := strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".wav")
	switch {
	case strings.Contains(r.URL.Path, "/Recordings/") && strings.HasSuffix(name, ".wav"):
		w.Header().Set("Content-Type", "audio/x-wav")
		w.Write(f.recs[id].audio)
	case strings.Contains(r.URL.Path, "/Recordings/"):
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"sid": id, "call_sid": "CA" + id[2:], "status": "completed",
			"date_created": time.Now().UTC().Format(time.RFC1123Z), "duration": "7", "account_sid": vmAccount})
	case strings.Contains(r.URL.Path, "/Calls/"):
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"sid": id, "from": f.recs["RE"+id[2:]].caller, "to": "+15005550006"})
	default:
		http.NotFound(w, r)
	}
}

// vmCallback posts a recording-status callback signed like Twilio's.
func vmCallback(t *testing.T, h http.Handler, recordingSID string) {
	t.Helper()
	form := url.Values{"AccountSid": {vmAccount}, "CallSid": {"CA" + recordingSID[2:]}, "RecordingSid": {recordingSID},
		"RecordingStatus": {"completed"}, "RecordingDuration": {"7"}}
	payload := vmPublic + voicemail.RecordingPath
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		payload += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(vmToken))
	mac.Write([]byte(payload))
	req := httptest.NewRequest("POST", "http://127.0.0.1:8080"+voicemail.RecordingPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent {
		t.Fatalf("callback for %s: status %d %s", recordingSID, w.Code, w.Body)
	}
}

// vmCounting counts the calls that reach a real engine.
type vmCounting struct {
	transcribe.Transcriber
	calls atomic.Int32
}

func (c *vmCounting) Transcribe(ctx context.Context, a transcribe.Audio) (transcribe.Transcript, error) {
	c.calls.Add(1)
	return c.Transcriber.Transcribe(ctx, a)
}

// vmPocketsphinx is the command engine as an installation configures it.
func vmPocketsphinx(t *testing.T) transcribe.Transcriber {
	t.Helper()
	bin := testenv.Binary(t, testenv.EnvPocketsphinx, "/usr/bin/pocketsphinx_continuous")
	sox := testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox")
	tr, err := transcribe.New(config.Transcribe{Engine: "command", Timeout: 2 * time.Minute,
		Command: config.Command{Argv: []string{bin, "-infile", "{audio}", "-logfn", "/dev/null"}, SampleRate: 16000, Sox: sox}},
		&transcribe.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// vmFlite synthesises 16 kHz speech.
func vmFlite(t *testing.T, text string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "speech.wav")
	bin := testenv.Binary(t, testenv.EnvFlite, "/usr/bin/flite")
	if b, err := exec.Command(bin, "-voice", "rms", "-t", text, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("flite: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vmSetup opens a migrated store of the dialect with Dana, the rep who
// calls from +14155550101, and a router that sends Umbrella to ci-lead.
func vmSetup(t *testing.T, dialect string) (*store.Store, *testenv.Clock, *pipeline.Router, int64) {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "earshot.db")
	if dialect == "postgres" {
		dsn = testenv.Postgres(t)
	}
	clk := testenv.NewClock(time.Now().UTC())
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, &store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportReps(ctx, []model.Rep{{Name: "Dana", Team: "East", Phones: []string{"+14155550101"}, Line: 2}}); err != nil {
		t.Fatal(err)
	}
	dana, err := st.RepByContact(ctx, "phone", "+14155550101")
	if err != nil {
		t.Fatal(err)
	}
	router, err := pipeline.NewRouter(&config.Config{
		Competitors: []routing.Competitor{{Name: "Umbrella", Owner: "ci-lead"}},
		Owners:      []config.Owner{{Name: "ci-lead"}, {Name: "product-ops"}},
		Route:       routing.Route{Owner: "product-ops"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, clk, router, dana.ID
}

func vmItem(t *testing.T, st *store.Store, recordingSID string) model.Item {
	t.Helper()
	var id int64
	if err := st.DB().Get(&id, st.DB().Rebind(`select item_id from receipts where source_key = ?`), recordingSID); err != nil {
		t.Fatalf("recording %s not stored: %v", recordingSID, err)
	}
	it, err := st.Item(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestVoicemailEndToEnd follows two voicemails from Twilio's signed
// callback to processed items: Dana's, transcribed by pocketsphinx,
// credited to her by phone number and routed to the owner of the
// competitor she names; and one with malformed audio from an unknown
// caller, which fails, is retried and ends in quarantine while the other
// goes through. Reprocessing reuses the stored transcript.
func TestVoicemailEndToEnd(t *testing.T) {
	speech := vmFlite(t, "Hi this is Dana from the Boston office. Umbrella is offering a forty percent discount to our biggest customers.")
	bad, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "corpora/speech/pocketsphinx/test/data/bad.wav"))
	if err != nil {
		t.Fatal(err)
	}
	engine := vmPocketsphinx(t)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			st, clk, router, dana := vmSetup(t, dialect)
			good, broken := "RE"+strings.Repeat("1", 32), "RE"+strings.Repeat("2", 32)
			fake := &vmTwilio{recs: map[string]vmRecording{
				good: {caller: "+14155550101", audio: speech}, broken: {caller: "+14155559999", audio: bad}}}
			api := httptest.NewServer(fake)
			defer api.Close()
			src, err := voicemail.New("twilio", voicemail.Config{AccountSID: vmAccount, AuthToken: vmToken,
				APIURL: api.URL, PublicURL: vmPublic}, st, &voicemail.Options{Options: source.Options{Logger: slog.New(slog.DiscardHandler)}})
			if err != nil {
				t.Fatal(err)
			}
			vmCallback(t, src.Handler(), good)
			vmCallback(t, src.Handler(), broken)

			tr := &vmCounting{Transcriber: engine}
			w := &pipeline.Workers{Store: st, Processor: &pipeline.Voicemails{Store: st, Transcriber: tr, Router: router},
				Name: "r1", Count: 1, Batch: 5, Lease: 2 * time.Minute, MaxAttempts: 2, Log: slog.New(slog.DiscardHandler)}
			if n, err := w.RunOnce(ctx, "r1/0"); n != 2 || err != nil {
				t.Fatalf("first run claimed %d, %v; want both voicemails", n, err)
			}

			it := vmItem(t, st, good)
			if it.State != model.StateProcessed || it.RepID != dana || it.Sender != "+14155550101" {
				t.Fatalf("Dana's voicemail: state %s rep %v sender %q, last error %q", it.State, it.RepID, it.Sender, it.LastError)
			}
			text := it.Transcript
			for _, k := range []string{"umbrella", "discount"} {
				if !strings.Contains(text, k) {
					t.Errorf("transcript %q lacks %q", text, k)
				}
			}
			if saved, ok, _ := st.ItemTranscript(ctx, it.ID); !ok || saved.Engine != "command" {
				t.Errorf("stored transcript %+v ok=%v", saved, ok)
			}
			tags, _ := st.Tags(ctx, it.ID)
			if !slices.ContainsFunc(tags, func(tg model.Tag) bool { return tg.Kind == routing.KindCompetitor && tg.Value == "Umbrella" }) {
				t.Errorf("tags %+v lack competitor Umbrella", tags)
			}
			owners, _ := st.Assignments(ctx, it.ID)
			if !slices.ContainsFunc(owners, func(a model.Assignment) bool { return a.Owner == "ci-lead" }) {
				t.Errorf("assignments %+v lack ci-lead", owners)
			}

			failed := vmItem(t, st, broken)
			if failed.State != model.StateReceived || !strings.Contains(failed.LastError, "bad audio") {
				t.Fatalf("broken voicemail after one attempt: state %s error %q", failed.State, failed.LastError)
			}
			clk.Add(2 * time.Hour) // its retry is due
			if n, err := w.RunOnce(ctx, "r1/0"); n != 1 || err != nil {
				t.Fatalf("retry claimed %d, %v", n, err)
			}
			if failed = vmItem(t, st, broken); failed.State != model.StateQuarantined || failed.RepID != 0 {
				t.Errorf("broken voicemail: state %s rep %v; want quarantined, unregistered", failed.State, failed.RepID)
			}

			// Reprocessing (say, after a change of routes) must not pay for
			// the transcription again.
			calls := tr.calls.Load()
			if _, err := st.Reprocess(ctx, []int64{it.ID}); err != nil {
				t.Fatal(err)
			}
			if n, err := w.RunOnce(ctx, "r1/0"); n != 1 || err != nil {
				t.Fatalf("reprocess claimed %d, %v", n, err)
			}
			if tr.calls.Load() != calls || vmItem(t, st, good).State != model.StateProcessed {
				t.Errorf("reprocessing transcribed again (%d calls, was %d)", tr.calls.Load(), calls)
			}
		})
	}
}

// vmReceive stores one voicemail item directly and claims it.
func vmReceive(t *testing.T, st *store.Store, sid, from string, audio []byte) model.Item {
	t.Helper()
	ctx := context.Background()
	if err := st.EnsureSource(ctx, "twilio", "twilio"); err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(model.VoicemailMeta{RecordingSID: sid, From: from, To: "+15005550006", MediaFormat: "wav",
		DateCreated: time.Now().UTC().Format(time.RFC3339), Duration: 7})
	if _, err := st.Receive(ctx, model.Batch{Source: "twilio", Items: []model.RawItem{{SourceKey: sid, Kind: "voicemail",
		ContentHash: voicemail.ContentHash(vmAccount, sid), Raw: audio, Meta: string(meta)}}}); err != nil {
		t.Fatal(err)
	}
	items, err := st.Claim(ctx, "w", 10, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %d items, %v", len(items), err)
	}
	return items[0]
}

// TestVoicemailAwaitsManager covers the none engine: the voicemail is
// processed without text or tags and waits; the manager's transcript makes
// it due again and it is tagged from that text. A withheld number credits
// nobody.
func TestVoicemailAwaitsManager(t *testing.T) {
	st, _, router, _ := vmSetup(t, "sqlite")
	ctx := context.Background()
	vm := &pipeline.Voicemails{Store: st, Transcriber: transcribe.None{}, Router: router}
	audio := vmFlite(t, "Umbrella called our customer again.")
	it := vmReceive(t, st, "RE"+strings.Repeat("3", 32), "Anonymous", audio)

	res, err := vm.Process(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	if res.BodyText != "" || len(res.Tags) != 0 || res.RepID != 0 || res.Sender != "" ||
		!slices.Contains(res.Warnings, "transcript: "+transcribe.EmptyManual) || !slices.Contains(res.Warnings, "caller number withheld") {
		t.Fatalf("awaiting voicemail = %+v", res)
	}
	if !res.Message.AwaitingTranscript {
		t.Errorf("message %+v lacks the awaiting flag", res.Message)
	}
	if err := st.Complete(ctx, it.ID, it.ClaimedBy, res); err != nil {
		t.Fatal(err)
	}
	if ids, _ := st.AwaitingTranscript(ctx, 10); !slices.Contains(ids, it.ID) {
		t.Fatalf("awaiting list %v lacks item %d", ids, it.ID)
	}

	if err := st.SetManagerTranscript(ctx, it.ID, "ann", "Umbrella called our customer again"); err != nil {
		t.Fatal(err)
	}
	items, err := st.Claim(ctx, "w", 10, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("the manager's transcript did not make the item due: %d, %v", len(items), err)
	}
	res, err = vm.Process(ctx, items[0])
	if err != nil {
		t.Fatal(err)
	}
	if res.BodyText != "Umbrella called our customer again" || len(res.Tags) == 0 || res.Message.TranscriptEngine != "manager:ann" {
		t.Errorf("after the manager's transcript = %+v", res)
	}
}

// TestTranscribeAttachments covers PBX voicemail-to-email: the audio
// attachments are transcribed once, malformed audio is noted and skipped,
// and the stored text is reused.
func TestTranscribeAttachments(t *testing.T) {
	st, _, router, _ := vmSetup(t, "sqlite")
	ctx := context.Background()
	tr := &vmCounting{Transcriber: vmPocketsphinx(t)}
	vm := &pipeline.Voicemails{Store: st, Transcriber: tr, Router: router}
	bad, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "corpora/speech/pocketsphinx/test/data/evil.wav"))
	if err != nil {
		t.Fatal(err)
	}
	it := vmReceive(t, st, "RE"+strings.Repeat("4", 32), "+14155550101", []byte("stands in for the email"))
	msg := &intake.Message{Attachments: []intake.Attachment{
		{Filename: "notes.pdf", ContentType: "application/pdf", Data: nil},
		{Filename: "evil.wav", ContentType: "audio/wav", Audio: true, Data: bad},
		{Filename: "vm.wav", ContentType: "audio/wav", Audio: true, Data: vmFlite(t, "Umbrella is offering a forty percent discount.")},
	}}
	text, err := vm.TranscribeAttachments(ctx, it, msg)
	if err != nil || !strings.Contains(text.Text, "discount") || text.Unreliable != "" || tr.calls.Load() != 2 {
		t.Fatalf("attachments = %+v, %v after %d engine calls; want 16 kHz speech transcribed and not doubted", text, err, tr.calls.Load())
	}
	again, err := vm.TranscribeAttachments(ctx, it, msg)
	if err != nil || again.Text != text.Text || tr.calls.Load() != 2 {
		t.Errorf("second call = %+v, %v, %d engine calls; want the stored text without transcribing", again, err, tr.calls.Load())
	}
	if n, err := vm.TranscribeAttachments(ctx, vmReceive(t, st, "RE"+strings.Repeat("5", 32), "", []byte("an email without audio")), &intake.Message{}); n.Text != "" || err != nil {
		t.Errorf("no audio = %+v, %v", n, err)
	}
}
