package voicemail

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/transcribe"
)

// TestTwilioTranscriptionEngine runs the transcribe package's twilio
// engine on this package's client against the fake: Twilio's
// transcription completes later, stays in progress, fails, or never comes.
func TestTwilioTranscriptionEngine(t *testing.T) {
	f := newFakeTwilio(t)
	client, err := NewClient(testConfig(f.srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := transcribe.New(config.Transcribe{Engine: "twilio", Twilio: config.TwilioTranscription{Wait: 10 * time.Minute}},
		&transcribe.Options{Twilio: client, TwilioFirstPoll: 10 * time.Millisecond, TwilioPollFor: 500 * time.Millisecond, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	audio := speech(t, "pocketsphinx/test/data/cards/001.wav")
	now := time.Now()
	inProgress := [2]string{"in-progress", ""}
	cases := []struct {
		why      string
		answers  [][2]string
		recorded time.Time
		want     transcribe.Transcript
		pending  bool
	}{
		{"completes after two polls", [][2]string{inProgress, inProgress, {"completed", "UMBRELLA OFFERED  A DISCOUNT"}}, now,
			transcribe.Transcript{Text: "UMBRELLA OFFERED A DISCOUNT", Engine: "twilio"}, false},
		{"completed but empty", [][2]string{{"completed", ""}}, now,
			transcribe.Transcript{Engine: "twilio", Empty: transcribe.EmptyNoSpeech}, false},
		{"twilio failed: a manager transcribes", [][2]string{{"failed", ""}}, now,
			transcribe.Transcript{Engine: "twilio", Empty: transcribe.EmptyTwilioFail, Awaiting: true}, false},
		{"still in progress: try the item later", [][2]string{inProgress}, now, transcribe.Transcript{}, true},
		{"in progress past the wait: a manager transcribes", [][2]string{inProgress}, now.Add(-11 * time.Minute),
			transcribe.Transcript{Engine: "twilio", Empty: "twilio transcription not available after 10m", Awaiting: true}, false},
		{"never asked to transcribe", nil, now.Add(-11 * time.Minute),
			transcribe.Transcript{Engine: "twilio", Empty: "twilio transcription not available after 10m", Awaiting: true}, false},
	}
	for i, c := range cases {
		rs := f.add(i+1, "completed", c.recorded, "+14155550101", audio)
		f.mu.Lock()
		f.transcriptions[rs] = c.answers
		f.mu.Unlock()
		got, err := engine.Transcribe(context.Background(), transcribe.Audio{Data: audio, RecordingSID: rs, RecordedAt: c.recorded})
		if c.pending {
			if !errors.Is(err, transcribe.ErrPending) || transcribe.Permanent(err) {
				t.Errorf("%s: %+v, %v; want ErrPending", c.why, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.why, got, err, c.want)
		}
	}
	if n := f.hit("GET transcriptions"); n < 8 {
		t.Errorf("%d transcription lookups; the first case alone polls three times", n)
	}

	lookups := f.hit("GET transcriptions")
	silence := make([]byte, 44+16000)
	copy(silence, speech(t, "pocketsphinx/test/data/null.wav")[:40])
	silence[40], silence[41] = 0x80, 0x3e // data size 16000: half a second of zeros
	got, err := engine.Transcribe(context.Background(), transcribe.Audio{Data: silence, RecordingSID: sid("RE", 99)})
	if err != nil || got.Empty != transcribe.EmptySilence || f.hit("GET transcriptions") != lookups {
		t.Errorf("silence: %+v, %v; want an empty transcript without asking twilio", got, err)
	}
	if _, err := engine.Transcribe(context.Background(), transcribe.Audio{Data: audio}); !errors.Is(err, transcribe.ErrUnsupported) {
		t.Errorf("audio that is no twilio recording: %v, want ErrUnsupported", err)
	}
}
