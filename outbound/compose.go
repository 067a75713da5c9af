package outbound

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/sign"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/points"
	"github.com/earshot-dev/earshot/templates"
)

// Contribution is everything an ack or an owner notice says about one
// processed item.
type Contribution struct {
	// Item is the stored item (id, kind, received time, raw message).
	Item model.Item
	// Subject and Text are the normalized subject and the rep's own words
	// (or the voicemail transcript).
	Subject string
	Text    string
	// From is the sender as written; for voicemail, the caller's number
	// is in CallerNumber.
	From         model.Address
	CallerNumber string
	// Rep is the registered rep, nil for an unregistered sender.
	Rep *model.Rep
	// Tags and Owners are what routing found.
	Tags   []model.Tag
	Owners []string
	// Award is what the item earned; Tally the rep's standing with it.
	Award points.Award
	Tally model.Tally
	// MessageID and References of the incoming message, for threading.
	MessageID  string
	References []string
	// Mailbox is the address the item arrived at: acks come from it.
	Mailbox string
	// Trust is who the item is from, as processing decided, and
	// TrustReason why; Ack whether and how the sender is acknowledged.
	Trust       model.Trust
	TrustReason string
	Ack         model.AckRule
	// Slack is where a Slack message was posted; nil for other items.
	Slack *model.SlackRef
	// Shipped and Planned count the rep's items shipped and planned in
	// Quarter, for the ack.
	Shipped, Planned int
	Quarter          string
	// TranscriptUnreliable says why the transcript may be wrong (then its
	// tags are provisional and owners are asked to listen); empty
	// otherwise. Item.TranscriptUnreliable stands in when it is empty.
	TranscriptUnreliable string
}

// Composer turns contributions into outbox messages with the templates.
type Composer struct {
	Templates *templates.Set
	// Hostname is the right-hand side of Message-IDs (smtp.hostname).
	Hostname string
	// NoticeFrom sends notices (smtp.from), and acks when the item came
	// through no mailbox.
	NoticeFrom *mail.Address
	// AckName is the display name on acks (default "Earshot").
	AckName string
	// PublicURL is the dashboard's address for links; empty for none.
	PublicURL string
	// Location is the zone times are shown in.
	Location *time.Location
	// Now is the clock for the Date header; time.Now when nil.
	Now func() time.Time
	// Signer signs owner notices' tokens and reps' page links; nil for
	// neither.
	Signer *sign.Signer
	// DecisionReplyTo is decisions.reply_to: owners' replies to notices
	// go there, tagged with the notice's token.
	DecisionReplyTo string
	// RepLinkTTL is how long a rep's page link opens.
	RepLinkTTL time.Duration
}

// LoadComposer builds the composer of cfg over its templates: the
// embedded defaults with acks.template_dir's overrides.
func LoadComposer(cfg *config.Config) (*Composer, error) {
	set, err := templates.Load(cfg.Acks.TemplateDir)
	if err != nil {
		return nil, err
	}
	return NewComposer(cfg, set)
}

// NewComposer builds a composer from a configuration and a template set.
func NewComposer(cfg *config.Config, set *templates.Set) (*Composer, error) {
	c := &Composer{Templates: set, Hostname: "localhost", AckName: "Earshot", Location: cfg.Location,
		PublicURL: strings.TrimRight(cfg.HTTP.PublicURL, "/"), DecisionReplyTo: cfg.Decisions.ReplyTo,
		RepLinkTTL: cfg.Decisions.RepLinkTTL}
	if cfg.SMTP != nil {
		from, err := mail.ParseAddress(cfg.SMTP.From)
		if err != nil {
			return nil, fmt.Errorf("smtp.from: %w", err)
		}
		c.NoticeFrom, c.Hostname = from, cfg.SMTP.Hostname
	}
	return c, nil
}

