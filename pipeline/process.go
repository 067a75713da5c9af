package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/routing"
	"github.com/earshot-dev/earshot/store"
)

// ItemStore is what processing reads from the store.
type ItemStore interface {
	GateStore
	Mailboxes(ctx context.Context, itemID int64) ([]string, error)
	ReadRaw(ctx context.Context, id, size int64) ([]byte, error)
}

// Processor turns a received item into what it means: the normalized
// message, the contributing rep, tags and owners. It writes nothing; the
// worker stores its result with the item's new state in one transaction.
type Processor struct {
	Store  ItemStore
	Router *Router
	// Voicemails processes voicemail items and the audio attachments of
	// voicemail-to-email messages.
	Voicemails *Voicemails
	// Slacks processes Slack messages; nil leaves them failing.
	Slacks *Slacks
	// Gate decides who an item is from, as far as Earshot trusts it; nil
	// is a gate on Store by which the roster alone decides, as with
	// require: none.
	Gate *Gate
	// Awarder pays points and enqueues the ack and owner notices; nil
	// leaves both out.
	Awarder *Awarder
	// Replies records owners' replies to notices as decisions; nil
	// processes them as any mail.
	Replies *Replies
}

// Process works out what an item is. An error means the item should be
// retried later (a database error); bad input is never an error: it is
// recorded in the result's warnings.
func (p *Processor) Process(ctx context.Context, it model.Item) (model.Processed, error) {
	res, err := p.Prepare(ctx, it)
	if err != nil {
		return res, err
	}
	return res, p.Award(ctx, it, &res, Pending{})
}

// Prepare is the part of Process that reads nothing other items write:
// what the item is, who it is from, its tags and owners. Award completes
// it.
func (p *Processor) Prepare(ctx context.Context, it model.Item) (model.Processed, error) {
	var (
		res model.Processed
		err error
	)
	if it.Raw == nil && it.RawSize > 0 {
		// A large item comes without its bytes from the claim.
		if it.Raw, err = p.Store.ReadRaw(ctx, it.ID, it.RawSize); err != nil {
			return res, err
		}
	}
	switch it.Kind {
	case model.KindEmail:
		res, err = p.email(ctx, it)
	case model.KindVoicemail:
		if p.Voicemails == nil {
			return model.Processed{}, fmt.Errorf("item %d: voicemail processing is not configured", it.ID)
		}
		res, err = p.Voicemails.Process(ctx, it)
	case model.KindSlack:
		if p.Slacks == nil {
			return model.Processed{}, fmt.Errorf("item %d: slack processing is not configured", it.ID)
		}
		res, err = p.Slacks.Process(ctx, it)
	default:
		return model.Processed{}, fmt.Errorf("item %d: unknown kind %q", it.ID, it.Kind)
	}
	return res, err
}

// Award pays a prepared item's points and plans its ack and notices,
// reading the ledger, the tallies and the acks sent: what items completed
// before it wrote. pending is what the items completing before it in the
// same transaction write, which its award counts as written.
func (p *Processor) Award(ctx context.Context, it model.Item, res *model.Processed, pending Pending) error {
	if p.Awarder == nil || strings.HasPrefix(res.AutoReason, AutoDecision) {
		// An owner's reply deciding an item is nobody's contribution.
		return nil
	}
	if err := p.Awarder.AwardAfter(ctx, it, res, pending); err != nil {
		return fmt.Errorf("award: %w", err)
	}
	return nil
}

// Reads reads at once what the awards of prepared items read
// (Awarder.Reads); nil when nothing is awarded.
func (p *Processor) Reads(ctx context.Context, items []model.Item, results []model.Processed) *store.AwardReads {
	if p.Awarder == nil {
		return nil
	}
	return p.Awarder.Reads(ctx, items, results)
}

// contactsReader is a store that finds the reps of many contacts at once.
type contactsReader interface {
	RepsByContacts(ctx context.Context, kind string, values []string) (map[string]model.Rep, error)
}

// ReadSenders reads at once the reps of the email items' senders, as
// intake.SenderAddress names them from the header, into the items
// (model.Item.SenderRep), for the gate. It does nothing when the store
// cannot; on an error, the gate asks the store item by item.
func (p *Processor) ReadSenders(ctx context.Context, items []model.Item) error {
	cr, ok := p.Store.(contactsReader)
	if !ok {
		return nil
	}
	addrs := make([]string, len(items))
	var values []string
	for i, it := range items {
		if it.Kind != model.KindEmail || it.Raw == nil {
			continue
		}
		if addrs[i] = intake.SenderAddress(it.Raw); addrs[i] != "" && !slices.Contains(values, addrs[i]) {
			values = append(values, addrs[i])
		}
	}
	if len(values) == 0 {
		return nil
	}
	reps, err := cr.RepsByContacts(ctx, "email", values)
	if err != nil {
		return err
	}
	for i := range items {
		if addrs[i] == "" {
			continue
		}
		items[i].SenderAddr = addrs[i]
		if r, ok := reps[addrs[i]]; ok {
			items[i].SenderRep = &r
		}
	}
	return nil
}

