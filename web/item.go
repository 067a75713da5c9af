package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/store"
)

// itemPage is what item.html shows.
type itemPage struct {
	Item      store.ItemDetail
	Title     string
	Msg       normalizedView
	Warnings  []string
	Voicemail voicemailMeta
	HasAudio  bool
	// NeedsTranscript is set for audio that waits for a manager's words.
	NeedsTranscript bool
	Tags            []tagView
	Assignments     []store.AssignmentState
	Untriaged       int
	Ledger          []store.LedgerEntry
	Points          int
	Outbox          []outboxView
	Mailboxes       []string
	Kinds           []string
	Vocabulary      map[string][]string
	Owners          []string
	AdjustMonth     string
}

// normalizedView is the part of an item's normalized JSON the page shows.
type normalizedView struct {
	From         intake.Address   `json:"from"`
	To           []intake.Address `json:"to"`
	Cc           []intake.Address `json:"cc"`
	Date         string           `json:"date"`
	Quoted       string           `json:"quoted"`
	Signature    string           `json:"signature"`
	Forwarded    []intake.Forward `json:"forwarded"`
	Attachments  []attachmentView `json:"attachments"`
	CallerNumber string           `json:"caller_number"`
}

// attachmentView describes an attachment (its bytes stay in the raw message).
type attachmentView struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Audio       bool   `json:"audio"`
}

// voicemailMeta is the part of a voicemail's metadata the page shows.
type voicemailMeta struct {
	From             string `json:"from"`
	CallerName       string `json:"caller_name"`
	Duration         int    `json:"duration"`
	MediaContentType string `json:"media_content_type"`
	MediaFormat      string `json:"media_format"`
}

// tagView is a tag with its evidence decoded.
type tagView struct {
	store.Tag
	Evidence []evidence
}

// evidence is one phrase that set a tag (routing.Evidence as stored).
type evidence struct {
	Phrase string
	Field  string
	Offset int
}

// outboxView is an enqueued message with its text.
type outboxView struct {
	store.OutboxMessage
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
	p := itemPage{Item: it, Kinds: tagKinds(), Vocabulary: d.vocabulary, Owners: d.owners}
	// The JSON columns are written by the store; a bad one shows as empty.
	_ = json.Unmarshal([]byte(it.Normalized), &p.Msg)
	_ = json.Unmarshal([]byte(it.Warnings), &p.Warnings)
	if it.Kind == "voicemail" {
		_ = json.Unmarshal([]byte(it.Meta), &p.Voicemail)
		p.HasAudio = it.RawSize > 0 && !it.RawTruncated
	}
	for _, a := range p.Msg.Attachments {
		p.HasAudio = p.HasAudio || a.Audio
	}
	p.NeedsTranscript = p.HasAudio && (it.Awaiting || !it.Transcript.Valid)
	p.Title = itemTitle(it, p.Voicemail)

	tags, err := d.store.Tags(ctx, id)
	if err != nil {
		return p, err
	}
	for _, t := range tags {
		tv := tagView{Tag: t}
		_ = json.Unmarshal([]byte(t.Evidence), &tv.Evidence)
		p.Tags = append(p.Tags, tv)
	}
	if p.Assignments, err = d.store.ItemAssignments(ctx, id); err != nil {
		return p, err
	}
	for _, a := range p.Assignments {
		if !a.TriagedAt.Valid {
			p.Untriaged++
		}
	}
	if p.Ledger, err = d.store.ItemLedger(ctx, id); err != nil {
		return p, err
	}
	p.AdjustMonth = d.paidMonth(it, p.Ledger)
	for _, e := range p.Ledger {
		p.Points += e.Points
	}
	msgs, err := d.store.ItemOutbox(ctx, id)
	if err != nil {
		return p, err
	}
	for _, m := range msgs {
		p.Outbox = append(p.Outbox, outboxView{OutboxMessage: m, Text: clip(string(m.Body), maxShownMessage)})
	}
	if p.Mailboxes, err = d.store.Mailboxes(ctx, id); err != nil {
		return p, err
	}
	return p, nil
}

// paidMonth is the month an item's points count in: that of its first
// ledger entry, else the month it was received in.
func (d *Dashboard) paidMonth(it store.ItemDetail, ledger []store.LedgerEntry) string {
	if len(ledger) > 0 {
		return ledger[0].Month
	}
	return d.monthOf(it.ReceivedAt)
}

// itemTitle names an item: its subject, or who left the voicemail.
func itemTitle(it store.ItemDetail, vm voicemailMeta) string {
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