func (c *Composer) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Data is the template data of a contribution.
func (c *Composer) Data(ct Contribution) templates.Data {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	d := templates.Data{
		Rep:   c.rep(ct),
		Item:  c.item(ct, loc),
		Links: templates.Links{Dashboard: c.PublicURL},
	}
	if c.PublicURL != "" {
		d.Links.Leaderboard = c.PublicURL + "/leaderboard"
	}
	if ct.Rep != nil {
		d.Links.RepPage = c.RepPage(ct.Rep.ID)
	}
	a, t := ct.Award, ct.Tally
	d.Points = templates.Points{
		Awarded: a.Points, Withheld: a.Withheld, Waiting: a.Waiting, Month: a.Month.Name(),
		MonthTotal: t.Points, Rank: t.Rank, Ranked: t.Ranked, AllTime: t.AllTime,
	}
	for _, l := range a.Lines {
		d.Points.Lines = append(d.Points.Lines, templates.Line{Label: points.Label(l.Reason), Points: l.Points})
	}
	for _, g := range t.Goals {
		d.Points.Goals = append(d.Points.Goals, templates.Goal{Name: g.Name, Done: g.Done, Target: g.Target, Met: g.Met()})
	}
	d.Points.Shipped, d.Points.Planned, d.Points.Quarter = ct.Shipped, ct.Planned, ct.Quarter
	return d
}

// RepPage is a signed link to the rep's own page, opening for
// RepLinkTTL; empty without a public URL or a signer.
func (c *Composer) RepPage(repID int64) string {
	if c.PublicURL == "" || c.Signer == nil || repID == 0 {
		return ""
	}
	ttl := c.RepLinkTTL
	if ttl <= 0 {
		ttl = 90 * 24 * time.Hour
	}
	now := c.now()
	return c.PublicURL + "/me/" + c.Signer.RepLink(repID, now, now.Add(ttl))
}

func (c *Composer) rep(ct Contribution) templates.Rep {
	r := templates.Rep{Name: ct.From.Name, Address: ct.From.Addr}
	if ct.Item.Kind == "voicemail" && ct.CallerNumber != "" {
		r.Address = ct.CallerNumber
	}
	if ct.Rep != nil {
		r.Name, r.Registered = ct.Rep.Name, true
	}
	if f := strings.Fields(r.Name); len(f) > 0 {
		r.FirstName = strings.Trim(f[0], `",`)
	}
	return r
}

func (c *Composer) item(ct Contribution, loc *time.Location) templates.Item {
	it := templates.Item{
		ID: ct.Item.ID, Kind: string(ct.Item.Kind), Subject: ct.Subject, Text: ct.Text,
		Received: ct.Item.ReceivedAt.In(loc), Owners: ct.Owners,
	}
	var intel, feedback bool
	for _, t := range ct.Tags {
		tag := templates.Tag{Value: t.Value, Evidence: phrases(t.Evidence)}
		switch t.Kind {
		case "category":
			intel = intel || t.Value == points.Intel
			feedback = feedback || t.Value == points.Feedback
		case "competitor":
			it.Competitors = append(it.Competitors, tag)
		case "product":
			it.Products = append(it.Products, tag)
		case "topic":
			it.Topics = append(it.Topics, tag)
		}
	}
	switch {
	case intel && feedback:
		it.Category = "both"
	case intel:
		it.Category = points.Intel
	case feedback:
		it.Category = points.Feedback
	}
	it.Size = ct.Item.RawSize
	it.Unreliable = cmp.Or(ct.TranscriptUnreliable, ct.Item.TranscriptUnreliable)
	it.OriginalAttached = ct.Item.Kind == "email" && len(ct.Item.Raw) > 0 && len(ct.Item.Raw) <= MaxOriginalBytes
	if c.PublicURL != "" {
		it.URL = c.PublicURL + "/items/" + strconv.FormatInt(ct.Item.ID, 10)
		if ct.Item.Kind == "voicemail" {
			it.AudioURL = it.URL + "/audio"
		}
	}
	return it
}

