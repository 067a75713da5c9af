package dev

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The embedded instance processes every sample through the real pipeline
// — IMAP, the Twilio source, transcription where pocketsphinx is
// installed, tagging, points — and acknowledges each one but the
// out-of-office reply.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := Run(ctx, Options{Dir: t.TempDir(), Smoke: true, Out: &out,
		Log: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"smoke test passed", "ack suppressed auto-generated", "Voicemail from +442079460958",
		"#field-intel: Heard at Globex today: Acme Corp is offering", "#field-intel: Initech's buyer says",
		"slack: 2 messages in #field-intel"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// tWriter sends the daemon's log to the test log, shown on failure.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestSamples(t *testing.T) {
	ss, err := Samples()
	if err != nil {
		t.Fatal(err)
	}
	var both, auto int
	for _, s := range ss {
		if len(s.To) == 0 {
			t.Errorf("sample %s is addressed to no mailbox", s.Name)
		}
		if len(s.To) == 2 {
			both++
		}
		if s.Auto {
			auto++
		}
	}
	if len(ss) != 6 || both != 1 || auto != 1 {
		t.Errorf("%d samples, %d to both mailboxes, %d auto-generated; want 6, 1, 1", len(ss), both, auto)
	}
}
