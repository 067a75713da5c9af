package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	slackin "github.com/earshot-dev/earshot/intake/slack"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/routing"
	"github.com/earshot-dev/earshot/transcribe"
)

// SlackStore is what Slack processing needs of the store.
type SlackStore interface {
	VoicemailStore
	SlackChanges(ctx context.Context, itemID int64) ([]model.SlackChange, error)
}

// SlackDirectory is what Slack processing asks Slack: who a user is, a
// message's permalink, a file's bytes; *slack.App implements it.
type SlackDirectory interface {
	UserInfo(ctx context.Context, id string) (slackin.User, error)
	Permalink(ctx context.Context, channel, ts string) (string, error)
	Download(ctx context.Context, url string) ([]byte, error)
}

// Slacks processes Slack messages: the text of the latest revision (an
// edit made before the item was routed is what is tagged), the author's
// replies in the thread as context, audio files transcribed and saved
// first like a voicemail's, the author mapped to a rep, tags and owners.
type Slacks struct {
	Store       SlackStore
	Directory   SlackDirectory
	Transcriber transcribe.Transcriber
	Router      *Router
	// Gate decides who a message is from; nil maps Slack users to reps by
	// the roster alone.
	Gate *Gate
}

// ReasonSlackDeleted withholds the ack of a message deleted in Slack.
const ReasonSlackDeleted = "message deleted in Slack"

// Process works out what a Slack message is. An error is retried later:
// the store or Slack failed.
func (s *Slacks) Process(ctx context.Context, it model.Item) (model.Processed, error) {
	if it.Kind != model.KindSlack {
		return model.Processed{}, fmt.Errorf("item %d: %q is no slack message", it.ID, it.Kind)
	}
	var warnings []string
	meta, err := it.SlackMeta()
	if err != nil {
		warnings = append(warnings, err.Error())
	}
	changes, err := s.Store.SlackChanges(ctx, it.ID)
	if err != nil {
		return model.Processed{}, err
	}
	ref := &model.SlackRef{Team: meta.Team, Channel: meta.Channel, ChannelName: meta.ChannelName, TS: meta.TS,
		ThreadTS: meta.ThreadTS, User: meta.User}
	text := meta.Text
	for _, c := range changes {
		switch c.Kind {
		case model.SlackEdit:
			text = c.Text
			ref.Revisions++
		case model.SlackDelete:
			ref.Deleted = true
		case model.SlackContext:
			ref.Context = append(ref.Context, unescape(c.Text))
		}
	}
	text = unescape(text)
	if s.Directory != nil && meta.User != "" {
		u, err := s.Directory.UserInfo(ctx, meta.User)
		switch {
		case err != nil && strings.Contains(err.Error(), "user_not_found"):
			// A user of another workspace in a shared channel, or one
			// removed since: no profile, so no e-mail to map.
			warnings = append(warnings, "slack user "+meta.User+" not found")
		case err != nil:
			return model.Processed{}, fmt.Errorf("item %d: slack user %s: %w", it.ID, meta.User, err)
		}
		ref.UserName, ref.Email = u.RealName, u.Email
		if link, err := s.Directory.Permalink(ctx, meta.Channel, meta.TS); err != nil {
			warnings = append(warnings, "no permalink: "+err.Error())
		} else {
			ref.Permalink = link
		}
	}
	g := s.Gate
	if g == nil {
		g = &Gate{Store: s.Store}
	}
	t, err := g.slack(ctx, it, meta.Source, meta.User, ref.Email)
	if err != nil {
		return model.Processed{}, err
	}
	transcript, notes, err := s.transcript(ctx, it, meta)
	if err != nil {
		return model.Processed{}, err
	}
	warnings = append(warnings, notes...)
	out := model.Processed{Sender: meta.User, Subject: slackSubject(firstNonEmpty(meta.ChannelName, meta.Channel), text, transcript),
		BodyText: text, FullText: strings.Join(nonEmpty(text, strings.Join(ref.Context, "\n"), transcript), "\n\n"),
		Warnings: warnings}
	t.apply(&out, g.contributors())
	if ref.Deleted && out.Ack.Withheld == "" {
		out.Ack.Withheld = ReasonSlackDeleted
	}
	out.Message = model.Message{From: model.Address{Name: ref.UserName, Addr: ref.Email}, Slack: ref,
		Unregistered: out.RepID == 0}
	for _, f := range meta.Files {
		out.Message.Attachments = append(out.Message.Attachments, model.Attachment{Filename: f.Name,
			ContentType: f.Mimetype, Size: f.Size, Audio: f.Audio})
	}
	in := routing.Input{Text: strings.Join(nonEmpty(text, strings.Join(ref.Context, "\n")), "\n\n"), Transcript: transcript}
	switch meta.Category {
	case "both":
		in.Mailboxes = []string{model.CategoryFeedback, model.CategoryIntel}
	case model.CategoryFeedback, model.CategoryIntel:
		in.Mailboxes = []string{meta.Category}
	}
	if s.Router == nil {
		return out, nil
	}
	out.Tags, out.Assignments, err = (&Processor{Router: s.Router}).route(in)
	if !t.Route {
		out.Assignments = nil
	}
	return out, err
}

