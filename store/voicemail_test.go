package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// receiveVoicemail stores one voicemail from the "twilio" source and
// claims it for worker w1.
func receiveVoicemail(t *testing.T, s *store.Store, sid string) model.Item {
	t.Helper()
	ctx := context.Background()
	if err := s.EnsureSource(ctx, "twilio", "twilio"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Receive(ctx, model.Batch{Source: "twilio", Items: []model.RawItem{{
		SourceKey: sid, Kind: "voicemail", ContentHash: "twilio-recording-" + sid,
		Raw: []byte("RIFF....WAVE"), Meta: `{"recording_sid":"` + sid + `"}`,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	items, err := s.Claim(ctx, "w1", 10, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim = %d items, %v; want the voicemail", len(items), err)
	}
	return items[0]
}

func TestTranscriptLifecycle(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		it := receiveVoicemail(t, s, "RE01")

		if _, ok, err := s.ItemTranscript(ctx, it.ID); err != nil || ok {
			t.Fatalf("before transcription: ok=%v err=%v; want no transcript", ok, err)
		}
		// Only the worker holding the claim may save: a worker whose lease
		// ran out must not overwrite the new holder's result.
		err := s.SaveTranscript(ctx, it.ID, "w2", model.Transcript{Text: "stale", Engine: "command"})
		if !errors.Is(err, store.ErrNotClaimed) {
			t.Fatalf("save by another worker = %v, want ErrNotClaimed", err)
		}

		// A machine that found no speech leaves an empty transcript with a
		// reason; it counts as done, so a retry never transcribes again.
		if err := s.SaveTranscript(ctx, it.ID, "w1", model.Transcript{Engine: "command", Note: "silence"}); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.ItemTranscript(ctx, it.ID)
		if err != nil || !ok || got.Text != "" || got.Note != "silence" || got.Engine != "command" {
			t.Fatalf("empty transcript = %+v ok=%v err=%v", got, ok, err)
		}

		want := model.Transcript{Text: "acme offered a discount", Engine: "openai", Language: "en", Confidence: 0.75}
		if err := s.SaveTranscript(ctx, it.ID, "w1", want); err != nil {
			t.Fatal(err)
		}
		got, ok, err = s.ItemTranscript(ctx, it.ID)
		if err != nil || !ok || got != want {
			t.Fatalf("transcript = %+v ok=%v err=%v; want %+v", got, ok, err, want)
		}
		stored, err := s.Item(ctx, it.ID)
		if err != nil || stored.Transcript != want.Text {
			t.Fatalf("item transcript column = %q, %v", stored.Transcript, err)
		}
	})
}

func TestAwaitingManagerTranscript(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		it := receiveVoicemail(t, s, "RE02")
		err := s.SaveTranscript(ctx, it.ID, "w1", model.Transcript{Engine: "none",
			Note: "waiting for a manager's transcript", Awaiting: true})
		if err != nil {
			t.Fatal(err)
		}
		// Awaiting is not a transcript: processing again asks the engine
		// again (it may have been configured since).
		if got, ok, err := s.ItemTranscript(ctx, it.ID); err != nil || ok || !got.Awaiting {
			t.Fatalf("awaiting = %+v ok=%v err=%v; want awaiting without text", got, ok, err)
		}
		if err := s.Complete(ctx, it.ID, "w1", model.Processed{}); err != nil {
			t.Fatal(err)
		}
		ids, err := s.AwaitingTranscript(ctx, 10)
		if err != nil || len(ids) != 1 || ids[0] != it.ID {
			t.Fatalf("awaiting list = %v, %v; want [%d]", ids, err, it.ID)
		}

		if err := s.SetManagerTranscript(ctx, it.ID, "ann", "  "); err == nil {
			t.Fatal("an empty manager transcript was accepted")
		}
		if err := s.SetManagerTranscript(ctx, 9999, "ann", "text"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown item = %v, want ErrNotFound", err)
		}
		clk.Add(time.Minute)
		if err := s.SetManagerTranscript(ctx, it.ID, "ann", "Globex cut prices by 20%"); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.ItemTranscript(ctx, it.ID)
		if err != nil || !ok || got.Text != "Globex cut prices by 20%" || got.Engine != "manager:ann" || got.Awaiting {
			t.Fatalf("manager transcript = %+v ok=%v err=%v", got, ok, err)
		}
		if ids, _ := s.AwaitingTranscript(ctx, 10); len(ids) != 0 {
			t.Fatalf("still awaiting: %v", ids)
		}
		// The typed transcript makes the item due again so it is tagged.
		items, err := s.Claim(ctx, "w1", 10, time.Minute)
		if err != nil || len(items) != 1 || items[0].ID != it.ID || items[0].Attempts != 1 {
			t.Fatalf("reclaim = %+v, %v; want the item again with a fresh attempt count", items, err)
		}
	})
}

func TestReceivedKeys(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		receiveVoicemail(t, s, "RE03")
		if err := s.EnsureSource(ctx, "other", "twilio"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			why    string
			source string
			keys   []string
			want   map[string]bool
		}{
			{"stored key is found, unknown is not", "twilio", []string{"RE03", "RE99"}, map[string]bool{"RE03": true}},
			{"keys are per source", "other", []string{"RE03"}, map[string]bool{}},
			{"no keys, no query", "twilio", nil, map[string]bool{}},
		}
		for _, c := range cases {
			got, err := s.ReceivedKeys(ctx, c.source, c.keys)
			if err != nil {
				t.Fatalf("%s: %v", c.why, err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%s: got %v, want %v", c.why, got, c.want)
			}
			for k := range c.want {
				if !got[k] {
					t.Fatalf("%s: got %v, want %v", c.why, got, c.want)
				}
			}
		}
	})
}