// phrases are the phrases of a tag's evidence, spaces folded, each once
// in its first spelling: the evidence holds every place a phrase occurs,
// and a reader wants to know which words matched, not how often.
func phrases(evidence []model.Evidence) []string {
	var out []string
	for _, e := range evidence {
		p := strings.Join(strings.Fields(e.Phrase), " ")
		if p != "" && !slices.ContainsFunc(out, func(q string) bool { return strings.EqualFold(p, q) }) {
			out = append(out, p)
		}
	}
	return out
}

// AckEmail renders the email ack to the sender: from the mailbox the item
// arrived at, "Re:" its subject, threaded under it, marked
// Auto-Submitted: auto-replied.
func (c *Composer) AckEmail(ct Contribution, to string) (model.OutboxMessage, error) {
	d := c.Data(ct)
	r, err := c.Templates.Ack(d)
	if err != nil {
		return model.OutboxMessage{}, err
	}
	from := &gomail.Address{Name: c.AckName, Address: ct.Mailbox}
	if ct.Mailbox == "" && c.NoticeFrom != nil {
		from.Address = c.NoticeFrom.Address
	}
	env := templates.Envelope{
		From: from, To: []*gomail.Address{{Name: d.Rep.Name, Address: to}},
		Subject: ackSubject(ct.Subject), AutoSubmitted: templates.AutoReplied,
		Date: c.now(), Hostname: c.Hostname,
	}
	if ct.MessageID != "" {
		env.InReplyTo = []string{ct.MessageID}
		env.References = append(append([]string(nil), ct.References...), ct.MessageID)
	}
	raw, _, err := templates.BuildEmail(env, r)
	if err != nil {
		return model.OutboxMessage{}, err
	}
	return model.OutboxMessage{Kind: model.OutboxAck, Channel: model.ChannelEmail, Recipient: to, Subject: env.Subject, Body: raw}, nil
}

// AckSMS renders the SMS ack to a phone number.
func (c *Composer) AckSMS(ct Contribution, to string) (model.OutboxMessage, error) {
	text, err := c.Templates.SMS(c.Data(ct))
	if err != nil {
		return model.OutboxMessage{}, err
	}
	return model.OutboxMessage{Kind: model.OutboxAck, Channel: model.ChannelSMS, Recipient: to, Body: []byte(text)}, nil
}

// AckSlack renders the ack posted in Slack: a reply in the message's
// thread, or an ephemeral message only its author sees.
func (c *Composer) AckSlack(ct Contribution, ephemeral bool) (model.OutboxMessage, error) {
	text, err := c.Templates.Slack(c.Data(ct))
	if err != nil {
		return model.OutboxMessage{}, err
	}
	ref := ct.Slack
	p := model.SlackPost{Channel: ref.Channel, ThreadTS: ref.ThreadTS, Text: text, ItemID: ct.Item.ID}
	if p.ThreadTS == "" {
		p.ThreadTS = ref.TS
	}
	if ephemeral {
		p.User, p.Ephemeral = ref.User, true
	}
	body, err := json.Marshal(p)
	if err != nil {
		return model.OutboxMessage{}, err
	}
	return model.OutboxMessage{Kind: model.OutboxAck, Channel: model.ChannelSlack, Recipient: slackRecipient(ref),
		RecipientKey: SlackKey(ref.User), Body: body}, nil
}

// SlackNotice renders an owner's notice posted to the owner's Slack
// channel or user.
func (c *Composer) SlackNotice(ct Contribution, owner config.Owner) (model.OutboxMessage, error) {
	d := c.Data(ct)
	d.Owner = templates.Owner{Name: owner.Name, Email: owner.Email}
	d.Links.RepPage = "" // the rep's link is the rep's alone
	text, err := c.Templates.SlackNotice(d)
	if err != nil {
		return model.OutboxMessage{}, err
	}
	body, err := json.Marshal(model.SlackPost{Channel: owner.Slack, Text: text})
	if err != nil {
		return model.OutboxMessage{}, err
	}
	return model.OutboxMessage{Kind: model.OutboxOwnerNotice, Channel: model.ChannelSlack, Recipient: owner.Slack, Body: body}, nil
}