func (p *Processor) email(ctx context.Context, it model.Item) (model.Processed, error) {
	msg := intake.NormalizeBytes(it.Raw, nil)
	if it.RawTruncated {
		msg.Warnings = append(msg.Warnings, "message larger than max_message_bytes: only its header was stored")
	}
	var mailboxes []string
	switch {
	case it.Mailboxes == nil: // not read by the claim
		var err error
		if mailboxes, err = p.Store.Mailboxes(ctx, it.ID); err != nil {
			return model.Processed{}, err
		}
	case len(it.Mailboxes) > 0:
		mailboxes = it.Mailboxes
	}
	if res, ok, err := p.Replies.handle(ctx, p.gate(), it, msg, mailboxes); err != nil || ok {
		return res, err
	}
	out := model.Processed{
		Sender:     intake.FoldAddress(msg.From.Addr),
		Subject:    msg.Subject,
		BodyText:   msg.Text,
		FullText:   msg.FullText,
		AutoReason: msg.AutoGenerated,
		Warnings:   msg.Warnings,
	}
	t, err := p.gate().email(ctx, it, msg, mailboxes)
	if err != nil {
		return model.Processed{}, err
	}
	t.apply(&out, p.gate().policy(mailboxes))
	out.Message = message(msg, mailboxes)
	out.Message.Unregistered = out.RepID == 0

	// Auto-generated mail (out-of-office, bounces, lists) is kept with its
	// reason but is nobody's contribution: no tags, no owner.
	if msg.AutoGenerated != "" {
		return out, nil
	}
	in := p.Router.EmailInput(msg, mailboxes)
	if msg.HasAudio() && p.Voicemails != nil {
		// The transcript is saved before it is used, so a retry never
		// transcribes twice.
		tr, err := p.Voicemails.TranscribeAttachments(ctx, it, msg)
		if err != nil {
			return model.Processed{}, err
		}
		in.Transcript, out.Message.TranscriptUnreliable = tr.Text, tr.Unreliable
	}
	out.Tags, out.Assignments, err = p.route(in)
	if !t.Route {
		// Not a contributor's: tagged, and waits for a manager.
		out.Assignments = nil
	}
	return out, err
}

// gate is the processor's gate, or one by which the roster alone decides.
func (p *Processor) gate() *Gate {
	if p.Gate != nil {
		return p.Gate
	}
	return &Gate{Store: p.Store, Default: config.Contributors{Accept: "roster", Require: "none"}, Attestation: "none"}
}

// route tags the input and assigns owners.
func (p *Processor) route(in routing.Input) ([]model.Tag, []model.Assignment, error) {
	tags, assigned := p.Router.Route(in)
	var st []model.Tag
	for _, t := range tags {
		mt := model.Tag{Kind: model.TagKind(t.Kind), Value: t.Value, Origin: t.Rule}
		for _, e := range t.Evidence {
			mt.Evidence = append(mt.Evidence, model.Evidence{Phrase: e.Phrase, Field: e.Field, Offset: e.Offset,
				Rule: e.Rule, Confidence: e.Confidence})
		}
		st = append(st, mt)
	}
	var as []model.Assignment
	for _, a := range assigned {
		as = append(as, model.Assignment{Owner: a.Owner, Route: a.Path})
	}
	return st, as, nil
}

// message is what is kept of a normalized email: its envelope and
// structure, without the attachments' bytes (the text is kept apart).
func message(msg *intake.Message, mailboxes []string) model.Message {
	addr := func(a intake.Address) model.Address { return model.Address{Name: a.Name, Addr: a.Addr} }
	addrs := func(as []intake.Address) []model.Address {
		var out []model.Address
		for _, a := range as {
			out = append(out, addr(a))
		}
		return out
	}
	m := model.Message{
		From: addr(msg.From), ReplyTo: addrs(msg.ReplyTo), To: addrs(msg.To), Cc: addrs(msg.Cc),
		MessageID: msg.MessageID, InReplyTo: msg.InReplyTo, References: msg.References,
		Quoted: msg.Quoted, Signature: msg.Signature, CallerNumber: msg.CallerNumber, Mailboxes: mailboxes,
		AutoGenerated: msg.AutoGenerated,
	}
	if !msg.Date.IsZero() {
		m.Date = msg.Date.UTC().Truncate(time.Second)
	}
	for _, f := range msg.Forwarded {
		m.Forwarded = append(m.Forwarded, model.Forward{From: addr(f.From), Date: f.Date, Subject: f.Subject, Text: f.Text})
	}
	for _, a := range msg.Attachments {
		m.Attachments = append(m.Attachments, model.Attachment{Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, Audio: a.Audio})
	}
	return m
}
