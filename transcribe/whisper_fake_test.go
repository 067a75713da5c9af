package transcribe

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The whisper engine's tests run a stand-in for whisper.cpp's whisper-server:
// this test binary, started by the engine with fakeWhisperEnv set. It takes
// the server's flags, serves GET /health and the inference path with the
// verbose_json whisper-server gives, and appends what it saw (its argv,
// each request's fields) as JSON lines to the file fakeWhisperLog names.
// Its "model" file says how to behave, one directive a line:
//
//	load 300ms     wait before listening, as loading a model does
//	crash-after 1  exit with status 3 after answering this many requests
//	fail           print an error and exit 1 at once, as with a bad model
const (
	fakeWhisperEnv = "EARSHOT_FAKE_WHISPER_SERVER"
	fakeWhisperLog = "EARSHOT_FAKE_WHISPER_LOG"
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeWhisperEnv) == "1" {
		os.Exit(fakeWhisperServer(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeEvent is one line of the stand-in's log.
type fakeEvent struct {
	Event string            `json:"event"` // "start" or "request"
	PID   int               `json:"pid"`
	Argv  []string          `json:"argv,omitempty"`
	Path  string            `json:"path,omitempty"`
	Form  map[string]string `json:"form,omitempty"`
	Bytes int               `json:"bytes,omitempty"`
}

func fakeWhisperServer(args []string) int {
	fs := flag.NewFlagSet("whisper-server", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "")
	port := fs.Int("port", 8080, "")
	model := fs.String("model", "", "")
	path := fs.String("inference-path", "/inference", "")
	fs.String("threads", "4", "")
	fs.String("language", "en", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logf := func(e fakeEvent) {
		e.PID = os.Getpid()
		f, err := os.OpenFile(os.Getenv(fakeWhisperLog), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return
		}
		defer f.Close()
		b, _ := json.Marshal(e)
		f.Write(append(b, '\n'))
	}
	logf(fakeEvent{Event: "start", Argv: args})
	spec, err := os.ReadFile(*model)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: failed to open '%s'\n", *model)
		return 1
	}
	var crashAfter int64 = -1
	for _, line := range strings.Split(string(spec), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "load":
			d, _ := time.ParseDuration(f[1])
			time.Sleep(d)
		case len(f) == 2 && f[0] == "crash-after":
			fmt.Sscan(f[1], &crashAfter)
		case len(f) == 1 && f[0] == "fail":
			fmt.Fprintln(os.Stderr, "whisper_init_from_file_with_params_no_state: failed to load model")
			return 1
		}
	}
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("POST "+*path, func(w http.ResponseWriter, r *http.Request) {
		ev := fakeEvent{Event: "request", Path: r.URL.Path, Form: map[string]string{}}
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, "Invalid request", http.StatusBadRequest)
			return
		}
		for k, v := range r.MultipartForm.Value {
			ev.Form[k] = v[0]
		}
		if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
			ev.Bytes = int(fh[0].Size)
		}
		logf(ev)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"task":"transcribe","language":"english","duration":2.8,"text":" Go forward ten meters.",`+
			`"segments":[{"id":0,"text":" Go forward ten meters.","start":0.0,"end":2.8,"temperature":0.0,`+
			`"avg_logprob":-0.22,"no_speech_prob":0.02}]}`)
		if n := served.Add(1); crashAfter >= 0 && n >= crashAfter {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			go func() { time.Sleep(50 * time.Millisecond); os.Exit(3) }()
		}
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "couldn't bind to server socket: %v\n", err)
		return 1
	}
	fmt.Printf("whisper server listening at http://%s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		return 1
	}
	return 0
}
