package transcribe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// whisperServer is a stand-in for an OpenAI-compatible server: it checks
// each request as the OpenAI API documents it and answers with body.
type whisperServer struct {
	t      *testing.T
	want   []byte // the audio the request must carry
	status int
	body   string
	delay  time.Duration
	calls  atomic.Int32
	form   map[string]string // fields of the last request
}

func (s *whisperServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		s.t.Errorf("request %s %s, want POST /v1/audio/transcriptions", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-test" {
		s.t.Errorf("authorization %q, want the bearer key", got)
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		s.t.Errorf("not a multipart form: %v", err)
	}
	f, h, err := r.FormFile("file")
	if err != nil {
		s.t.Errorf("no file part: %v", err)
	} else {
		got, _ := io.ReadAll(f)
		if !bytes.Equal(got, s.want) {
			s.t.Errorf("file part has %d bytes, want the %d audio bytes", len(got), len(s.want))
		}
		if h.Filename != "voicemail.wav" || h.Header.Get("Content-Type") != "audio/wav" {
			s.t.Errorf("file part %q %q, want voicemail.wav audio/wav", h.Filename, h.Header.Get("Content-Type"))
		}
	}
	s.form = map[string]string{}
	for k, v := range r.MultipartForm.Value {
		s.form[k] = v[0]
	}
	time.Sleep(s.delay)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.status)
	io.WriteString(w, s.body)
}

func openAIEngine(t *testing.T, url string, cfg config.OpenAI, timeout time.Duration) Transcriber {
	t.Helper()
	cfg.BaseURL, cfg.Model, cfg.APIKey = url, "whisper-1", "sk-test"
	tr, err := New(config.Transcribe{Engine: "openai", OpenAI: cfg, Timeout: timeout},
		&Options{Vocabulary: []string{"Umbrella", "Apex", "Widget Pro"}})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestOpenAIRequest(t *testing.T) {
	audio := readSpeech(t, "pocketsphinx/test/data/goforward.derived.wav")
	srv := &whisperServer{t: t, want: audio, status: 200, body: `{"text":" Go forward ten meters. "}`}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	// A base URL given the way OpenAI's SDKs write it (".../v1") works too.
	tr := openAIEngine(t, ts.URL+"/v1/", config.OpenAI{Language: "en"}, time.Minute)
	got, err := tr.Transcribe(context.Background(), Audio{Data: audio, ContentType: "audio/x-wav"})
	if err != nil {
		t.Fatal(err)
	}
	if got != (Transcript{Text: "Go forward ten meters.", Engine: "openai"}) {
		t.Errorf("transcript %+v", got)
	}
	want := map[string]string{"model": "whisper-1", "response_format": "json", "language": "en", "temperature": "0",
		"prompt": "A sales rep's voicemail about Umbrella, Apex, Widget Pro."}
	for k, v := range want {
		if srv.form[k] != v {
			t.Errorf("form field %s = %q, want %q", k, srv.form[k], v)
		}
	}
}

func TestOpenAIResponses(t *testing.T) {
	audio := readSpeech(t, "pocketsphinx/test/data/goforward.derived.wav")
	cases := []struct {
		why    string
		format string
		status int
		body   string
		want   Transcript
		perm   bool // a permanent error is expected
		fail   string
	}{
		{"verbose_json gives language and confidence", "verbose_json", 200,
			`{"text":"go forward ten meters","language":"english","segments":[{"avg_logprob":-0.1,"no_speech_prob":0.01},{"avg_logprob":-0.3,"no_speech_prob":0.02}]}`,
			Transcript{Text: "go forward ten meters", Engine: "openai", Language: "english", Confidence: 0.8108}, false, ""},
		{"longer segments weigh more: (2×0.9048 + 1×0.3679)/3", "verbose_json", 200,
			`{"text":"go forward ten meters","segments":[{"start":0,"end":2,"avg_logprob":-0.1,"no_speech_prob":0},{"start":2,"end":3,"avg_logprob":-1.0,"no_speech_prob":0}]}`,
			Transcript{Text: "go forward ten meters", Engine: "openai", Confidence: 0.7258}, false, ""},
		{"below Whisper's own log-probability threshold (-1) is unreliable: exp(-1.3) × 0.9", "verbose_json", 200,
			`{"text":"go four word ten leaders","segments":[{"avg_logprob":-1.3,"no_speech_prob":0.1}]}`,
			Transcript{Text: "go four word ten leaders", Engine: "openai", Confidence: 0.2452, Unreliable: true,
				UnreliableReason: "low confidence 0.25 (the model's own token probabilities)"}, false, ""},
		{"a likely non-speech segment lowers the confidence", "verbose_json", 200,
			`{"text":"go forward ten meters","segments":[{"avg_logprob":-0.2,"no_speech_prob":0.6}]}`,
			Transcript{Text: "go forward ten meters", Engine: "openai", Confidence: 0.3274, Unreliable: true,
				UnreliableReason: "low confidence 0.33 (the model's own token probabilities)"}, false, ""},
		{"json gives no confidence, so nothing is known against the text", "json", 200, `{"text":"go forward ten meters"}`,
			Transcript{Text: "go forward ten meters", Engine: "openai"}, false, ""},
		{"text the model rates as no speech is dropped", "verbose_json", 200,
			`{"text":"Thank you.","language":"english","segments":[{"avg_logprob":-0.9,"no_speech_prob":0.93}]}`,
			Transcript{Engine: "openai", Language: "english", Empty: EmptyNoSpeech}, false, ""},
		{"empty text has a reason", "json", 200, `{"text":"  "}`,
			Transcript{Engine: "openai", Empty: EmptyNoSpeech}, false, ""},
		{"too large is permanent", "json", 413, `{"error":{"message":"Maximum content size limit exceeded"}}`,
			Transcript{}, true, "Maximum content size limit exceeded"},
		{"server error is retried", "json", 503, `{"error":{"message":"overloaded"}}`,
			Transcript{}, false, "503 Service Unavailable: overloaded"},
		{"bad key is retried after the operator fixes it", "json", 401, `{"error":{"message":"Incorrect API key provided"}}`,
			Transcript{}, false, "Incorrect API key provided"},
		{"garbage answer", "json", 200, `<html>`, Transcript{}, false, "decode response"},
	}
	for _, c := range cases {
		srv := &whisperServer{t: t, want: audio, status: c.status, body: c.body}
		ts := httptest.NewServer(srv)
		tr := openAIEngine(t, ts.URL, config.OpenAI{ResponseFormat: c.format}, time.Minute)
		got, err := tr.Transcribe(context.Background(), Audio{Data: audio})
		ts.Close()
		if c.fail != "" {
			if err == nil || Permanent(err) != c.perm || !strings.Contains(err.Error(), c.fail) {
				t.Errorf("%s: error %v, want permanent=%v saying %q", c.why, err, c.perm, c.fail)
			}
			continue
		}
		got.Confidence = float64(int(got.Confidence*10000)) / 10000
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.why, got, err, c.want)
		}
		if srv.form["response_format"] != c.format {
			t.Errorf("%s: response_format %q", c.why, srv.form["response_format"])
		}
	}
}

