package voicemail

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
)

// recordingTransport remembers the requests that reached the server.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []string
	next http.RoundTripper
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(r)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	rt.reqs = append(rt.reqs, r.Method+" "+r.URL.Host+r.URL.Path+" "+http.StatusText(status))
	return resp, err
}

// TestPrismContract sends each request the source and the SMS sender make
// to Prism, which checks it against Twilio's OpenAPI description (a
// malformed SID, a non-integer page size or a missing To gets 422) and
// answers with the spec's examples.
func TestPrismContract(t *testing.T) {
	prism := testenv.Prism(t)
	rt := &recordingTransport{next: http.DefaultTransport}
	cfg := testConfig(prism)
	client, err := NewClient(cfg, &ClientOptions{Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	example := "RE" + strings.Repeat("a", 32) // the spec's example recording

	var listed []Recording
	err = client.Recordings(ctx, time.Date(2026, 1, 6, 15, 4, 5, 0, time.UTC), 50, func(page []Recording) error {
		listed = append(listed, page...)
		return nil
	})
	if err != nil {
		t.Fatalf("list recordings: %v", err)
	}
	if len(listed) != 1 || listed[0].SID != example || listed[0].Status != "completed" || listed[0].Duration != 4 ||
		listed[0].DateCreated.IsZero() || listed[0].CallSID == "" {
		t.Errorf("listed %+v, want the spec's completed example", listed)
	}

	rec, err := client.Recording(ctx, sid("RE", 7))
	if err != nil || rec.SID != example || rec.DateCreated.IsZero() {
		t.Errorf("fetch recording = %+v, %v", rec, err)
	}

	call, err := client.Call(ctx, sid("CA", 7))
	if err != nil || !strings.HasPrefix(call.From, "+") || !strings.HasPrefix(call.To, "+") {
		t.Errorf("fetch call = %+v, %v; want caller and called numbers", call, err)
	}

	status, text, err := client.RecordingTranscription(ctx, sid("RE", 7))
	if err != nil || status != "in-progress" || text != "THIS IS A TEST" {
		t.Errorf("transcription = %q %q, %v; want the spec's example", status, text, err)
	}

	if err := client.DeleteRecording(ctx, sid("RE", 7)); err != nil {
		t.Errorf("delete recording: %v", err)
	}

	msg, err := client.SendSMS(ctx, "+14155550100", "Thanks for the intel on Umbrella: 3 points.")
	if err != nil || !strings.HasPrefix(msg, "SM") {
		t.Errorf("send sms = %q, %v; want a message SID", msg, err)
	}

	// Every request went to Prism, not to api.twilio.com, and passed its
	// validation.
	for _, r := range rt.reqs {
		if strings.Contains(r, twilioHost) || strings.HasSuffix(r, "Unprocessable Entity") {
			t.Errorf("request %s", r)
		}
	}
	if len(rt.reqs) != 6 {
		t.Errorf("%d requests, want 6: %v", len(rt.reqs), rt.reqs)
	}
}
