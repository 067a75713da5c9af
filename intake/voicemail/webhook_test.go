package voicemail

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/internal/testenv"
)

// vectors is ../shared/twilio/request_validator_vectors.json.
type vectors struct {
	AuthToken         string            `json:"auth_token"`
	URL               string            `json:"url"`
	FormParams        map[string]string `json:"form_params"`
	ExpectedSignature string            `json:"expected_signature"`
	Cases             []struct {
		Name      string `json:"name"`
		URL       string `json:"url"`
		Signature string `json:"signature"`
		Valid     bool   `json:"valid"`
	} `json:"cases"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "twilio", "request_validator_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSignatureVectors runs twilio-go's own validator vectors through the
// webhook's check: the request arrives at the path and query of the
// vector's URL, and the public URL supplies its scheme, host and port, as
// behind a proxy.
func TestSignatureVectors(t *testing.T) {
	v := loadVectors(t)
	form := url.Values{}
	for k, val := range v.FormParams {
		form.Set(k, val)
	}
	if got := sign(v.AuthToken, v.URL, form); got != v.ExpectedSignature {
		t.Fatalf("test signer gives %q, vectors say %q", got, v.ExpectedSignature)
	}
	for _, c := range v.Cases {
		u, err := url.Parse(c.URL)
		if err != nil {
			t.Fatal(err)
		}
		src := &Source{cfg: Config{AuthToken: v.AuthToken, PublicURL: u.Scheme + "://" + u.Host},
			metrics: mustMetrics(t), log: discard()}
		passed := false
		h := src.signed(func(w http.ResponseWriter, r *http.Request, f url.Values) {
			passed = f.Get("CallSid") == v.FormParams["CallSid"]
		})
		req := httptest.NewRequest("POST", "http://10.0.0.7:8080"+u.RequestURI(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", c.Signature)
		w := httptest.NewRecorder()
		h(w, req)
		if passed != c.Valid || (w.Code == http.StatusForbidden) == c.Valid {
			t.Errorf("%s: passed=%v status %d, want valid=%v", c.Name, passed, w.Code, c.Valid)
		}
	}
}

func mustMetrics(t *testing.T) *metrics {
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// webhookPost sends a form to the handler as Twilio would: signed for the
// public URL signedURL (empty: no signature header), then changed by
// mutate when it is set.
func webhookPost(h http.Handler, path, signedURL string, form url.Values, mutate func(url.Values)) *httptest.ResponseRecorder {
	return webhookPostWith(h, testToken, path, signedURL, form, mutate)
}

// webhookPostWith is webhookPost signing with token.
func webhookPostWith(h http.Handler, token, path, signedURL string, form url.Values, mutate func(url.Values)) *httptest.ResponseRecorder {
	sig := ""
	if signedURL != "" {
		sig = sign(token, signedURL, form)
	}
	if mutate != nil {
		mutate(form)
	}
	req := httptest.NewRequest("POST", "http://127.0.0.1:8080"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestWebhookRejectsForgeries sends requests that must not pass and
// counts them in earshot_twilio_webhook_rejected_total.
func TestWebhookRejectsForgeries(t *testing.T) {
	f := newFakeTwilio(t)
	reg := prometheus.NewRegistry()
	src, st := newTestSource(t, f, testConfig(f.srv.URL), &Options{Registerer: reg})
	h := src.Handler()
	public := "https://earshot.example.com"
	rs := f.add(1, "completed", time.Now().Add(-time.Minute), "+14155550101", speech(t, "pocketsphinx/test/data/cards/001.wav"))
	callback := func() url.Values {
		return url.Values{"AccountSid": {testAccount}, "CallSid": {sid("CA", 1)}, "RecordingSid": {rs},
			"RecordingStatus": {"completed"}, "RecordingUrl": {"https://api.twilio.com/x/" + rs}}
	}
	cases := []struct {
		why       string
		token     string
		path      string
		signedURL string
		mutate    func(url.Values)
	}{
		{"no signature header", testToken, RecordingPath, "", nil},
		{"signed with another token", "othertoken", RecordingPath, public + RecordingPath, nil},
		{"body changed after signing", testToken, RecordingPath, public + RecordingPath, func(v url.Values) { v.Set("RecordingSid", sid("RE", 9)) }},
		{"parameter added after signing", testToken, RecordingPath, public + RecordingPath, func(v url.Values) { v.Set("Extra", "1") }},
		{"signed for another host", testToken, RecordingPath, "https://attacker.example.net" + RecordingPath, nil},
		{"signed for another path", testToken, RecordingPath, public + VoicePath, nil},
		{"signed over plain http", testToken, RecordingPath, "http://earshot.example.com" + RecordingPath, nil},
		{"voice without signature", testToken, VoicePath, "", nil},
	}
	for i, c := range cases {
		w := webhookPostWith(h, c.token, c.path, c.signedURL, callback(), c.mutate)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", c.why, w.Code)
		}
		if got := testutil.ToFloat64(src.metrics.rejected); got != float64(i+1) {
			t.Errorf("%s: rejected counter %v, want %d", c.why, got, i+1)
		}
	}
	if f.hit("GET recording")+f.hit("GET media") != 0 {
		t.Error("a rejected request reached Twilio")
	}
	if ok, _ := st.ReceivedKeys(context.Background(), "twilio", []string{rs}); ok[rs] {
		t.Error("a rejected request stored the recording")
	}
	if n, err := testutil.GatherAndCount(reg, "earshot_twilio_webhook_rejected_total"); err != nil || n != 1 {
		t.Errorf("metric earshot_twilio_webhook_rejected_total not exported: %d, %v", n, err)
	}
}

// TestRecordingCallback stores the recording a signed callback names at
// once, idempotently, and leaves unfinished or failed ones to the poller.
func TestRecordingCallback(t *testing.T) {
	f := newFakeTwilio(t)
	src, st := newTestSource(t, f, testConfig(f.srv.URL), nil)
	h := src.Handler()
	signed := "https://earshot.example.com" + RecordingPath
	audio := speech(t, "pocketsphinx/test/data/cards/005.wav")
	done := f.add(1, "completed", time.Now().Add(-time.Minute), "+14155550101", audio)
	busy := f.add(2, "processing", time.Now(), "+14155550102", audio)
	broken := f.add(3, "completed", time.Now(), "+14155550103", audio)
	f.mediaFailures[broken] = []int{500, 500, 500}
	form := func(rs, status string) url.Values {
		return url.Values{"AccountSid": {testAccount}, "RecordingSid": {rs}, "RecordingStatus": {status}}
	}
	stored := func(rs string) bool {
		ok, err := st.ReceivedKeys(context.Background(), "twilio", []string{rs})
		if err != nil {
			t.Fatal(err)
		}
		return ok[rs]
	}

	if w := webhookPost(h, RecordingPath, signed, form(done, "completed"), nil); w.Code != http.StatusNoContent || !stored(done) {
		t.Fatalf("callback: status %d, stored %v; want 204 and the recording stored", w.Code, stored(done))
	}
	if meta, _ := storedVoicemail(t, st, done).VoicemailMeta(); meta.From != "+14155550101" {
		t.Errorf("meta %+v, want the caller", meta)
	}
	// Twilio may repeat a callback: nothing is downloaded or stored twice.
	media := f.hit("GET media")
	if w := webhookPost(h, RecordingPath, signed, form(done, "completed"), nil); w.Code != http.StatusNoContent || f.hit("GET media") != media {
		t.Errorf("repeated callback: status %d, %d more downloads", w.Code, f.hit("GET media")-media)
	}
	if n, _ := st.StateCounts(context.Background()); n["received"] != 1 {
		t.Errorf("items %v, want one", n)
	}

	if w := webhookPost(h, RecordingPath, signed, form(busy, "completed"), nil); w.Code != http.StatusNoContent || stored(busy) {
		t.Errorf("recording still processing at twilio: status %d stored %v; want 204, left to the poller", w.Code, stored(busy))
	}
	fetches := f.hit("GET recording")
	if w := webhookPost(h, RecordingPath, signed, form(sid("RE", 4), "absent"), nil); w.Code != http.StatusNoContent || f.hit("GET recording") != fetches {
		t.Errorf("absent recording: status %d; want 204 without asking twilio", w.Code)
	}
	if w := webhookPost(h, RecordingPath, signed, form(broken, "completed"), nil); w.Code != http.StatusServiceUnavailable || stored(broken) {
		t.Errorf("download failing: status %d; want 503", w.Code)
	}
	if w := webhookPost(h, RecordingPath, signed, form("RE123", "completed"), nil); w.Code != http.StatusBadRequest {
		t.Errorf("malformed sid: status %d; want 400", w.Code)
	}
}

// twiml is what /twilio/voice answers, decoded.
type twiml struct {
	Says   []string `xml:"Say"`
	Record *struct {
		Action         string `xml:"action,attr"`
		MaxLength      int    `xml:"maxLength,attr"`
		Callback       string `xml:"recordingStatusCallback,attr"`
		CallbackMethod string `xml:"recordingStatusCallbackMethod,attr"`
		Transcribe     string `xml:"transcribe,attr"`
	} `xml:"Record"`
	Hangup *struct{} `xml:"Hangup"`
}

// TestVoiceTwiML checks the document that makes pointing a Twilio number
// at Earshot the whole setup.
func TestVoiceTwiML(t *testing.T) {
	f := newFakeTwilio(t)
	for _, transcribe := range []bool{false, true} {
		cfg := testConfig(f.srv.URL)
		cfg.PublicURL = "https://earshot.example.com/feedback/"
		cfg.Transcribe = transcribe
		src, _ := newTestSource(t, f, cfg, nil)
		h := src.Handler()
		public := "https://earshot.example.com/feedback"
		call := url.Values{"AccountSid": {testAccount}, "CallSid": {sid("CA", 1)}, "From": {"+14155550101"}, "To": {"+15005550006"}}
		w := webhookPost(h, VoicePath, public+VoicePath, call, nil)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") {
			t.Fatalf("voice: status %d type %q", w.Code, w.Header().Get("Content-Type"))
		}
		var doc twiml
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("voice answer is not TwiML: %v\n%s", err, w.Body)
		}
		r := doc.Record
		if len(doc.Says) != 2 || doc.Says[0] != DefaultGreeting || r == nil || doc.Hangup == nil {
			t.Fatalf("voice TwiML %s", w.Body)
		}
		if r.Callback != public+RecordingPath || r.CallbackMethod != "POST" || r.Action != public+VoicePath || r.MaxLength != 300 {
			t.Errorf("record verb %+v", r)
		}
		if (r.Transcribe == "true") != transcribe {
			t.Errorf("transcribe attribute %q with twilio transcription %v", r.Transcribe, transcribe)
		}
		// The Record verb's action brings the finished recording back here.
		call.Set("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/"+testAccount+"/Recordings/"+sid("RE", 1))
		call.Set("RecordingSid", sid("RE", 1))
		w = webhookPost(h, VoicePath, public+VoicePath, call, nil)
		doc = twiml{}
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc.Record != nil || doc.Hangup == nil {
			t.Errorf("after recording: %s, %v; want a goodbye without another Record", w.Body, err)
		}
	}
}

// The incoming call's STIR/SHAKEN attestation is kept for its voicemail;
// a call without one keeps nothing.
func TestVoiceKeepsAttestation(t *testing.T) {
	f := newFakeTwilio(t)
	cfg := testConfig(f.srv.URL)
	cfg.PublicURL = "https://earshot.example.com"
	src, st := newTestSource(t, f, cfg, nil)
	h := src.Handler()
	for i, verstat := range []string{"TN-Validation-Passed-B", ""} {
		call := url.Values{"AccountSid": {testAccount}, "CallSid": {sid("CA", i+10)}, "From": {"+14155550101"},
			"To": {"+15005550006"}}
		if verstat != "" {
			call.Set("StirVerstat", verstat)
		}
		if w := webhookPost(h, VoicePath, cfg.PublicURL+VoicePath, call, nil); w.Code != http.StatusOK {
			t.Fatalf("voice: status %d", w.Code)
		}
		got, ok, err := st.CallAttestation(context.Background(), sid("CA", i+10))
		if err != nil || got != verstat || ok != (verstat != "") {
			t.Errorf("call with attestation %q: kept %q (%v), %v", verstat, got, ok, err)
		}
	}
}
