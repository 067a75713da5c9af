package pipeline

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/routing"
	"github.com/earshot-dev/earshot/store"
	"github.com/earshot-dev/earshot/transcribe"
)

// VoicemailStore is what voicemail processing needs of the store.
type VoicemailStore interface {
	GateStore
	ItemTranscript(ctx context.Context, id int64) (model.Transcript, bool, error)
	SaveTranscript(ctx context.Context, id int64, worker string, t model.Transcript) error
}

var _ VoicemailStore = (*store.Store)(nil)

// Voicemails processes voicemail items, and the audio attachments of
// voicemail-to-email messages. The transcript is stored before anything
// else, in a transaction of its own, so a retry never transcribes twice;
// the caller is credited by phone number; the transcript is tagged and
// routed like an email's text, with no mailbox: its content decides.
type Voicemails struct {
	Store       VoicemailStore
	Transcriber transcribe.Transcriber
	Router      *Router
	// Gate decides who a voicemail is from; nil credits every caller
	// number of the roster, as with twilio.attestation: none.
	Gate *Gate
}

// e164 matches a phone number in E.164. Twilio writes withheld numbers as
// "Anonymous" or placeholders that are not valid numbers.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Process transcribes (or loads the transcript of) a voicemail, credits
// the caller's rep, and tags and routes the transcript. A voicemail
// without text (silence, or waiting for a manager's transcript) is
// processed without tags; a manager's transcript makes it due again. An
// error is retried later: a transient engine failure, ErrPending while
// Twilio transcribes, or malformed audio, which ends in quarantine.
func (v *Voicemails) Process(ctx context.Context, it model.Item) (model.Processed, error) {
	if it.Kind != model.KindVoicemail {
		return model.Processed{}, fmt.Errorf("item %d: %q is no voicemail", it.ID, it.Kind)
	}
	var warnings []string
	meta, err := it.VoicemailMeta()
	if err != nil {
		warnings = append(warnings, err.Error())
	}
	recorded, _ := time.Parse(time.RFC3339, meta.DateCreated)
	tr, err := v.transcript(ctx, it, transcribe.Audio{
		Data: it.Raw, ContentType: meta.MediaContentType, RecordingSID: meta.RecordingSID, RecordedAt: recorded,
		Filename: strings.TrimPrefix(meta.RecordingSID+"."+meta.MediaFormat, "."),
	})
	if err != nil {
		return model.Processed{}, err
	}
	out := model.Processed{BodyText: tr.Text, FullText: tr.Text, Subject: "Voicemail from a withheld number"}
	caller := ""
	if e164.MatchString(meta.From) {
		caller = meta.From
		out.Sender, out.Subject = meta.From, "Voicemail from "+meta.From
	} else {
		warnings = append(warnings, "caller number withheld")
	}
	g := v.Gate
	if g == nil {
		g = &Gate{Store: v.Store, Attestation: "none"}
	}
	t, err := g.voicemail(ctx, it, caller, meta.CallSID)
	if err != nil {
		return model.Processed{}, err
	}
	t.apply(&out, config.Contributors{})
	if tr.Note != "" {
		warnings = append(warnings, "transcript: "+tr.Note)
	}
	out.Warnings = warnings
	out.Message = model.Message{
		CallerNumber: meta.From, CalledNumber: meta.To, CallerName: meta.CallerName,
		RecordingSID: meta.RecordingSID, CallSID: meta.CallSID, DurationSeconds: max(meta.Duration, 0),
		RecordedAt: meta.DateCreated, TranscriptEngine: tr.Engine, TranscriptLanguage: tr.Language,
		TranscriptNote: tr.Note, Confidence: tr.Confidence, AwaitingTranscript: tr.Awaiting,
		TranscriptUnreliable: tr.Unreliable, Unregistered: out.RepID == 0,
	}
	if tr.Text == "" {
		return out, nil
	}
	out.Tags, out.Assignments, err = v.route(routing.Input{Transcript: tr.Text})
	if !t.Route {
		out.Assignments = nil
	}
	return out, err
}

