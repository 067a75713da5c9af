package outbound

import (
	"context"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/model"
)

// Planner decides what a processed item sends: the ack to its contributor,
// on the item's channel or suppressed with the reason, and an immediate
// notice to each owner whose digest is immediate. It renders them with
// its Composer; the worker stores them with the item in one transaction,
// and the outbox worker sends them.
type Planner struct {
	Composer *Composer
	Suppress *Suppressor
	// Email is set when SMTP is configured; SMS when SMS acks are on.
	Email, SMS bool
	// Slack is how a Slack message is acknowledged (thread, ephemeral or
	// none); empty without the slack section.
	Slack string
	// Owners by name.
	Owners map[string]config.Owner
	// Now is the clock of the daily cap; time.Now when nil.
	Now func() time.Time
}

// NewPlanner builds the planner of a validated configuration.
func NewPlanner(cfg *config.Config, c *Composer) *Planner {
	p := &Planner{Composer: c, Suppress: NewSuppressor(cfg), Email: cfg.SMTP != nil,
		SMS: cfg.SMS.Enabled && cfg.Twilio != nil, Owners: map[string]config.Owner{}}
	if cfg.Slack != nil {
		p.Slack = cfg.Slack.Ack.Reply
	}
	for _, o := range cfg.Owners {
		p.Owners[o.Name] = o
	}
	return p
}

// Plan renders the ack and the owner notices of a contribution; msg is
// what processing understood of the item (its threading and automatic
// reason). The cap is the daily cap the ack was let through under, which
// completion checks again under a lock; nil when there is none or the ack
// is suppressed.
func (p *Planner) Plan(ctx context.Context, counter AckCounter, ct Contribution, msg model.Message, autoReason string) (out []model.OutboxMessage, cap *model.AckCap, err error) {
	ack, err := p.ack(ctx, counter, ct, msg, autoReason)
	if err != nil {
		return nil, nil, err
	}
	if ack.RecipientKey == "" {
		ack.RecipientKey = p.Suppress.Key(ack.Recipient)
	}
	out = append(out, ack)
	if max, since := p.Suppress.DailyCap(p.now()); max > 0 && ack.State != model.OutboxSuppressed {
		cap = &model.AckCap{Recipient: ack.RecipientKey, Since: since, Max: max}
	}
	notices, err := p.notices(ct)
	if err != nil {
		return nil, nil, err
	}
	return append(out, notices...), cap, nil
}

// ack renders the ack to the contributor on the item's channel, or
// returns a suppressed message with the reason it must not be sent.
func (p *Planner) ack(ctx context.Context, counter AckCounter, ct Contribution, msg model.Message, autoReason string) (model.OutboxMessage, error) {
	if ct.Item.Kind == model.KindSlack && ct.Slack != nil {
		return p.slackAck(ctx, counter, ct)
	}
	channel, to := model.ChannelEmail, strings.TrimSpace(ct.From.Addr)
	// A phone system's voicemail-to-email comes from the PBX, not from the
	// rep: answer the caller like a voicemail. An item a manager credited
	// to a rep is answered to the rep.
	credited := ct.Trust == model.TrustCredited && !repHasEmail(ct.Rep, to)
	if ct.Item.Kind == model.KindVoicemail || credited || (ct.CallerNumber != "" && !repHasEmail(ct.Rep, to)) {
		switch {
		case p.SMS && ct.CallerNumber != "":
			channel, to = model.ChannelSMS, ct.CallerNumber
		case ct.Rep != nil && len(ct.Rep.Emails) > 0:
			to = ct.Rep.Emails[0]
		default:
			to = ""
		}
	}
	suppressed := func(reason string) model.OutboxMessage {
		return model.OutboxMessage{Kind: model.OutboxAck, Channel: channel, Recipient: to,
			State: model.OutboxSuppressed, Reason: reason}
	}
	if channel == model.ChannelEmail && !p.Email {
		return suppressed("smtp is not configured"), nil
	}
	in := Incoming{Recipient: to, AutoReason: autoReason, Subject: ct.Subject, InReplyTo: msg.InReplyTo, References: msg.References}
	in.Outsider = ct.Trust == model.TrustOpen || ct.Trust == model.TrustColleague
	if ct.Trust == model.TrustOpen {
		in.OpenHourlyCap = ct.Ack.HourlyCap
	}
	// The rules first (automatic mail is no contributor's either), then
	// who the sender is, then the caps.
	reason := p.Suppress.Rule(in)
	if reason == "" {
		reason = withheld(ct)
	}
	var err error
	if reason == "" {
		reason, err = p.Suppress.Cap(ctx, counter, in, p.now())
	}
	if err != nil {
		return model.OutboxMessage{}, err
	}
	if reason != "" {
		return suppressed(reason), nil
	}
	if ct.Trust == model.TrustColleague || ct.Trust == model.TrustOpen {
		// Someone outside the roster: the ack echoes nothing they wrote.
		ct.Subject, ct.Text, ct.From.Name = "", "", ""
	}
	if channel == model.ChannelSMS {
		return p.Composer.AckSMS(ct, to)
	}
	return p.Composer.AckEmail(ct, to)
}

