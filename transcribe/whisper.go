package transcribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// inferencePath is where Earshot has whisper-server answer: the OpenAI
// API's path, so that one client speaks to both.
const inferencePath = "/v1/audio/transcriptions"

// Whisper transcribes with whisper.cpp's whisper-server: one Earshot runs
// as a child process (started when first needed, restarted when it exits,
// stopped by Close), or one already running at a base URL. It always asks
// for verbose_json, so every transcript has a confidence, and gives the
// catalogue's names as the prompt.
type Whisper struct {
	api    *OpenAI
	server *server // nil when the server runs elsewhere
	url    string  // the running server's endpoint when server is nil
}

func newWhisper(cfg config.Whisper, timeout time.Duration, o Options, log *slog.Logger) (*Whisper, error) {
	language := cfg.Language
	if language == "auto" {
		language = ""
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	api := &OpenAI{name: "whisper", language: language, format: "verbose_json", prompt: prompt(o.Vocabulary),
		client: client, log: log}
	if cfg.BaseURL != "" {
		base := strings.TrimSuffix(strings.TrimRight(cfg.BaseURL, "/"), inferencePath)
		return &Whisper{api: api, url: base + inferencePath}, nil
	}
	if cfg.Model == "" {
		return nil, errors.New("transcribe: engine whisper needs model (scripts/whisper install fetches one) or base_url")
	}
	if _, err := os.Stat(cfg.Model); err != nil {
		return nil, fmt.Errorf("transcribe: whisper model: %w (scripts/whisper install fetches one)", err)
	}
	bin := cfg.Server
	if bin == "" {
		bin = "whisper-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("transcribe: whisper server: %w (scripts/whisper install builds one)", err)
	}
	threads := cfg.Threads
	if threads <= 0 {
		threads = min(runtime.NumCPU(), 4)
	}
	start := cfg.StartTimeout
	if start <= 0 {
		start = time.Minute
	}
	argv := []string{path, "--host", "127.0.0.1", "--model", cfg.Model, "--inference-path", inferencePath,
		"--threads", strconv.Itoa(threads)}
	if cfg.Language != "" {
		argv = append(argv, "--language", cfg.Language)
	}
	argv = append(argv, cfg.Args...)
	return &Whisper{api: api, server: newServer(argv, start, log)}, nil
}

// Name returns "whisper".
func (e *Whisper) Name() string { return "whisper" }

// Transcribe checks the audio and posts it to the server, starting the
// server first when Earshot runs it. While the server starts or restarts
// the call waits, at most the start timeout; after that the error is one
// to retry later.
func (e *Whisper) Transcribe(ctx context.Context, a Audio) (Transcript, error) {
	if e.server == nil {
		return e.api.transcribeAt(ctx, e.url, a)
	}
	if _, empty, err := precheck(a.Data); err != nil || empty != "" {
		// Nothing to send: say so without starting the server.
		return e.api.transcribeAt(ctx, "", a)
	}
	base, err := e.server.baseURL(ctx)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe whisper: %w", err)
	}
	return e.api.transcribeAt(ctx, base+inferencePath, a)
}

// Close stops the server Earshot runs, waiting for it to exit; it does
// nothing for a server at a base URL.
func (e *Whisper) Close() error {
	if e.server == nil {
		return nil
	}
	return e.server.Close()
}
