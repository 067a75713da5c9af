// Package transcribe turns voicemail audio into text. One Transcriber
// interface has five engines, chosen in the configuration: an
// OpenAI-compatible HTTP server (/v1/audio/transcriptions), whisper.cpp's
// whisper-server run as a child process (or already running), Twilio's own
// transcription of the recording, a local command such as
// pocketsphinx_continuous, and none, which leaves the transcript to a
// manager. An engine that runs a process also implements io.Closer: close
// it at shutdown.
//
// Every engine checks the audio first: a malformed file is an error wrapping
// ErrBadAudio, and silence or steady noise gives an empty Transcript with a
// reason instead of text an engine might invent.
package transcribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// Transcriber turns audio into text.
type Transcriber interface {
	// Transcribe returns the transcript of a. An error wrapping
	// ErrBadAudio or ErrUnsupported is permanent for that audio; any other
	// error may pass when tried again.
	Transcribe(ctx context.Context, a Audio) (Transcript, error)
	// Name names the engine: "openai", "whisper", "twilio", "command" or
	// "none".
	Name() string
}

// Audio is one recording to transcribe.
type Audio struct {
	// Data is the file: WAV, MP3 or another format the engine accepts.
	Data []byte
	// ContentType is the media type the source gave, e.g. "audio/x-wav".
	ContentType string
	// Filename is the attachment's name or the recording's, for engines
	// that look at the extension.
	Filename string
	// RecordingSID is the Twilio recording, when the audio is one.
	RecordingSID string
	// RecordedAt is when the recording was made; the twilio engine waits
	// for Twilio's transcription until a time after it.
	RecordedAt time.Time
}

// Transcript is what an engine made of the audio.
type Transcript struct {
	// Text is the transcript, with whitespace collapsed.
	Text string
	// Engine names the engine that made it.
	Engine string
	// Language is the spoken language when the engine reports it.
	Language string
	// Confidence is between 0 and 1; 0 means the engine gives none.
	Confidence float64
	// Unreliable marks text that should not be taken as what was said: the
	// engine rated its own output low, or the audio is poorer than the
	// engine's model is made for. The text is kept; a person should listen.
	Unreliable bool
	// UnreliableReason says why, e.g. "8000 Hz audio; the model expects
	// 16000 Hz"; empty unless Unreliable.
	UnreliableReason string
	// Empty says why Text is empty; see the Empty* reasons.
	Empty string
	// Awaiting is set when no machine transcript will come: the item waits
	// for a manager to type one.
	Awaiting bool
}

// Reasons for an empty transcript.
const (
	EmptyNoAudio    = "empty recording"
	EmptySilence    = "silence"
	EmptyNoise      = "no speech detected"
	EmptyNoSpeech   = "no speech recognised"
	EmptyManual     = "waiting for a manager's transcript"
	EmptyTwilioFail = "twilio could not transcribe the recording"
)

// Errors that retrying cannot fix.
var (
	// ErrBadAudio marks malformed audio: a broken header, an impossible
	// sample rate, a format nobody can decode.
	ErrBadAudio = errors.New("bad audio")
	// ErrUnsupported marks audio this installation cannot decode, such as
	// MP3 without sox's MP3 support.
	ErrUnsupported = errors.New("unsupported audio")
)

// Permanent reports whether err is one that retrying the same audio cannot
// fix.
func Permanent(err error) bool {
	return errors.Is(err, ErrBadAudio) || errors.Is(err, ErrUnsupported)
}

// TwilioTranscriptions looks up Twilio's transcription of a recording. The
// Twilio client of the voicemail source implements it.
type TwilioTranscriptions interface {
	// RecordingTranscription returns the status ("in-progress",
	// "completed", "failed") and text of the recording's newest
	// transcription; status is empty when the recording has none.
	RecordingTranscription(ctx context.Context, recordingSID string) (status, text string, err error)
}

// Options are what the engines need besides the configuration. Zero fields
// mean the defaults.
type Options struct {
	// Vocabulary lists names the audio may mention (products,
	// competitors); engines that take hints get them.
	Vocabulary []string
	// HTTPClient calls the openai and whisper engines' servers; one with
	// the configured timeout by default.
	HTTPClient *http.Client
	// Twilio answers the twilio engine; required for it.
	Twilio TwilioTranscriptions
	// TwilioFirstPoll is the twilio engine's first pause while Twilio is at
	// work (2 s by default; it doubles up to 15 s), and TwilioPollFor how
	// long one call polls before reporting ErrPending (20 s by default).
	TwilioFirstPoll, TwilioPollFor time.Duration
	// Logger receives the engines' log lines; slog.Default when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// New returns the engine cfg.Engine names.
func New(cfg config.Transcribe, opts *Options) (Transcriber, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	log := o.Logger.With("component", "transcribe", "engine", cfg.Engine)
	switch cfg.Engine {
	case "", "none":
		return None{}, nil
	case "openai":
		return newOpenAI(cfg.OpenAI, timeout, o, log)
	case "whisper":
		return newWhisper(cfg.Whisper, timeout, o, log)
	case "twilio":
		return newTwilio(cfg.Twilio, o, log)
	case "command":
		return newCommand(cfg.Command, timeout, log)
	}
	return nil, fmt.Errorf("transcribe: unknown engine %q (want none, openai, whisper, twilio or command)", cfg.Engine)
}

// VocabularyFrom lists the competitor and product names of the
// configuration, with competitor aliases, as hints for the engines.
func VocabularyFrom(c *config.Config) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, comp := range c.Competitors {
		add(comp.Name)
		for _, a := range comp.Aliases {
			add(a)
		}
	}
	for _, p := range c.Products {
		add(p.Name)
	}
	for _, v := range c.Transcribe.Vocabulary {
		add(v)
	}
	return out
}
