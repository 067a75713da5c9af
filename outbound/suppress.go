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
	"github.com/earshot-dev/earshot/model"
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

// AckCounter counts the acks already enqueued, for the caps.
type AckCounter interface {
	AckCounts(ctx context.Context, q model.AckQuery) (model.AckCounts, error)
}

// Suppressor decides, when an ack is enqueued, whether it must not be
// sent, following RFC 3834: never answer machine-generated mail, mailing
// lists, our own addresses or no-reply senders, never answer a reply to
// one of our messages. And caps: one recipient (its address folded: case,
// +tags) gets at most a daily cap of acks, all acks together an hourly
// cap; senders outside the roster also a daily cap per domain and their
// mailbox's hourly cap.
type Suppressor struct {
	enabled bool
	// own holds our folded mail addresses and our phone number.
	own map[string]bool
	// domain is the right-hand side of our Message-IDs.
	domain                         string
	dailyCap, domainCap, hourlyCap int
	plusAll                        bool
	plusDomains                    map[string]bool
	loc                            *time.Location
}

// NewSuppressor builds the suppression rules of a configuration: our
// addresses are every mailbox address, smtp.from and the Twilio number.
func NewSuppressor(cfg *config.Config) *Suppressor {
	s := &Suppressor{enabled: cfg.Acks.Enabled, own: map[string]bool{}, dailyCap: cfg.Acks.DailyCap,
		domainCap: cfg.Acks.DomainDailyCap, hourlyCap: cfg.Acks.HourlyCap, plusDomains: map[string]bool{}, loc: cfg.Location}
	if s.loc == nil {
		s.loc = time.UTC
	}
	for _, d := range cfg.Acks.PlusDomains {
		if d = strings.ToLower(strings.TrimSpace(d)); d == "*" {
			s.plusAll = true
		} else if d != "" {
			s.plusDomains[d] = true
		}
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
	// Outsider is set when the recipient is not a rep (a colleague domain,
	// a mailbox open to anyone): the daily cap per domain applies.
	Outsider bool
	// OpenHourlyCap, when not 0, bounds the acks per hour to senders
	// outside the roster: the sender is one, and the mailbox accepts anyone.
	OpenHourlyCap int
}

// Ack returns why an ack must not be sent, or "" to send it: the rules
// (Rule), then the caps, which read the store through counter.
func (s *Suppressor) Ack(ctx context.Context, counter AckCounter, in Incoming, now time.Time) (string, error) {
	if r := s.Rule(in); r != "" {
		return r, nil
	}
	return s.Cap(ctx, counter, in, now)
}

// Cap returns which cap an ack to in.Recipient would exceed, or "".
func (s *Suppressor) Cap(ctx context.Context, counter AckCounter, in Incoming, now time.Time) (string, error) {
	day, hour := s.Window(now)
	key := s.Key(in.Recipient)
	_, domain, _ := strings.Cut(key, "@")
	q := model.AckQuery{RecipientKey: key, Domain: domain, Day: day, Hour: hour,
		Upto: model.AckCounts{Recipient: s.dailyCap, Hour: s.hourlyCap, OpenHour: in.OpenHourlyCap}}
	if in.Outsider && domain != "" {
		q.Upto.Domain = s.domainCap
	}
	c, err := counter.AckCounts(ctx, q)
	if err != nil {
		return "", fmt.Errorf("suppression: %w", err)
	}
	switch {
	case s.dailyCap > 0 && c.Recipient >= s.dailyCap:
		return fmt.Sprintf("daily cap of %d acks reached", s.dailyCap), nil
	case in.Outsider && s.domainCap > 0 && domain != "" && c.Domain >= s.domainCap:
		return fmt.Sprintf("daily cap of %d acks to %s reached", s.domainCap, domain), nil
	case s.hourlyCap > 0 && c.Hour >= s.hourlyCap:
		return fmt.Sprintf("hourly cap of %d acks reached", s.hourlyCap), nil
	case in.OpenHourlyCap > 0 && c.OpenHour >= in.OpenHourlyCap:
		return fmt.Sprintf("hourly cap of %d acks to senders outside the roster reached", in.OpenHourlyCap), nil
	}
	return "", nil
}

// Window is what the caps count at now: the acks since day, the start of
// the day in the configured zone, and those since hour, an hour ago.
func (s *Suppressor) Window(now time.Time) (day, hour time.Time) {
	y, m, d := now.In(s.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.loc), now.Add(-time.Hour)
}

// Key is a recipient as the caps count it: a mail address lower-cased,
// its +tag dropped where the domain takes +tags; a phone number as it is.
func (s *Suppressor) Key(recipient string) string {
	r := strings.TrimSpace(recipient)
	if a, err := mail.ParseAddress(r); err == nil {
		r = a.Address
	}
	r = strings.ToLower(r)
	local, domain, ok := strings.Cut(r, "@")
	if !ok {
		return r
	}
	if s.plusAll || s.plusDomains[domain] {
		if i := strings.IndexByte(local, '+'); i > 0 {
			local = local[:i]
		}
	}
	return local + "@" + domain
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

// Rule returns why no ack may answer in, whatever the caps say: acks
// disabled, no recipient, automatic mail, our own address, a no-reply or
// list address, a reply to one of our messages; "" when none applies.
func (s *Suppressor) Rule(in Incoming) string {
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
	case !isPhone(rcpt) && !strings.HasPrefix(rcpt, slackPrefix) && !deliverable(rcpt):
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
