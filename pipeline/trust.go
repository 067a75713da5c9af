package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/reps"
)

// SenderPolicy is how an email's sender must be verified before it earns
// anything: a mailbox's contributors.require and the mail servers whose
// Authentication-Results are trusted.
type SenderPolicy struct {
	// Require is dmarc, dkim or none.
	Require     string
	AuthservIDs []string
}

// SenderVerdict is what checking an email's sender found.
type SenderVerdict struct {
	// Verified is set when the sender passed the policy.
	Verified bool
	// Spam is the verdict header of a trusted mail server that marked the
	// message as spam; empty otherwise.
	Spam string
	// Reason says what was found, e.g. "dkim=pass (example.com, aligned)".
	Reason string
}

// SenderCheck verifies an email's sender (DKIM, DMARC, a trusted server's
// Authentication-Results) and reads spam verdicts. An error is temporary
// (a DNS failure): the item is processed again later.
type SenderCheck interface {
	Check(ctx context.Context, raw []byte, p SenderPolicy) (SenderVerdict, error)
}

// GateStore is what deciding trust reads from the store.
type GateStore interface {
	RepByContact(ctx context.Context, kind, value string) (model.Rep, error)
	ItemReview(ctx context.Context, itemID int64) (model.Review, bool, error)
	CallAttestation(ctx context.Context, callSID string) (string, bool, error)
}

// Gate decides who an item is from, as far as Earshot trusts it: only a
// rep whose address verified (or whose call carried a strong enough
// caller-ID attestation), or an item a manager credited, earns points;
// contributors are acknowledged; everyone else's item is kept and tagged
// and waits for a manager. It decides; it writes nothing.
type Gate struct {
	Store GateStore
	// Check verifies senders; nil verifies nobody, as if every check
	// failed (require: none needs no check).
	Check SenderCheck
	// Mailboxes holds each mailbox's contributor policy by its folded
	// address; Default is the policy of mail that arrived in none of them.
	Mailboxes map[string]config.Contributors
	Default   config.Contributors
	// Attestation is the weakest STIR/SHAKEN attestation that credits a
	// call by its caller number: A, B, C, or none.
	Attestation string
	// PhoneRegion reads caller numbers written without a country code.
	PhoneRegion string
	// SlackChannels holds each Slack channel's settings by source name.
	SlackChannels map[string]config.SlackChannel
}

// NewGate builds the gate of a validated configuration.
func NewGate(cfg *config.Config, st GateStore, check SenderCheck) *Gate {
	g := &Gate{Store: st, Check: check, Mailboxes: map[string]config.Contributors{},
		Default: config.Contributors{Accept: "roster", Require: "dmarc"}, PhoneRegion: cfg.PhoneRegion, Attestation: "A"}
	for _, m := range cfg.Mailboxes {
		g.Mailboxes[intake.FoldAddress(m.Address)] = m.Contributors
	}
	if cfg.Twilio != nil {
		g.Attestation = cfg.Twilio.Attestation
	}
	if cfg.Slack != nil {
		g.SlackChannels = map[string]config.SlackChannel{}
		for _, ch := range cfg.Slack.Channels {
			g.SlackChannels[ch.Name] = ch
		}
	}
	return g
}

// trust is a gate's decision about one item.
type trust struct {
	Trust  model.Trust
	Reason string
	// RepID is the rep credited, 0 for none.
	RepID int64
	// Route sends the item to its owners.
	Route bool
	// NoAck keeps a contributor from an ack (a manager's credit without
	// one); Why says why.
	NoAck bool
	Why   string
}

// policy is the contributor policy of mail that arrived in mailboxes: the
// most permissive accept of them, with its own verification.
func (g *Gate) policy(mailboxes []string) config.Contributors {
	best, rank := g.Default, -1
	order := map[string]int{"roster": 0, "domains": 1, "anyone": 2}
	for _, m := range mailboxes {
		if p, ok := g.Mailboxes[intake.FoldAddress(m)]; ok && order[p.Accept] > rank {
			best, rank = p, order[p.Accept]
		}
	}
	return best
}

