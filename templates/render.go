package templates

import "strings"

// MaxSMSSegments bounds an SMS ack: longer texts are shortened to fit.
const MaxSMSSegments = 2

// Ack renders the email ack for d.Item.Category: ack_intel, ack_feedback
// or ack_both (ack_feedback when the item has no category).
func (s *Set) Ack(d Data) (Rendered, error) {
	return s.Render("ack_"+variant(d.Item.Category), d)
}

// SMS renders the SMS ack: sms_ack_<category> when the set has one, else
// sms_ack. The text is made GSM-7 where possible and shortened to at most
// MaxSMSSegments segments.
func (s *Set) SMS(d Data) (string, error) {
	name := "sms_ack"
	if _, ok := s.text[name+"_"+variant(d.Item.Category)]; ok {
		name += "_" + variant(d.Item.Category)
	}
	r, err := s.Render(name, d)
	if err != nil {
		return "", err
	}
	return FitSMS(strings.Join(strings.Fields(r.Text), " "), MaxSMSSegments), nil
}

// Slack renders the ack posted in Slack (mrkdwn): a reply in the
// message's thread, or an ephemeral message.
func (s *Set) Slack(d Data) (string, error) {
	r, err := s.Render("slack_ack", d)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(r.Text), nil
}

// SlackNotice renders an owner's notice posted in Slack (mrkdwn).
func (s *Set) SlackNotice(d Data) (string, error) {
	r, err := s.Render("slack_notice", d)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(r.Text), nil
}

// Notice renders the immediate notice to an owner about one item.
func (s *Set) Notice(d Data) (Rendered, error) { return s.Render("notice", d) }

// Digest renders an owner's hourly or daily digest of d.Items.
func (s *Set) Digest(d Data) (Rendered, error) { return s.Render("digest", d) }

// Reminder renders the SLA reminder about d.Items waiting for triage.
func (s *Set) Reminder(d Data) (Rendered, error) { return s.Render("reminder", d) }

// ManagerDigest renders the monthly digest: d.Leaderboard and notable
// intel in d.Items.
func (s *Set) ManagerDigest(d Data) (Rendered, error) { return s.Render("manager_digest", d) }

// variant maps a category to a template variant: intel, both or feedback.
func variant(category string) string {
	if category == "intel" || category == "both" {
		return category
	}
	return "feedback"
}

// StatusNote renders the email that tells the rep of d.Decision.
func (s *Set) StatusNote(d Data) (Rendered, error) { return s.Render("status_note", d) }

// StatusSMS renders the SMS that tells the rep of d.Decision.
func (s *Set) StatusSMS(d Data) (string, error) {
	r, err := s.Render("sms_status", d)
	if err != nil {
		return "", err
	}
	return FitSMS(strings.Join(strings.Fields(r.Text), " "), MaxSMSSegments), nil
}

// StatusSlack renders the Slack reply that tells the rep of d.Decision.
func (s *Set) StatusSlack(d Data) (string, error) {
	r, err := s.Render("slack_status", d)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(r.Text), nil
}