// transcript returns the stored transcript of the item, or transcribes
// the audio and stores the result before returning it.
func (v *Voicemails) transcript(ctx context.Context, it model.Item, a transcribe.Audio) (model.Transcript, error) {
	saved, ok, err := v.Store.ItemTranscript(ctx, it.ID)
	if err != nil || ok {
		return saved, err
	}
	if v.Transcriber == nil {
		return model.Transcript{}, errors.New("no transcription engine configured")
	}
	t, err := v.Transcriber.Transcribe(ctx, a)
	if err != nil {
		return model.Transcript{}, fmt.Errorf("transcribe item %d: %w", it.ID, err)
	}
	st := model.Transcript{Text: t.Text, Engine: t.Engine, Language: t.Language, Confidence: t.Confidence,
		Unreliable: t.UnreliableReason, Note: t.Empty, Awaiting: t.Awaiting}
	if err := v.Store.SaveTranscript(ctx, it.ID, it.ClaimedBy, st); err != nil {
		return model.Transcript{}, err
	}
	return st, nil
}

// TranscribeAttachments transcribes the audio attachments of a PBX
// voicemail-to-email message and returns their text, stored first like a
// voicemail's transcript (and loaded instead when stored). An attachment
// whose audio is malformed is noted and skipped: the message itself still
// counts. Other engine failures are returned to retry the item. The
// transcript is unreliable when any attachment's is.
func (v *Voicemails) TranscribeAttachments(ctx context.Context, it model.Item, msg *intake.Message) (model.Transcript, error) {
	saved, ok, err := v.Store.ItemTranscript(ctx, it.ID)
	if err != nil || ok {
		return saved, err
	}
	var audio []intake.Attachment
	for _, a := range msg.Attachments {
		if a.Audio && len(a.Data) > 0 {
			audio = append(audio, a)
		}
	}
	if len(audio) == 0 {
		return model.Transcript{}, nil
	}
	if v.Transcriber == nil {
		return model.Transcript{}, errors.New("no transcription engine configured")
	}
	var texts, notes, doubts []string
	awaiting := true
	for _, a := range audio {
		t, err := v.Transcriber.Transcribe(ctx, transcribe.Audio{Data: a.Data, ContentType: a.ContentType, Filename: a.Filename})
		switch {
		case transcribe.Permanent(err):
			notes = append(notes, fmt.Sprintf("%s: %v", a.Filename, err))
			awaiting = false
			continue
		case err != nil:
			return model.Transcript{}, fmt.Errorf("transcribe item %d attachment %s: %w", it.ID, a.Filename, err)
		}
		awaiting = awaiting && t.Awaiting
		if t.Text != "" {
			texts = append(texts, t.Text)
			if t.UnreliableReason != "" {
				doubts = append(doubts, a.Filename+": "+t.UnreliableReason)
			}
		} else if t.Empty != "" {
			notes = append(notes, a.Filename+": "+t.Empty)
		}
	}
	st := model.Transcript{Text: strings.Join(texts, "\n\n"), Engine: v.Transcriber.Name(),
		Awaiting: awaiting && len(texts) == 0, Unreliable: strings.Join(doubts, "; ")}
	if len(audio) == 1 && len(doubts) == 1 {
		st.Unreliable = strings.TrimPrefix(doubts[0], audio[0].Filename+": ")
	}
	if st.Text == "" {
		st.Note = strings.Join(notes, "; ")
	}
	if err := v.Store.SaveTranscript(ctx, it.ID, it.ClaimedBy, st); err != nil {
		return model.Transcript{}, err
	}
	return st, nil
}

// route tags and routes the way the email path does.
func (v *Voicemails) route(in routing.Input) ([]model.Tag, []model.Assignment, error) {
	if v.Router == nil {
		return nil, nil, nil
	}
	return (&Processor{Router: v.Router}).route(in)
}
