package transcribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// audioPlaceholder in a command's argv is replaced by the audio file.
const audioPlaceholder = "{audio}"

// Command runs a local speech-to-text program, such as
// pocketsphinx_continuous or whisper.cpp's whisper-cli, on the audio file
// and takes its standard output as the transcript. With a sample rate set,
// sox first turns the audio into mono 16-bit WAV at that rate. Audio
// recorded below the model's rate is marked unreliable: resampling adds no
// bandwidth, and a wideband model hears telephone audio badly (pocketsphinx
// en-us: 88 % word errors at 8 kHz against 38 % at 16 kHz).
type Command struct {
	argv      []string
	rate      int
	modelRate int
	sox       string
	timeout   time.Duration
	log       *slog.Logger
}

func newCommand(cfg config.Command, timeout time.Duration, log *slog.Logger) (*Command, error) {
	if len(cfg.Argv) == 0 || cfg.Argv[0] == "" {
		return nil, errors.New("transcribe: engine command needs argv")
	}
	if !strings.Contains(strings.Join(cfg.Argv, "\x00"), audioPlaceholder) {
		return nil, fmt.Errorf("transcribe: command argv needs the %s placeholder", audioPlaceholder)
	}
	if cfg.SampleRate < 0 || (cfg.SampleRate > 0 && (cfg.SampleRate < minSampleRate || cfg.SampleRate > maxSampleRate)) {
		return nil, fmt.Errorf("transcribe: command sample_rate %d is outside %d-%d", cfg.SampleRate, minSampleRate, maxSampleRate)
	}
	if cfg.ModelRate < 0 || (cfg.ModelRate > 0 && (cfg.ModelRate < minSampleRate || cfg.ModelRate > maxSampleRate)) {
		return nil, fmt.Errorf("transcribe: command model_rate %d is outside %d-%d", cfg.ModelRate, minSampleRate, maxSampleRate)
	}
	sox := cfg.Sox
	if sox == "" {
		sox = "sox"
	}
	modelRate := cfg.ModelRate
	if modelRate == 0 {
		modelRate = cfg.SampleRate
	}
	return &Command{argv: cfg.Argv, rate: cfg.SampleRate, modelRate: modelRate, sox: sox, timeout: timeout, log: log}, nil
}

// Name returns "command".
func (c *Command) Name() string { return "command" }

// Transcribe writes the audio to a private temporary directory, resamples
// it when configured, runs the program with a time limit and returns its
// output with whitespace collapsed.
func (c *Command) Transcribe(ctx context.Context, a Audio) (Transcript, error) {
	format, empty, err := precheck(a.Data)
	if err != nil {
		return Transcript{}, err
	}
	if empty != "" {
		return Transcript{Engine: c.Name(), Empty: empty}, nil
	}
	dir, err := os.MkdirTemp("", "earshot-audio-")
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe command: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "input."+format)
	if err := os.WriteFile(file, a.Data, 0o600); err != nil {
		return Transcript{}, fmt.Errorf("transcribe command: %w", err)
	}
	if c.rate > 0 {
		out := filepath.Join(dir, "audio.wav")
		if err := c.resample(ctx, file, out, format); err != nil {
			return Transcript{}, err
		}
		file = out
		if format != formatWAV {
			// Only now can compressed audio be checked for speech.
			decoded, err := os.ReadFile(out)
			if err != nil {
				return Transcript{}, fmt.Errorf("transcribe command: %w", err)
			}
			if _, empty, err := precheck(decoded); err != nil || empty != "" {
				return Transcript{Engine: c.Name(), Empty: empty}, err
			}
		}
	}
	argv := make([]string, len(c.argv))
	for i, arg := range c.argv {
		argv[i] = strings.ReplaceAll(arg, audioPlaceholder, file)
	}
	start := time.Now()
	stdout, _, err := run(ctx, c.timeout, argv)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcribe command: %w", err)
	}
	c.log.Debug("transcribed", "recording_sid", a.RecordingSID, "seconds", time.Since(start).Seconds())
	text := cleanText(string(stdout))
	if text == "" {
		return Transcript{Engine: c.Name(), Empty: EmptyNoSpeech}, nil
	}
	t := Transcript{Text: text, Engine: c.Name()}
	if rate := recordedRate(a.Data); rate > 0 && rate < c.modelRate {
		t.Unreliable = true
		t.UnreliableReason = fmt.Sprintf("%d Hz audio; the recogniser's model expects %d Hz", rate, c.modelRate)
	}
	return t, nil
}

// resample converts in to mono 16-bit signed WAV at the configured rate.
func (c *Command) resample(ctx context.Context, in, out, format string) error {
	argv := []string{c.sox, "-q", in, "-r", strconv.Itoa(c.rate), "-c", "1", "-b", "16", "-e", "signed-integer", out}
	_, stderr, err := run(ctx, c.timeout, argv)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, errTimeout), ctx.Err() != nil:
		return fmt.Errorf("resample audio: %w", err)
	case strings.Contains(string(stderr), "no handler for"):
		hint := ""
		if format == formatMP3 {
			hint = " (mp3 needs sox's mp3 support: Debian package libsox-fmt-mp3)"
		}
		return fmt.Errorf("%w: sox cannot read %s audio%s: %v", ErrUnsupported, format, hint, err)
	}
	return fmt.Errorf("%w: sox cannot decode the %s audio: %v", ErrBadAudio, format, err)
}

// cleanText collapses whitespace and drops recogniser markers such as
// <sil>, [NOISE] and ++BREATH++.
func cleanText(s string) string {
	var words []string
	for _, w := range strings.Fields(s) {
		marker := (strings.HasPrefix(w, "<") && strings.HasSuffix(w, ">")) ||
			(strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]")) ||
			(strings.HasPrefix(w, "++") && strings.HasSuffix(w, "++"))
		if !marker {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}