// transcript returns the saved transcript of the message's audio files,
// or downloads and transcribes them and saves the result first, so that
// a retry never transcribes twice. A file too large or not audio at all
// is noted and skipped.
func (s *Slacks) transcript(ctx context.Context, it model.Item, meta model.SlackMeta) (string, []string, error) {
	var audio []model.SlackFile
	for _, f := range meta.Files {
		if f.Audio && f.URL != "" {
			audio = append(audio, f)
		}
	}
	if len(audio) == 0 {
		return "", nil, nil
	}
	saved, ok, err := s.Store.ItemTranscript(ctx, it.ID)
	if err != nil || ok {
		return saved.Text, nil, err
	}
	if s.Transcriber == nil || s.Directory == nil {
		return "", []string{"audio not transcribed: no transcription engine"}, nil
	}
	var texts, notes []string
	awaiting := true
	for _, f := range audio {
		data, err := s.Directory.Download(ctx, f.URL)
		switch {
		case errors.Is(err, slackin.ErrTooLarge):
			notes = append(notes, f.Name+": "+err.Error())
			awaiting = false
			continue
		case err != nil:
			return "", nil, fmt.Errorf("item %d: download %s: %w", it.ID, f.Name, err)
		}
		tr, err := s.Transcriber.Transcribe(ctx, transcribe.Audio{Data: data, ContentType: f.Mimetype, Filename: f.Name,
			RecordedAt: meta.PostedAt()})
		switch {
		case transcribe.Permanent(err):
			notes = append(notes, fmt.Sprintf("%s: %v", f.Name, err))
			awaiting = false
			continue
		case err != nil:
			return "", nil, fmt.Errorf("transcribe item %d file %s: %w", it.ID, f.Name, err)
		}
		awaiting = awaiting && tr.Awaiting
		if tr.Text != "" {
			texts = append(texts, tr.Text)
		} else if tr.Empty != "" {
			notes = append(notes, f.Name+": "+tr.Empty)
		}
	}
	st := model.Transcript{Text: strings.Join(texts, "\n\n"), Engine: s.Transcriber.Name(), Awaiting: awaiting && len(texts) == 0}
	if st.Text == "" {
		st.Note = strings.Join(notes, "; ")
	}
	if err := s.Store.SaveTranscript(ctx, it.ID, it.ClaimedBy, st); err != nil {
		return "", nil, err
	}
	return st.Text, notes, nil
}

// slackSubject names a Slack message as a subject would: its channel and
// the start of its first line.
func slackSubject(channel string, texts ...string) string {
	line := ""
	for _, t := range texts {
		if l, _, _ := strings.Cut(strings.TrimSpace(t), "\n"); l != "" {
			line = l
			break
		}
	}
	if r := []rune(line); len(r) > 60 {
		line = strings.TrimSpace(string(r[:60])) + "…"
	}
	if line == "" {
		line = "a message"
	}
	return "#" + channel + ": " + line
}

// unescape undoes Slack's escaping of &, < and > in message text.
func unescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(s)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}