func TestOpenAISkipsSilenceAndTimesOut(t *testing.T) {
	srv := &whisperServer{t: t, status: 200, body: `{"text":"Thank you."}`, delay: 5 * time.Second}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tr := openAIEngine(t, ts.URL, config.OpenAI{}, 300*time.Millisecond)

	silence := pcmWAV(make([]float64, 8000*3), 8000, 1, 16, wavPCM)
	got, err := tr.Transcribe(context.Background(), Audio{Data: silence})
	if err != nil || got.Text != "" || got.Empty != EmptySilence || srv.calls.Load() != 0 {
		t.Errorf("silence: %+v, %v after %d calls; want an empty transcript without asking the server", got, err, srv.calls.Load())
	}
	_, err = tr.Transcribe(context.Background(), Audio{Data: readSpeech(t, "pocketsphinx/test/data/bad.wav")})
	if !errors.Is(err, ErrBadAudio) || srv.calls.Load() != 0 {
		t.Errorf("bad.wav: %v; want ErrBadAudio without asking the server", err)
	}

	srv.want = readSpeech(t, "pocketsphinx/test/data/cards/001.wav")
	start := time.Now()
	_, err = tr.Transcribe(context.Background(), Audio{Data: srv.want})
	// The server answers after 5 s; giving up well before shows the timeout.
	if err == nil || Permanent(err) || time.Since(start) > 4*time.Second {
		t.Errorf("slow server: %v after %s; want a retryable timeout after 300ms", err, time.Since(start))
	}
}