// email decides the trust of an email from its sender.
func (g *Gate) email(ctx context.Context, it model.Item, msg *intake.Message, mailboxes []string) (trust, error) {
	p := g.policy(mailboxes)
	sender := intake.FoldAddress(msg.From.Addr)
	verdict := SenderVerdict{Verified: p.Require == "none", Reason: "no verification required"}
	if g.Check != nil {
		v, err := g.Check.Check(ctx, it.Raw, SenderPolicy{Require: p.Require, AuthservIDs: p.AuthservIDs})
		if err != nil {
			return trust{}, fmt.Errorf("verify the sender of item %d: %w", it.ID, err)
		}
		verdict = v
	}
	t := trust{}
	switch {
	case verdict.Spam != "":
		t = trust{Trust: model.TrustSpam, Reason: verdict.Spam}
	case sender == "":
		t = trust{Trust: model.TrustStranger, Reason: "no sender address"}
	default:
		rep, found, err := g.senderRep(ctx, it, sender)
		if err != nil {
			return trust{}, err
		}
		// A phone system's voicemail-to-email is the caller's, when it
		// comes verified from a configured phone system.
		if !found && msg.HasAudio() && msg.CallerNumber != "" && slices.ContainsFunc(p.PBX, func(a string) bool {
			return intake.FoldAddress(a) == sender
		}) {
			if num, err := reps.NormalizePhone(msg.CallerNumber, g.PhoneRegion); err == nil {
				if rep, found, err = g.rep(ctx, "phone", num); err != nil {
					return trust{}, err
				}
			}
			if found {
				verdict.Reason = "voicemail-to-email from " + sender + ", caller " + msg.CallerNumber + "; " + verdict.Reason
			}
		}
		switch {
		case found && verdict.Verified:
			t = trust{Trust: model.TrustRep, Reason: verdict.Reason, RepID: rep.ID}
		case found:
			t = trust{Trust: model.TrustUnverified, Reason: "from " + rep.Name + "'s address, not verified: " + verdict.Reason}
		case p.Accept == "domains" && verdict.Verified && inDomains(sender, p.Domains):
			t = trust{Trust: model.TrustColleague, Reason: "a verified sender of a colleague domain; " + verdict.Reason}
		case p.Accept == "anyone":
			t = trust{Trust: model.TrustOpen, Reason: "the mailbox accepts anyone"}
		default:
			t = trust{Trust: model.TrustStranger, Reason: "not on the rep roster"}
		}
	}
	t.Route = t.Trust.Contributor() || (p.RouteStrangers && t.Trust != model.TrustSpam)
	return g.reviewed(ctx, it, t)
}

// voicemail decides the trust of a voicemail from its caller number and
// the call's STIR/SHAKEN attestation.
func (g *Gate) voicemail(ctx context.Context, it model.Item, caller, callSID string) (trust, error) {
	t := trust{Trust: model.TrustStranger, Reason: "caller number withheld"}
	if caller != "" {
		rep, found, err := g.rep(ctx, "phone", caller)
		if err != nil {
			return trust{}, err
		}
		t.Reason = "not on the rep roster"
		if found {
			verstat, ok, err := g.Store.CallAttestation(ctx, callSID)
			if err != nil {
				return trust{}, err
			}
			if ok, why := attested(verstat, ok, g.Attestation); ok {
				t = trust{Trust: model.TrustRep, Reason: why, RepID: rep.ID}
			} else {
				t = trust{Trust: model.TrustUnverified, Reason: "from " + rep.Name + "'s number, " + why}
			}
		}
	}
	t.Route = t.Trust.Contributor()
	return g.reviewed(ctx, it, t)
}

// slack decides the trust of a Slack message from its author. Slack
// authenticated the user, so a user the roster maps to a rep, by the
// rep's slack contact or by the profile e-mail Slack holds, is that rep;
// anyone else is a stranger, whose message reaches its owners only where
// the channel routes strangers.
func (g *Gate) slack(ctx context.Context, it model.Item, src, user, email string) (trust, error) {
	t := trust{Trust: model.TrustStranger, Reason: "Slack user " + user + " is not on the rep roster"}
	rep, found, err := g.rep(ctx, "slack", user)
	if err != nil {
		return trust{}, err
	}
	if found {
		t = trust{Trust: model.TrustRep, Reason: "Slack user " + user + " is " + rep.Name + "'s (roster)", RepID: rep.ID}
	} else if addr := intake.FoldAddress(email); addr != "" {
		if rep, found, err = g.rep(ctx, "email", addr); err != nil {
			return trust{}, err
		}
		if found {
			t = trust{Trust: model.TrustRep, Reason: "Slack user " + user + "'s profile e-mail " + addr + " is " + rep.Name + "'s", RepID: rep.ID}
		}
	}
	t.Route = t.Trust.Contributor() || g.SlackChannels[src].RouteStrangers
	return g.reviewed(ctx, it, t)
}

