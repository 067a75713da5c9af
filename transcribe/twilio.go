package transcribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// ErrPending means Twilio is still transcribing: try the item again later.
var ErrPending = errors.New("twilio transcription in progress")

// Twilio statuses of a transcription.
const (
	twilioCompleted = "completed"
	twilioFailed    = "failed"
)

// Twilio uses the transcription Twilio makes of a recording left with
// <Record transcribe="true">. It polls while Twilio works on it, with a
// growing pause, for at most PollFor per call; once Wait has passed since
// the recording, the voicemail waits for a manager's transcript instead.
type Twilio struct {
	api       TwilioTranscriptions
	wait      time.Duration
	firstPoll time.Duration
	pollFor   time.Duration
	now       func() time.Time
	log       *slog.Logger
}

// Polling defaults of the twilio engine.
const (
	defaultTwilioWait = 10 * time.Minute
	defaultFirstPoll  = 2 * time.Second
	maxPollPause      = 15 * time.Second
	// defaultPollFor keeps one call short: an item worker has other items
	// to process, and the item is simply tried again later.
	defaultPollFor = 20 * time.Second
)

func newTwilio(cfg config.TwilioTranscription, o Options, log *slog.Logger) (*Twilio, error) {
	if o.Twilio == nil {
		return nil, errors.New("transcribe: engine twilio needs the twilio section")
	}
	wait := cfg.Wait
	if wait <= 0 {
		wait = defaultTwilioWait
	}
	first, pollFor := o.TwilioFirstPoll, o.TwilioPollFor
	if first <= 0 {
		first = defaultFirstPoll
	}
	if pollFor <= 0 {
		pollFor = defaultPollFor
	}
	return &Twilio{api: o.Twilio, wait: wait, firstPoll: first, pollFor: pollFor, now: o.Now, log: log}, nil
}

// Name returns "twilio".
func (e *Twilio) Name() string { return "twilio" }

// Transcribe returns Twilio's transcript of the recording. While Twilio is
// still at work it returns an error wrapping ErrPending; when Twilio failed,
// or gave nothing within the wait, an awaiting transcript.
func (e *Twilio) Transcribe(ctx context.Context, a Audio) (Transcript, error) {
	if a.RecordingSID == "" {
		return Transcript{}, fmt.Errorf("%w: engine twilio transcribes twilio recordings only", ErrUnsupported)
	}
	_, empty, err := precheck(a.Data)
	if err != nil {
		return Transcript{}, err
	}
	if empty != "" {
		return Transcript{Engine: e.Name(), Empty: empty}, nil
	}
	start := e.now()
	deadline := start.Add(e.wait)
	if !a.RecordedAt.IsZero() {
		deadline = a.RecordedAt.Add(e.wait)
	}
	stop := start.Add(e.pollFor)
	pause := e.firstPoll
	for {
		status, text, err := e.api.RecordingTranscription(ctx, a.RecordingSID)
		if err != nil {
			return Transcript{}, fmt.Errorf("transcribe twilio %s: %w", a.RecordingSID, err)
		}
		switch status {
		case twilioCompleted:
			t := Transcript{Text: cleanText(text), Engine: e.Name()}
			if t.Text == "" {
				t.Empty = EmptyNoSpeech
			}
			return t, nil
		case twilioFailed:
			return Transcript{Engine: e.Name(), Empty: EmptyTwilioFail, Awaiting: true}, nil
		}
		now := e.now()
		if !now.Before(deadline) {
			e.log.Info("no twilio transcription in time", "recording_sid", a.RecordingSID, "status", status)
			return Transcript{Engine: e.Name(), Empty: fmt.Sprintf("twilio transcription not available after %s",
				shortDuration(e.wait)), Awaiting: true}, nil
		}
		if !now.Before(stop) {
			return Transcript{}, fmt.Errorf("transcribe twilio %s: %w (status %q)", a.RecordingSID, ErrPending, status)
		}
		if !sleep(ctx, min(pause, deadline.Sub(now), stop.Sub(now))) {
			return Transcript{}, fmt.Errorf("transcribe twilio %s: %w: %w", a.RecordingSID, ErrPending, ctx.Err())
		}
		pause = min(2*pause, maxPollPause)
	}
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// shortDuration prints 10m instead of 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}
