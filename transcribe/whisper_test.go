package transcribe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// fakeWhisper prepares the stand-in server (see whisper_fake_test.go): a
// model file with the given directives and a log, and returns the engine's
// configuration and a reader of the log.
func fakeWhisper(t *testing.T, directives string) (config.Whisper, func() []fakeEvent) {
	t.Helper()
	dir := t.TempDir()
	model := filepath.Join(dir, "ggml-test.bin")
	if err := os.WriteFile(model, []byte(directives), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "server.log")
	t.Setenv(fakeWhisperEnv, "1")
	t.Setenv(fakeWhisperLog, logFile)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	events := func() []fakeEvent {
		f, err := os.Open(logFile)
		if err != nil {
			return nil
		}
		defer f.Close()
		var out []fakeEvent
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var e fakeEvent
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				out = append(out, e)
			}
		}
		return out
	}
	return config.Whisper{Server: self, Model: model, Language: "en", Threads: 2, StartTimeout: 10 * time.Second}, events
}

func whisperEngine(t *testing.T, cfg config.Whisper) *Whisper {
	t.Helper()
	tr, err := New(config.Transcribe{Engine: "whisper", Whisper: cfg, Timeout: time.Minute},
		&Options{Vocabulary: []string{"Globex", "Initech"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w := tr.(*Whisper)
	t.Cleanup(func() { w.Close() })
	return w
}

func starts(events []fakeEvent) []fakeEvent {
	var out []fakeEvent
	for _, e := range events {
		if e.Event == "start" {
			out = append(out, e)
		}
	}
	return out
}

// TestWhisperManaged runs the server as a child: it starts on first use,
// with the flags that make it speak the OpenAI path on loopback, and gets
// the names as the prompt and a request for verbose_json.
func TestWhisperManaged(t *testing.T) {
	cfg, events := fakeWhisper(t, "load 300ms\n")
	e := whisperEngine(t, cfg)
	speech := readSpeech(t, "pocketsphinx/test/data/goforward.derived.wav")

	silence := pcmWAV(make([]float64, 16000), 16000, 1, 16, wavPCM)
	got, err := e.Transcribe(context.Background(), Audio{Data: silence})
	if err != nil || got.Empty != EmptySilence || len(events()) != 0 {
		t.Fatalf("silence: %+v, %v, %d events; want an empty transcript without starting the server", got, err, len(events()))
	}

	got, err = e.Transcribe(context.Background(), Audio{Data: speech})
	if err != nil {
		t.Fatal(err)
	}
	want := Transcript{Text: "Go forward ten meters.", Engine: "whisper", Language: "english", Confidence: 0.7864}
	got.Confidence = float64(int(got.Confidence*10000)) / 10000 // exp(-0.22) × 0.98
	if got != want {
		t.Errorf("transcript %+v, want %+v", got, want)
	}
	ev := events()
	if len(ev) != 2 || ev[0].Event != "start" || ev[1].Event != "request" {
		t.Fatalf("events %+v, want one start and one request", ev)
	}
	argv := strings.Join(ev[0].Argv, " ")
	for _, w := range []string{"--host 127.0.0.1", "--model " + cfg.Model, "--inference-path /v1/audio/transcriptions",
		"--threads 2", "--language en", "--port "} {
		if !strings.Contains(argv, w) {
			t.Errorf("server argv %q lacks %q", argv, w)
		}
	}
	req := ev[1]
	if req.Path != "/v1/audio/transcriptions" || req.Bytes != len(speech) {
		t.Errorf("request to %s with %d bytes, want the inference path with %d", req.Path, req.Bytes, len(speech))
	}
	for k, v := range map[string]string{"response_format": "verbose_json", "language": "en", "temperature": "0",
		"prompt": "A sales rep's voicemail about Globex, Initech."} {
		if req.Form[k] != v {
			t.Errorf("form %s = %q, want %q", k, req.Form[k], v)
		}
	}

	// Close stops the server: its process is gone and the engine refuses work.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if pid := strconv.Itoa(ev[0].PID); alive(pid) {
		t.Errorf("server %s still runs after Close", pid)
	}
	if _, err := e.Transcribe(context.Background(), Audio{Data: speech}); !errors.Is(err, errClosed) {
		t.Errorf("after Close: %v, want errClosed", err)
	}
}

// TestWhisperRestartsAfterCrash: a server that exits is started again, and
// the next transcription is served by the new one. The pipeline retries an
// item whose transcription failed, so the test retries too, for a bounded
// time.
func TestWhisperRestartsAfterCrash(t *testing.T) {
	cfg, events := fakeWhisper(t, "crash-after 1\n")
	e := whisperEngine(t, cfg)
	speech := readSpeech(t, "pocketsphinx/test/data/goforward.derived.wav")
	if _, err := e.Transcribe(context.Background(), Audio{Data: speech}); err != nil {
		t.Fatal(err)
	}
	// Wait for the crash itself, so that the next call cannot reach the
	// first server in its last moments.
	first := starts(events())
	if len(first) != 1 || alive(strconv.Itoa(first[0].PID)) {
		t.Fatalf("starts %+v: want one server, gone after its first answer", first)
	}
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for tries := 0; time.Now().Before(deadline); tries++ {
		if _, err = e.Transcribe(context.Background(), Audio{Data: speech}); err == nil {
			t.Logf("served again after %d failed tries", tries)
			break
		}
		if Permanent(err) {
			t.Fatalf("a crashed server gave a permanent error: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no transcript after the crash: %v", err)
	}
	s := starts(events())
	if len(s) != 2 || s[0].PID == s[1].PID {
		t.Fatalf("starts %+v, want two processes", s)
	}
}

// TestWhisperStartFails: a server that cannot load its model fails the
// call after the start timeout with the server's own words, as an error to
// retry (the operator fixes the model; the items wait).
func TestWhisperStartFails(t *testing.T) {
	cfg, events := fakeWhisper(t, "fail\n")
	cfg.StartTimeout = 1500 * time.Millisecond
	e := whisperEngine(t, cfg)
	start := time.Now()
	_, err := e.Transcribe(context.Background(), Audio{Data: readSpeech(t, "pocketsphinx/test/data/cards/001.wav")})
	if err == nil || Permanent(err) || !strings.Contains(err.Error(), "failed to load model") {
		t.Fatalf("error %v; want a retryable error quoting the server", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("gave up after %s; want about the 1.5 s start timeout", took)
	}
	if n := len(starts(events())); n < 1 {
		t.Errorf("%d starts", n)
	}
}

// TestWhisperBaseURL points the engine at a server already running: no
// child, the same request.
func TestWhisperBaseURL(t *testing.T) {
	speech := readSpeech(t, "pocketsphinx/test/data/goforward.derived.wav")
	var form map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/audio/transcriptions" || r.ParseMultipartForm(1<<20) != nil {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		form = map[string]string{}
		for k, v := range r.MultipartForm.Value {
			form[k] = v[0]
		}
		io.WriteString(w, `{"text":"go forward","segments":[{"avg_logprob":-2.0,"no_speech_prob":0.1}]}`)
	}))
	defer srv.Close()
	for _, base := range []string{srv.URL, srv.URL + "/v1/audio/transcriptions"} {
		e := whisperEngine(t, config.Whisper{BaseURL: base, Language: "auto"})
		got, err := e.Transcribe(context.Background(), Audio{Data: speech})
		if err != nil || got.Engine != "whisper" || !got.Unreliable || form["response_format"] != "verbose_json" {
			t.Errorf("%s: %+v, %v, form %v", base, got, err, form)
		}
		if _, ok := form["language"]; ok {
			t.Errorf("language auto sent as %q; want it left to the server", form["language"])
		}
	}
}

// TestWhisperConfigErrors: what cannot work is said at start, with the way
// to fix it.
func TestWhisperConfigErrors(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model.bin")
	os.WriteFile(model, nil, 0o600)
	cases := []struct {
		why  string
		cfg  config.Whisper
		want string
	}{
		{"no model", config.Whisper{Server: "/bin/true"}, "needs model"},
		{"missing model file", config.Whisper{Server: "/bin/true", Model: filepath.Join(dir, "nope.bin")}, "scripts/whisper install fetches one"},
		{"missing server", config.Whisper{Server: filepath.Join(dir, "whisper-server"), Model: model}, "scripts/whisper install builds one"},
	}
	for _, c := range cases {
		_, err := New(config.Transcribe{Engine: "whisper", Whisper: c.cfg}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.why, err, c.want)
		}
	}
}
