package auth

import (
	"errors"
	"fmt"
)

// ErrTemporary is wrapped by the error Verify returns when a DNS lookup
// that the verdict depends on failed (timeout, SERVFAIL): the message may
// well be genuine, and verifying it again later may succeed.
var ErrTemporary = errors.New("temporary dns failure")

// Source says whose checks a Result rests on.
type Source string

const (
	// SourceNone: nothing was checked (require none, or no single From).
	SourceNone Source = ""
	// SourceDKIM: Earshot verified the DKIM signatures itself.
	SourceDKIM Source = "dkim"
	// SourceServer: a trusted server's Authentication-Results field.
	SourceServer Source = "authentication-results"
)

// Signature is the outcome of one DKIM signature.
type Signature struct {
	// Domain is the signing domain (d=, or header.d of a server's result),
	// lowercased.
	Domain string
	// Result is "pass", "fail", "permerror", "temperror" or, from a server,
	// any result value of RFC 8601.
	Result string
	// Reason says why the signature did not pass; "" when it did.
	Reason string
	// Aligned reports whether Domain aligns with the From domain, in the
	// mode that was applied (the DMARC record's adkim, relaxed by default).
	Aligned bool
}

// Result is what Verify found out about one message.
type Result struct {
	// From is the message's single From address; "" when it has none,
	// several, or one without a domain name.
	From string
	// FromDomain is the domain of From, lowercased, in ASCII form.
	FromDomain string
	// Signatures holds the DKIM signatures checked, top first: Earshot's own
	// verification, or a trusted server's dkim results.
	Signatures []Signature
	// AlignedPass reports whether a DKIM signature aligned with FromDomain
	// passed (for a trusted server: it reported one, or dmarc=pass).
	AlignedPass bool
	// Policy is the DMARC policy that applies to FromDomain ("none",
	// "quarantine", "reject"); "" when it has no DMARC record or none was
	// looked up. The record is looked up only when it can change the
	// verdict: for a valid signature by another domain of the From
	// domain's organization.
	Policy string
	// Source says whose checks the verdict rests on.
	Source Source
	// AuthServID is the authserv-id of the trusted Authentication-Results
	// used; "" otherwise.
	AuthServID string
	// DMARC and SPF are the trusted server's dmarc and spf results ("pass",
	// "fail", ...); "" when it gave none or none was used.
	DMARC, SPF string

	// Verified reports whether the message satisfies the required check.
	Verified bool
	// Temporary reports that a DNS failure kept the verdict from being
	// reached; Verify then also returns an error wrapping ErrTemporary, and
	// Verified is false.
	Temporary bool
	// Reason says in a few words why the message is or is not verified,
	// such as "dkim=pass (example.com, aligned)" or "no DKIM signature".
	Reason string

	// Spam reports that a spam filter on the way marked the message as spam.
	Spam bool
	// SpamReason is the header field that says so, such as
	// "X-Spam-Flag: YES"; "" when Spam is false.
	SpamReason string
}

// temporary marks res as temporary because of err and returns the error
// Verify reports for it.
func (res *Result) temporary(err error) error {
	res.Verified = false
	res.Temporary = true
	res.Reason = "dns error: " + err.Error()
	return fmt.Errorf("verify sender: %w: %w", ErrTemporary, err)
}