// TestListenQueue: a transcript that may be wrong keeps its reason, puts
// its item in the inbox's listen queue and shows on the item; a manager's
// transcript clears it, on both databases (migration 00011).
func TestListenQueue(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store, clk *testenv.Clock) {
		ctx := context.Background()
		it := receiveVoicemail(t, s, "RE11")
		doubt := "8000 Hz audio; the recogniser's model expects 16000 Hz"
		want := model.Transcript{Text: "at me is offering big discounts", Engine: "command", Unreliable: doubt}
		if err := s.SaveTranscript(ctx, it.ID, "w1", want); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.ItemTranscript(ctx, it.ID); err != nil || !ok || got != want {
			t.Fatalf("transcript = %+v ok=%v err=%v; want %+v", got, ok, err, want)
		}
		if err := s.Complete(ctx, it.ID, "w1", model.Processed{BodyText: want.Text}); err != nil {
			t.Fatal(err)
		}
		// A second voicemail, transcribed without doubt, stays out of the queue.
		other := receiveVoicemail(t, s, "RE12")
		if err := s.SaveTranscript(ctx, other.ID, "w1", model.Transcript{Text: "globex cut prices", Engine: "whisper", Confidence: 0.8}); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, other.ID, "w1", model.Processed{BodyText: "globex cut prices"}); err != nil {
			t.Fatal(err)
		}
		queue := func() []int64 {
			items, _, err := s.Inbox(ctx, store.InboxQuery{Listen: true})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, i := range items {
				if i.TranscriptUnreliable != doubt {
					t.Errorf("item %d in the queue says %q", i.ID, i.TranscriptUnreliable)
				}
				ids = append(ids, i.ID)
			}
			return ids
		}
		if ids := queue(); len(ids) != 1 || ids[0] != it.ID {
			t.Fatalf("listen queue = %v, want [%d]", ids, it.ID)
		}
		if d, err := s.ItemDetail(ctx, it.ID); err != nil || d.Transcription.Unreliable != doubt || d.TranscriptUnreliable != doubt {
			t.Fatalf("item detail = %+v, %v", d.Transcription, err)
		}
		if err := s.SetManagerTranscript(ctx, it.ID, "ann", "Acme is offering big discounts"); err != nil {
			t.Fatal(err)
		}
		if got, _, err := s.ItemTranscript(ctx, it.ID); err != nil || got.Unreliable != "" {
			t.Fatalf("after the manager's transcript = %+v, %v; want it trusted", got, err)
		}
		if ids := queue(); len(ids) != 0 {
			t.Fatalf("listen queue after the correction = %v, want empty", ids)
		}
	})
}