// reviewed applies a manager's verdict on the item, if there is one: as
// the claim read it, or else as the store has it.
func (g *Gate) reviewed(ctx context.Context, it model.Item, t trust) (trust, error) {
	r, ok := model.Review{}, false
	if it.ReviewRead {
		if it.Review != nil {
			r, ok = *it.Review, true
		}
	} else {
		var err error
		if r, ok, err = g.Store.ItemReview(ctx, it.ID); err != nil {
			return t, err
		}
	}
	if !ok {
		return t, nil
	}
	switch r.Verdict {
	case model.ReviewCredit:
		t = trust{Trust: model.TrustCredited, Reason: "credited by " + r.Actor + " (" + t.Reason + ")", RepID: r.RepID,
			Route: true, NoAck: !r.SendAck}
		if t.NoAck {
			t.Why = "credited by " + r.Actor + " without an ack"
		}
	case model.ReviewDismiss:
		t.Reason, t.Route, t.RepID = "dismissed by "+r.Actor+" ("+t.Reason+")", false, 0
		if t.Trust.Contributor() {
			t.Trust = model.TrustStranger
		}
	}
	return t, nil
}

// senderRep returns the rep with the mail sender's address: as the
// item's batch read it, when it read that address, or else the store's.
func (g *Gate) senderRep(ctx context.Context, it model.Item, sender string) (model.Rep, bool, error) {
	if it.SenderAddr == "" || it.SenderAddr != sender {
		return g.rep(ctx, "email", sender)
	}
	if it.SenderRep == nil {
		return model.Rep{}, false, nil
	}
	return *it.SenderRep, true, nil
}

// rep returns the rep with that contact.
func (g *Gate) rep(ctx context.Context, kind, value string) (model.Rep, bool, error) {
	rep, err := g.Store.RepByContact(ctx, kind, value)
	switch {
	case err == nil:
		return rep, true, nil
	case errors.Is(err, model.ErrNotFound):
		return model.Rep{}, false, nil
	}
	return model.Rep{}, false, err
}

// inDomains reports whether the folded address is of one of domains.
func inDomains(addr string, domains []string) bool {
	_, d, ok := strings.Cut(addr, "@")
	return ok && slices.ContainsFunc(domains, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), d) })
}

// The STIR/SHAKEN attestations Twilio reports in StirVerstat, strongest
// first.
var verstats = []string{"TN-Validation-Passed-A", "TN-Validation-Passed-B", "TN-Validation-Passed-C"}

// attested reports whether a call's attestation (ok false: none was
// recorded) meets the weakest accepted level (A, B, C or none), and why.
func attested(verstat string, ok bool, weakest string) (bool, string) {
	if weakest == "none" {
		return true, "caller ID accepted without attestation"
	}
	if !ok || verstat == "" {
		return false, "no caller ID attestation for this call"
	}
	got := slices.Index(verstats, verstat)
	need := slices.Index(verstats, "TN-Validation-Passed-"+weakest)
	if got >= 0 && got <= need {
		return true, "caller ID attestation " + verstat
	}
	return false, "caller ID attestation " + verstat + " is below " + weakest
}

// contributors is the policy an item outside every mailbox is held to.
func (g *Gate) contributors() config.Contributors { return g.Default }

// apply records the decision in a processing result.
func (t trust) apply(out *model.Processed, p config.Contributors) {
	out.RepID, out.Trust, out.TrustReason = t.RepID, t.Trust, t.Reason
	out.Ack = model.AckRule{Withheld: t.Why}
	if t.Trust == model.TrustOpen {
		out.Ack.HourlyCap = p.HourlyCap
	}
}
