package outbound

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
)

// Suppression reasons without details.
const (
	ReasonAcksDisabled = "acks disabled"
	ReasonNoRecipient  = "no recipient"
	ReasonOwnAddress   = "our own address"
	ReasonNoReply      = "no-reply sender"
	ReasonListAddress  = "mailing list address"
	ReasonReplyToUs    = "reply to a message earshot sent"
	ReasonBounceTopic  = "subject of a bounce or report"
	ReasonBadAddress   = "recipient has no valid domain"
)

// AckCounter counts the acks already enqueued to a recipient.
type AckCounter interface {
	AcksSince(ctx context.Context, recipient string, since time.Time) (int, error)
}

// Suppressor decides, when an ack is enqueued, whether it must not be
// sent, following RFC 3834: never answer machine-generated mail, mailing
// lists, our own addresses or no-reply senders, never answer a reply to
// one of our messages, and send one recipient at most a daily cap of acks.
type Suppressor struct {
	enabled bool
	// own holds our folded mail addresses and our phone number.
	own map[string]bool
	// domain is the right-hand side of our Message-IDs.
	domain   string
	dailyCap int
	loc      *time.Location
}

// NewSuppressor builds the suppression rules of a configuration: our
// addresses are every mailbox address, smtp.from and the Twilio number.
func NewSuppressor(cfg *config.Config) *Suppressor {
	s := &Suppressor{enabled: cfg.Acks.Enabled, own: map[string]bool{}, dailyCap: cfg.Acks.DailyCap, loc: cfg.Location}
	if s.loc == nil {
		s.loc = time.UTC
	}
	for _, m := range cfg.Mailboxes {
		s.addOwn(m.Address)
	}
	if cfg.SMTP != nil {
		s.addOwn(cfg.SMTP.From)
		if h := cfg.SMTP.Hostname; h != "" && h != "localhost" {
			s.domain = strings.ToLower(h)
		}
	}
	if cfg.Twilio != nil && cfg.Twilio.PhoneNumber != "" {
		s.own[cfg.Twilio.PhoneNumber] = true
	}
	return s
}

func (s *Suppressor) addOwn(addr string) {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	if addr != "" {
		s.own[intake.FoldAddress(addr)] = true
	}
}

// Incoming is what suppression looks at: the ack's recipient and the
// message it answers.
type Incoming struct {
	// Recipient is the address or phone number the ack would go to.
	Recipient string
	// AutoReason is intake's reason for machine-generated mail.
	AutoReason string
	// Subject of the incoming message.
	Subject string
	// InReplyTo and References are the incoming message's threading ids.
	InReplyTo  []string
	References []string
}

// Ack returns why an ack must not be sent, or "" to send it. Only the
// daily cap reads the store, through counter.
func (s *Suppressor) Ack(ctx context.Context, counter AckCounter, in Incoming, now time.Time) (string, error) {
	if r := s.static(in); r != "" {
		return r, nil
	}
	max, since := s.DailyCap(now)
	if max == 0 {
		return "", nil
	}
	sent, err := counter.AcksSince(ctx, in.Recipient, since)
	if err != nil {
		return "", fmt.Errorf("suppression: %w", err)
	}
	if sent >= max {
		return fmt.Sprintf("daily cap of %d acks reached", max), nil
	}
	return "", nil
}

// DailyCap returns the daily cap and the start of the day it counts from
// at now; max is 0 when there is no cap.
func (s *Suppressor) DailyCap(now time.Time) (max int, since time.Time) {
	if s.dailyCap <= 0 {
		return 0, time.Time{}
	}
	y, m, d := now.In(s.loc).Date()
	return s.dailyCap, time.Date(y, m, d, 0, 0, 0, 0, s.loc)
}

// static applies every rule but the daily cap.
func (s *Suppressor) static(in Incoming) string {
	rcpt := strings.TrimSpace(in.Recipient)
	switch {
	case !s.enabled:
		return ReasonAcksDisabled
	case rcpt == "":
		return ReasonNoRecipient
	case in.AutoReason != "":
		return autoReason(in.AutoReason)
	case s.Own(rcpt):
		return ReasonOwnAddress
	case !isPhone(rcpt) && !deliverable(rcpt):
		return ReasonBadAddress
	case reportSubject.MatchString(strings.TrimSpace(in.Subject)):
		return ReasonBounceTopic
	}
	local := strings.ToLower(rcpt)
	if at := strings.LastIndexByte(local, '@'); at >= 0 {
		local = local[:at]
		switch {
		case noReplyLocal.MatchString(local):
			return ReasonNoReply
		case listLocal.MatchString(local):
			return ReasonListAddress
		}
	}
	if s.domain != "" {
		for _, id := range append(append([]string(nil), in.InReplyTo...), in.References...) {
			if strings.HasSuffix(strings.ToLower(id), "@"+s.domain) {
				return ReasonReplyToUs
			}
		}
	}
	return ""
}

// Own reports whether addr (a mail address or phone number) is ours.
func (s *Suppressor) Own(addr string) bool {
	a := strings.TrimSpace(addr)
	if p, err := mail.ParseAddress(a); err == nil {
		a = p.Address
	}
	return s.own[intake.FoldAddress(a)] || s.own[strings.TrimSpace(addr)]
}

// isPhone reports whether rcpt is an E.164 phone number, as SMS acks are
// addressed.
func isPhone(rcpt string) bool {
	if len(rcpt) < 2 || rcpt[0] != '+' {
		return false
	}
	for _, c := range rcpt[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// deliverable reports whether rcpt is a mail address whose domain can
// receive mail from the internet: "local@example.com", or with a display
// name. An address without a domain ("moderator", "MAILER-DAEMON") or with a
// single-label or malformed one is not.
func deliverable(rcpt string) bool {
	a, err := mail.ParseAddress(rcpt)
	if err != nil {
		return false
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 {
		return false
	}
	domain := a.Address[at+1:]
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		return len(domain) > 2 // an address literal, RFC 5321 section 4.1.3
	}
	labels := strings.Split(strings.TrimSuffix(domain, "."), ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
		for _, c := range l {
			if c < utf8.RuneSelf && !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != "" // a top-level domain is never all digits
}

// autoReason names the suppression of machine-generated mail; list mail
// is called out as such.
func autoReason(r string) string {
	switch r {
	case "list-id", "list-unsubscribe", "precedence: list", "precedence: bulk":
		return "mailing list (" + r + ")"
	}
	return "auto-generated (" + r + ")"
}

var (
	// noReplyLocal matches local parts of addresses nobody reads.
	noReplyLocal = regexp.MustCompile(`^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)([-_.+].*)?$`)
	// reportSubject matches the subjects of bounces and abuse reports,
	// also when a person forwards one: machine output a structure check
	// can miss (a forwarded bounce, an old Hotmail complaint).
	reportSubject = regexp.MustCompile(`(?i)^((re|fwd?|aw|wg)\s*:\s*)*(returned mail\b|undeliver(able|ed) mail|undeliverable:|delivery status notification|delivery (failure|has failed)|mail delivery (failed|failure)|failure notice$|non-?delivery (report|notification)|complaint about message from )`)
	// listLocal matches local parts of list robots and list owners.
	listLocal = regexp.MustCompile(`^(owner-.+|.+-(request|owner|bounces?)|listserv|majordomo|mailman|sympa)$`)
)
