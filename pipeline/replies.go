package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/internal/sign"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// Decider records a status change (decision.Service).
type Decider interface {
	Set(ctx context.Context, c model.StatusChange) (model.StatusEvent, bool, error)
}

// Replies turns an owner's reply to a notice into the item's status. A
// reply counts only when its In-Reply-To or References name a notice
// whose token is that owner's for that item, and it comes from that
// owner's address, verified as its mailbox requires; anything else is
// processed as any mail is, and changes no status. A reply that counts is
// kept, but it is not a contribution: no tags, owners, points or ack.
type Replies struct {
	Decide Decider
	Signer *sign.Signer
	// Owners are the configured owners.
	Owners []config.Owner
}

// AutoDecision prefixes the automatic reason of an owner's reply.
const AutoDecision = "owner reply to the notice about item "

// handle decides whether msg is an owner's reply that counts and, if so,
// records its decision and returns the reply's result.
func (r *Replies) handle(ctx context.Context, g *Gate, it model.Item, msg *intake.Message, mailboxes []string) (model.Processed, bool, error) {
	if r == nil || r.Signer == nil || r.Decide == nil {
		return model.Processed{}, false, nil
	}
	refs := sign.NoticeRefs(append(append([]string(nil), msg.InReplyTo...), msg.References...))
	if len(refs) == 0 {
		return model.Processed{}, false, nil
	}
	sender := intake.FoldAddress(msg.From.Addr)
	var (
		owner config.Owner
		ref   sign.NoticeRef
		found bool
	)
	for _, o := range r.Owners {
		if o.Email == "" || intake.FoldAddress(o.Email) != sender {
			continue
		}
		for _, x := range refs {
			if r.Signer.ValidNotice(x, o.Name) {
				owner, ref, found = o, x, true
			}
		}
	}
	if !found {
		return model.Processed{}, false, nil
	}
	// A +tag in the recipients, when there is one, names the same notice.
	var rcpts []string
	for _, a := range append(append([]intake.Address(nil), msg.To...), msg.Cc...) {
		rcpts = append(rcpts, a.Addr)
	}
	for _, x := range sign.NoticeTags(rcpts) {
		if x != ref {
			return model.Processed{}, false, nil
		}
	}
	p := g.policy(mailboxes)
	verdict := SenderVerdict{Verified: p.Require == "none", Reason: "no verification required"}
	if g.Check != nil {
		v, err := g.Check.Check(ctx, it.Raw, SenderPolicy{Require: p.Require, AuthservIDs: p.AuthservIDs})
		if err != nil {
			return model.Processed{}, false, fmt.Errorf("verify the sender of item %d: %w", it.ID, err)
		}
		verdict = v
	}
	if !verdict.Verified || verdict.Spam != "" {
		return model.Processed{}, false, nil
	}
	out := model.Processed{
		Sender: sender, Subject: msg.Subject, BodyText: msg.Text, FullText: msg.FullText, Warnings: msg.Warnings,
		Trust: model.TrustStranger, Message: message(msg, mailboxes),
		TrustReason: fmt.Sprintf("%s, owner %s (%s)", sender, owner.Name, verdict.Reason),
	}
	c, err := model.ParseDecision(firstLine(msg.Text))
	if err != nil {
		out.AutoReason = fmt.Sprintf("%s%d: no decision", AutoDecision, ref.Item)
		out.Warnings = append(out.Warnings, "no decision in the reply's first line: "+err.Error())
		return out, true, nil
	}
	c.ItemID, c.Actor, c.Via, c.SourceItemID = ref.Item, owner.Name, model.ViaReply, it.ID
	out.AutoReason = fmt.Sprintf("%s%d: %s", AutoDecision, ref.Item, c.Status)
	if _, _, err := r.Decide.Set(ctx, c); err != nil {
		if errors.Is(err, store.ErrNotFound) || strings.Contains(err.Error(), "bad status change") {
			out.Warnings = append(out.Warnings, "the decision was not recorded: "+err.Error())
			return out, true, nil
		}
		return model.Processed{}, false, err
	}
	return out, true, nil
}

// firstLine is the first line of text that is not blank.
func firstLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