// ReasonSlackRepliesOff suppresses Slack acks when slack.ack.reply is none.
const ReasonSlackRepliesOff = "slack replies are off"

// slackAck renders the ack of a Slack message in Slack, or returns it
// suppressed with the reason: the rules, who the author is, the caps
// (counted per Slack user).
func (p *Planner) slackAck(ctx context.Context, counter AckCounter, ct Contribution) (model.OutboxMessage, error) {
	key := SlackKey(ct.Slack.User)
	reason := p.Suppress.Rule(Incoming{Recipient: key})
	if reason == "" && (p.Slack == "" || p.Slack == "none") {
		reason = ReasonSlackRepliesOff
	}
	if reason == "" {
		reason = withheld(ct)
	}
	var err error
	if reason == "" {
		reason, err = p.Suppress.Cap(ctx, counter, Incoming{Recipient: key}, p.now())
	}
	if err != nil {
		return model.OutboxMessage{}, err
	}
	if reason != "" {
		return model.OutboxMessage{Kind: model.OutboxAck, Channel: model.ChannelSlack, Recipient: slackRecipient(ct.Slack),
			RecipientKey: key, State: model.OutboxSuppressed, Reason: reason}, nil
	}
	return p.Composer.AckSlack(ct, p.Slack == "ephemeral")
}

// Reasons an ack is withheld from who the sender is.
const (
	ReasonNotVerified    = "sender not verified"
	ReasonNotContributor = "sender is not a contributor"
	ReasonSpam           = "spam"
)

// withheld says why the sender of a contribution gets no ack, or "".
// Only contributors are acknowledged.
func withheld(ct Contribution) string {
	switch ct.Trust {
	case model.TrustUnverified:
		return ReasonNotVerified
	case model.TrustStranger:
		return ReasonNotContributor
	case model.TrustSpam:
		return ReasonSpam
	}
	return ct.Ack.Withheld
}

// repHasEmail reports whether addr is one of the rep's addresses.
func repHasEmail(rep *model.Rep, addr string) bool {
	if rep == nil {
		return false
	}
	for _, e := range rep.Emails {
		if strings.EqualFold(e, intake.FoldAddress(addr)) {
			return true
		}
	}
	return false
}

// notices renders an immediate notice to each owner of the contribution
// whose digest is immediate; owners on hourly or daily digests hear from
// the digest.
func (p *Planner) notices(ct Contribution) ([]model.OutboxMessage, error) {
	out, err := p.slackNotices(ct)
	if err != nil || !p.Email {
		return out, err
	}
	replyTo := strings.TrimSpace(ct.From.Addr)
	if ct.Item.Kind == model.KindVoicemail || (ct.Trust == model.TrustCredited && !repHasEmail(ct.Rep, replyTo)) {
		replyTo = ""
		if ct.Rep != nil && len(ct.Rep.Emails) > 0 {
			replyTo = ct.Rep.Emails[0]
		}
	}
	for _, name := range ct.Owners {
		o, ok := p.Owners[name]
		if !ok || o.Email == "" || (o.Digest != "" && o.Digest != "immediate") {
			continue
		}
		if p.Suppress.Own(o.Email) {
			out = append(out, model.OutboxMessage{Kind: model.OutboxOwnerNotice, Channel: model.ChannelEmail,
				Recipient: o.Email, Owner: name, State: model.OutboxSuppressed, Reason: ReasonOwnAddress})
			continue
		}
		m, err := p.Composer.Notice(ct, o, replyTo)
		if err != nil {
			return nil, err
		}
		m.Owner = name
		out = append(out, m)
	}
	return out, nil
}

// slackNotices renders a notice to the Slack channel or user of each
// owner of the contribution that has one.
func (p *Planner) slackNotices(ct Contribution) ([]model.OutboxMessage, error) {
	if p.Slack == "" {
		return nil, nil
	}
	var out []model.OutboxMessage
	for _, name := range ct.Owners {
		o, ok := p.Owners[name]
		if !ok || o.Slack == "" {
			continue
		}
		m, err := p.Composer.SlackNotice(ct, o)
		if err != nil {
			return nil, err
		}
		m.Owner = name
		out = append(out, m)
	}
	return out, nil
}

// AckWindow is what the caps of the acks planned now count
// (Suppressor.Window), for reading them ahead for a batch.
func (p *Planner) AckWindow() (day, hour time.Time) { return p.Suppress.Window(p.now()) }

func (p *Planner) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
