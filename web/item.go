package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// itemPage is what item.html shows.
type itemPage struct {
	Item      store.ItemDetail
	Title     string
	Msg       model.Message
	Warnings  []string
	Voicemail model.VoicemailMeta
	HasAudio  bool
	// NeedsTranscript is set for audio that waits for a manager's words.
	NeedsTranscript bool
	Tags            []model.Tag
	Assignments     []store.AssignmentState
	Untriaged       int
	Ledger          []model.LedgerEntry
	Points          int
	Outbox          []outboxView
	Mailboxes       []string
	Kinds           []string
	Vocabulary      map[string][]string
	Owners          []string
	AdjustMonth     model.Month
	// Reps are who the item can be credited to; Review the verdict on it.
	Reps []model.Rep
	// Status is the owners' decision, History its changes, Statuses the
	// choices.
	Status   model.ItemStatus
	History  []model.StatusEvent
	Statuses []model.Status
	Review   *model.Review
	// ReviewRep is the name of the rep a credit went to.
	ReviewRep string
	// Slack is where a Slack message was posted; SlackChanges its edits,
	// deletion and the author's replies.
	Slack        *model.SlackRef
	SlackChanges []model.SlackChange
}

// outboxView is an enqueued message with its text.
type outboxView struct {
	model.OutboxMessage
	Text string
}

// maxShownMessage bounds the text of an outbox message on the page.
const maxShownMessage = 32 << 10

// item shows one item in full with its actions.
func (d *Dashboard) item(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := d.itemView(r.Context(), id)
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "item.html", v, "inbox", p.Title, p)
	return nil
}

// itemView gathers everything the item page shows.
func (d *Dashboard) itemView(ctx context.Context, id int64) (itemPage, error) {
	it, err := d.store.ItemDetail(ctx, id)
	if err != nil {
		return itemPage{}, err
	}
	p := itemPage{Item: it, Msg: it.Message, Warnings: it.Warnings, Kinds: tagKinds(), Vocabulary: d.vocabulary, Owners: d.owners}
	if it.Kind == model.KindVoicemail {
		// Metadata that does not read shows as empty.
		p.Voicemail, _ = it.VoicemailMeta()
		p.HasAudio = it.RawSize > 0 && !it.RawTruncated
	}
	for _, a := range p.Msg.Attachments {
		p.HasAudio = p.HasAudio || a.Audio
	}
	if it.Kind == model.KindSlack {
		p.Slack = p.Msg.Slack
		if p.Slack == nil {
			// Not processed yet: what the source stored.
			if m, err := it.SlackMeta(); err == nil {
				p.Slack = &model.SlackRef{Team: m.Team, Channel: m.Channel, ChannelName: m.ChannelName, TS: m.TS,
					ThreadTS: m.ThreadTS, User: m.User}
			}
		}
		if p.SlackChanges, err = d.store.SlackChanges(ctx, id); err != nil {
			return p, err
		}
		// Audio files of a Slack message are transcribed, not kept.
		p.HasAudio = false
	}
	p.NeedsTranscript = p.HasAudio && (it.Transcription.Awaiting || !it.HasTranscript)
	p.Title = itemTitle(it, p.Voicemail)

	if p.Tags, err = d.store.Tags(ctx, id); err != nil {
		return p, err
	}
	if p.Assignments, err = d.store.ItemAssignments(ctx, id); err != nil {
		return p, err
	}
	for _, a := range p.Assignments {
		if a.TriagedAt.IsZero() {
			p.Untriaged++
		}
	}
	if p.Ledger, err = d.store.ItemLedger(ctx, id); err != nil {
		return p, err
	}
	if p.Status, err = d.store.ItemStatus(ctx, id); err != nil {
		return p, err
	}
	if p.History, err = d.store.StatusHistory(ctx, id); err != nil {
		return p, err
	}
	p.Statuses = model.Statuses()[1:]
	p.AdjustMonth = d.paidMonth(it, p.Ledger)
	for _, e := range p.Ledger {
		p.Points += e.Points
	}
	msgs, err := d.store.ItemOutbox(ctx, id)
	if err != nil {
		return p, err
	}
	notes, err := d.store.StatusOutbox(ctx, id)
	if err != nil {
		return p, err
	}
	msgs = append(msgs, notes...)
	for _, m := range msgs {
		text := string(m.Body)
		if m.Channel == model.ChannelSlack {
			// A Slack post is kept as JSON: show what it says.
			var post model.SlackPost
			if json.Unmarshal(m.Body, &post) == nil {
				text = post.Text
			}
		}
		p.Outbox = append(p.Outbox, outboxView{OutboxMessage: m, Text: clip(text, maxShownMessage)})
	}
	if p.Mailboxes, err = d.store.Mailboxes(ctx, id); err != nil {
		return p, err
	}
	if r, ok, err := d.store.ItemReview(ctx, id); err != nil {
		return p, err
	} else if ok {
		p.Review = &r
	}
	if it.Trust != model.TrustRep {
		if p.Reps, err = d.store.Reps(ctx); err != nil {
			return p, err
		}
	}
	if p.Review != nil {
		for _, r := range p.Reps {
			if r.ID == p.Review.RepID {
				p.ReviewRep = r.Name
			}
		}
	}
	return p, nil
}

// paidMonth is the month an item's points count in: that of its first
// ledger entry, else the month it was received in.
func (d *Dashboard) paidMonth(it store.ItemDetail, ledger []model.LedgerEntry) model.Month {
	if len(ledger) > 0 {
		return ledger[0].Month
	}
	return d.monthOf(it.ReceivedAt)
}

// itemTitle names an item: its subject, or who left the voicemail.
func itemTitle(it store.ItemDetail, vm model.VoicemailMeta) string {
	switch {
	case it.Subject != "":
		return it.Subject
	case it.Kind == "voicemail" && it.Sender != "":
		return "Voicemail from " + it.Sender
	case it.Kind == "voicemail" && vm.From != "":
		return "Voicemail from " + vm.From
	case it.Kind == "voicemail":
		return "Voicemail"
	}
	return "(no subject)"
}
