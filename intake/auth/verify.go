package auth

import (
	"context"
	"fmt"
	"strings"
)

// Requirement is the check a message must pass to be verified.
type Requirement string

const (
	// RequireDMARC: a DKIM signature aligned with the From domain by DMARC's
	// rules passes, or a trusted server reports dmarc=pass.
	RequireDMARC Requirement = "dmarc"
	// RequireDKIM: a DKIM signature by the From domain's organizational
	// domain or one of its subdomains passes, whatever the DMARC record
	// says, or a trusted server reports such a dkim=pass.
	RequireDKIM Requirement = "dkim"
	// RequireNone: every message with a single From address is verified;
	// the roster alone decides.
	RequireNone Requirement = "none"
)

// ParseRequirement returns the Requirement spelled s: "dmarc", "dkim" or
// "none"; "" means "dmarc".
func ParseRequirement(s string) (Requirement, error) {
	switch r := Requirement(strings.ToLower(strings.TrimSpace(s))); r {
	case "":
		return RequireDMARC, nil
	case RequireDMARC, RequireDKIM, RequireNone:
		return r, nil
	default:
		return "", fmt.Errorf("unknown sender verification %q: want dmarc, dkim or none", s)
	}
}

// DefaultMaxSignatures is how many DKIM signatures of a message are checked
// when Options.MaxSignatures is zero.
const DefaultMaxSignatures = 8

// Options configures a Verifier; nil and zero fields take the defaults.
type Options struct {
	// Require is the check a message must pass; "" means RequireDMARC.
	Require Requirement
	// TrustedAuthServIDs, when set, are the authserv-ids of the mail servers
	// that already verified the mail: their Authentication-Results field is
	// believed instead of Earshot's own checks, and no DNS lookup is made.
	// Only the topmost block of them counts (see the package doc).
	TrustedAuthServIDs []string
	// Resolver answers DKIM key and DMARC record lookups; nil means a
	// DefaultResolver of the Verifier's own.
	Resolver Resolver
	// MaxSignatures bounds the DKIM signatures checked per message, the
	// topmost first; zero means DefaultMaxSignatures.
	MaxSignatures int
}

// Verifier decides whether mail comes from who its From field says. It is
// safe for concurrent use.
type Verifier struct {
	require       Requirement
	trusted       map[string]bool
	resolver      Resolver
	maxSignatures int
}

// New returns a Verifier for opts.
func New(opts Options) (*Verifier, error) {
	require, err := ParseRequirement(string(opts.Require))
	if err != nil {
		return nil, err
	}
	v := &Verifier{require: require, resolver: opts.Resolver, maxSignatures: opts.MaxSignatures}
	if v.resolver == nil {
		v.resolver = DefaultResolver()
	}
	if v.maxSignatures <= 0 {
		v.maxSignatures = DefaultMaxSignatures
	}
	for _, id := range opts.TrustedAuthServIDs {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			if v.trusted == nil {
				v.trusted = make(map[string]bool)
			}
			v.trusted[id] = true
		}
	}
	return v, nil
}

// Verify checks the raw message, as stored (CRLF or LF line endings), and
// returns what it found. The error is nil, or wraps ErrTemporary when a DNS
// failure kept the verdict from being reached (the Result says so too), or
// wraps the context's error when ctx ended. A malformed message is never an
// error: it is not verified, and the Result says why.
func (v *Verifier) Verify(ctx context.Context, raw []byte) (*Result, error) {
	fields, complete := splitHeader(raw)
	res := &Result{}
	res.Spam, res.SpamReason = spamVerdict(fields)

	addr, domain, problem := fromAddress(fields)
	res.From, res.FromDomain = addr, domain
	if problem != "" {
		res.From = ""
		res.Reason = problem
		return res, nil
	}
	switch {
	case v.require == RequireNone:
		res.Verified = true
		res.Reason = "sender verification not required"
		return res, nil
	case v.trusted != nil:
		v.serverVerdict(fields, res)
		return res, nil
	}
	if !complete {
		raw = withEmptyBody(raw)
	}
	err := v.dkimVerdict(ctx, raw, res)
	if ctxErr := ctx.Err(); ctxErr != nil {
		res.Verified = false
		res.Reason = "verification interrupted"
		return res, fmt.Errorf("verify sender: %w", ctxErr)
	}
	return res, err
}
