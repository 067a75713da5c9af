package transcribe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// maxPrompt keeps the vocabulary prompt within what Whisper reads (224
// tokens).
const maxPrompt = 600

// OpenAI posts the audio to an OpenAI-compatible speech-to-text server:
// OpenAI itself, a whisper.cpp server or a faster-whisper server.
type OpenAI struct {
	url      string
	model    string
	key      string
	language string
	format   string
	prompt   string
	client   *http.Client
	log      *slog.Logger
}

func newOpenAI(cfg config.OpenAI, timeout time.Duration, o Options, log *slog.Logger) (*OpenAI, error) {
	base := strings.TrimSuffix(strings.TrimRight(cfg.BaseURL, "/"), "/v1")
	if base == "" {
		return nil, errors.New("transcribe: engine openai needs base_url")
	}
	if cfg.Model == "" {
		return nil, errors.New("transcribe: engine openai needs model")
	}
	format := cfg.ResponseFormat
	switch format {
	case "":
		format = "json"
	case "json", "verbose_json":
	default:
		return nil, fmt.Errorf("transcribe: openai response_format %q (want json or verbose_json)", format)
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	return &OpenAI{
		url: base + "/v1/audio/transcriptions", model: cfg.Model, key: cfg.APIKey.Value(),
		language: cfg.Language, format: format, prompt: prompt(o.Vocabulary), client: client, log: log,
	}, nil
}

// prompt turns the vocabulary into a hint that makes the model spell those
// names as configured.
func prompt(vocabulary []string) string {
	if len(vocabulary) == 0 {
		return ""
	}
	p := "A sales rep's voicemail about " + vocabulary[0]
	for _, v := range vocabulary[1:] {
		if len(p)+len(v)+3 > maxPrompt {
			break
		}
		p += ", " + v
	}
	return p + "."
}

// Name returns "openai".
func (e *OpenAI) Name() string { return "openai" }

// Transcribe checks the audio, then posts it with the model, the
// vocabulary prompt and the language hint.
func (e *OpenAI) Transcribe(ctx context.Context, a Audio) (Transcript, error) {
	format, empty, err := precheck(a.Data)
	if err != nil {
		return Transcript{}, err
	}
	if empty != "" {
		return Transcript{Engine: e.Name(), Empty: empty}, nil
	}
	body, contentType, err := e.form(a, format)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe openai: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, body)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe openai: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe openai: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Transcript{}, statusError(resp)
	}
	var r openAIResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxOutput)).Decode(&r); err != nil {
		return Transcript{}, fmt.Errorf("transcribe openai: decode response: %w", err)
	}
	return r.transcript(e.Name()), nil
}

// form builds the multipart request body.
func (e *OpenAI) form(a Audio, format string) (io.Reader, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="voicemail.%s"`, format))
	h.Set("Content-Type", mediaType(format))
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(a.Data); err != nil {
		return nil, "", err
	}
	fields := [][2]string{{"model", e.model}, {"response_format", e.format}, {"temperature", "0"},
		{"prompt", e.prompt}, {"language", e.language}}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &buf, w.FormDataContentType(), nil
}

// openAIResponse is the json or verbose_json answer.
type openAIResponse struct {
	Text     string `json:"text"`
	Language string `json:"language"`
	Segments []struct {
		AvgLogprob   *float64 `json:"avg_logprob"`
		NoSpeechProb *float64 `json:"no_speech_prob"`
	} `json:"segments"`
}

// noSpeechProb above which a segment counts as not speech.
const noSpeechProb = 0.8

// transcript turns the answer into a Transcript. Text of segments the
// model itself rates as not speech is dropped: Whisper tends to invent a
// "thank you" for silence.
func (r openAIResponse) transcript(engine string) Transcript {
	t := Transcript{Text: cleanText(r.Text), Engine: engine, Language: r.Language}
	if len(r.Segments) > 0 {
		var sum float64
		rated, silent := 0, 0
		for _, s := range r.Segments {
			if s.AvgLogprob != nil {
				sum += math.Exp(*s.AvgLogprob)
				rated++
			}
			if s.NoSpeechProb != nil && *s.NoSpeechProb >= noSpeechProb {
				silent++
			}
		}
		if rated > 0 {
			t.Confidence = min(1, max(0, sum/float64(rated)))
		}
		if silent == len(r.Segments) {
			t.Text, t.Confidence = "", 0
		}
	}
	if t.Text == "" {
		t.Empty = EmptyNoSpeech
	}
	return t
}

// statusError describes a failed request. Audio the server cannot take
// (too large, an unsupported type) is permanent; anything else may pass
// later.
func statusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	switch resp.StatusCode {
	case http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return fmt.Errorf("transcribe openai: %w: %s: %s", ErrUnsupported, resp.Status, msg)
	}
	return fmt.Errorf("transcribe openai: %s: %s", resp.Status, msg)
}
