package transcribe

import "context"

// None is the engine that transcribes nothing: every voicemail waits for a
// manager to type its transcript, which then makes the item due again.
type None struct{}

// Name returns "none".
func (None) Name() string { return "none" }

// Transcribe returns an awaiting transcript, after checking that the audio
// is well formed and holds speech, so that managers are not asked to
// transcribe silence.
func (n None) Transcribe(ctx context.Context, a Audio) (Transcript, error) {
	_, empty, err := precheck(a.Data)
	if err != nil {
		return Transcript{}, err
	}
	if empty != "" {
		return Transcript{Engine: n.Name(), Empty: empty}, nil
	}
	return Transcript{Engine: n.Name(), Empty: EmptyManual, Awaiting: true}, nil
}