// slackRecipient names a Slack ack's place: the channel and the message.
func slackRecipient(ref *model.SlackRef) string {
	return "#" + cmpOr(ref.ChannelName, ref.Channel) + " " + ref.TS
}

// SlackKey is a Slack user as the ack caps count it.
func SlackKey(user string) string { return slackPrefix + strings.ToLower(user) }

// slackPrefix marks a Slack user among recipients that are otherwise
// mail addresses and phone numbers.
const slackPrefix = "slack:"

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// MaxOriginalBytes is the largest original email an owner notice
// carries; a larger one is linked to the dashboard instead, so that a
// notice stays deliverable and a huge message is not copied into the
// outbox.
const MaxOriginalBytes = 5 << 20

// Notice renders the immediate notice to an owner: from smtp.from,
// Reply-To the rep, with the original email attached as message/rfc822
// up to MaxOriginalBytes (a voicemail's audio is linked instead).
func (c *Composer) Notice(ct Contribution, owner config.Owner, replyTo string) (model.OutboxMessage, error) {
	if c.NoticeFrom == nil {
		return model.OutboxMessage{}, fmt.Errorf("notice to %s: smtp.from is not configured", owner.Name)
	}
	d := c.Data(ct)
	d.Owner = templates.Owner{Name: owner.Name, Email: owner.Email}
	d.Links.RepPage = "" // the rep's link is the rep's alone
	d.ReplyDecides = c.Signer != nil && c.DecisionReplyTo != ""
	r, err := c.Templates.Notice(d)
	if err != nil {
		return model.OutboxMessage{}, err
	}
	env := templates.Envelope{
		From:    &gomail.Address{Name: c.NoticeFrom.Name, Address: c.NoticeFrom.Address},
		To:      []*gomail.Address{{Name: owner.Name, Address: owner.Email}},
		Subject: r.Subject, AutoSubmitted: templates.AutoGenerated, Date: c.now(), Hostname: c.Hostname,
	}
	if replyTo != "" {
		env.ReplyTo = []*gomail.Address{{Name: d.Rep.Name, Address: replyTo}}
	}
	if c.Signer != nil {
		// The token in the Message-ID (and in the Reply-To's +tag) lets
		// the owner's reply set the item's status.
		env.MessageID = c.Signer.NoticeMessageID(ct.Item.ID, owner.Name, c.Hostname)
		if d.ReplyDecides {
			env.ReplyTo = []*gomail.Address{{Name: "Earshot decisions", Address: c.Signer.NoticeReplyTo(c.DecisionReplyTo, ct.Item.ID, owner.Name)}}
		}
	}
	// The original is attached when the notice is sent: the outbox keeps
	// the notice without it, and the item the one copy.
	var att []templates.Attachment
	if d.Item.OriginalAttached {
		att = append(att, templates.Attachment{ContentType: "message/rfc822", Filename: "original.eml", Data: ct.Item.Raw, Deferred: true})
	}
	raw, _, gap, err := templates.BuildEmailDeferred(env, r, att...)
	if err != nil {
		return model.OutboxMessage{}, err
	}
	// The original travels with the notice, unstored, so that the store
	// that enqueues it can hand it to its outbox worker without a read.
	orig := model.Deferred{At: gap.At, Encoding: gap.Encoding}
	if orig.At > 0 {
		orig.Data = ct.Item.Raw
	}
	return model.OutboxMessage{Kind: model.OutboxOwnerNotice, Channel: model.ChannelEmail, Recipient: owner.Email, Subject: r.Subject, Body: raw,
		Original: orig}, nil
}

// ackSubject answers the incoming subject, or thanks when an ack must
// echo nothing of the sender's.
func ackSubject(subject string) string {
	if strings.TrimSpace(subject) == "" {
		return "Thanks for your message"
	}
	return templates.ReplySubject(subject)
}
