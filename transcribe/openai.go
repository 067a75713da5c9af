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
	name     string
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
		name: "openai", url: base + "/v1/audio/transcriptions", model: cfg.Model, key: cfg.APIKey.Value(),
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
func (e *OpenAI) Name() string { return e.name }

// Transcribe checks the audio, then posts it with the model, the
// vocabulary prompt and the language hint.
func (e *OpenAI) Transcribe(ctx context.Context, a Audio) (Transcript, error) {
	return e.transcribeAt(ctx, e.url, a)
}

// transcribeAt is Transcribe against the server at url.
func (e *OpenAI) transcribeAt(ctx context.Context, url string, a Audio) (Transcript, error) {
	format, empty, err := precheck(a.Data)
	if err != nil {
		return Transcript{}, err
	}
	if empty != "" {
		return Transcript{Engine: e.Name(), Empty: empty}, nil
	}
	body, contentType, err := e.form(a, format)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe %s: %w", e.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe %s: %w", e.name, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe %s: %w", e.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Transcript{}, statusError(e.name, resp)
	}
	var r openAIResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxOutput)).Decode(&r); err != nil {
		return Transcript{}, fmt.Errorf("transcribe %s: decode response: %w", e.name, err)
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
	Text     string    `json:"text"`
	Language string    `json:"language"`
	Segments []segment `json:"segments"`
}

// segment is one verbose_json segment: OpenAI, faster-whisper and
// whisper.cpp's server all report these fields.
type segment struct {
	Start        *float64 `json:"start"`
	End          *float64 `json:"end"`
	AvgLogprob   *float64 `json:"avg_logprob"`
	NoSpeechProb *float64 `json:"no_speech_prob"`
}

const (
	// noSpeechProb above which a segment counts as not speech.
	noSpeechProb = 0.8
	// lowConfidence is exp(-1): Whisper itself re-decodes a segment whose
	// average token log-probability falls below -1. A transcript rated
	// lower than that is marked unreliable.
	lowConfidence = 0.3679
)

// transcript turns the answer into a Transcript. Text of segments the
// model itself rates as not speech is dropped: Whisper tends to invent a
// "thank you" for silence.
//
// The confidence is the mean over segments, weighted by their length when
// the server gives it, of exp(avg_logprob) × (1 − no_speech_prob): the
// geometric-mean probability of the segment's tokens, discounted by the
// chance that it is not speech at all.
func (r openAIResponse) transcript(engine string) Transcript {
	t := Transcript{Text: cleanText(r.Text), Engine: engine, Language: r.Language}
	var sum, weights float64
	silent := 0
	for _, s := range r.Segments {
		ns := 0.0
		if s.NoSpeechProb != nil {
			ns = min(1, max(0, *s.NoSpeechProb))
			if ns >= noSpeechProb {
				silent++
			}
		}
		if s.AvgLogprob == nil {
			continue
		}
		w := 1.0
		if s.Start != nil && s.End != nil && *s.End > *s.Start {
			w = *s.End - *s.Start
		}
		sum += w * math.Exp(min(0, *s.AvgLogprob)) * (1 - ns)
		weights += w
	}
	if weights > 0 {
		t.Confidence = min(1, max(0.001, sum/weights)) // 0 would read as none
	}
	if len(r.Segments) > 0 && silent == len(r.Segments) {
		t.Text, t.Confidence = "", 0
	}
	if t.Text == "" {
		t.Empty = EmptyNoSpeech
		return t
	}
	if weights > 0 && t.Confidence < lowConfidence {
		t.Unreliable = true
		t.UnreliableReason = fmt.Sprintf("low confidence %.2f (the model's own token probabilities)", t.Confidence)
	}
	return t
}

// statusError describes a failed request. Audio the server cannot take
// (too large, an unsupported type) is permanent; anything else may pass
// later.
func statusError(engine string, resp *http.Response) error {
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
		return fmt.Errorf("transcribe %s: %w: %s: %s", engine, ErrUnsupported, resp.Status, msg)
	}
	return fmt.Errorf("transcribe %s: %s: %s", engine, resp.Status, msg)
}
