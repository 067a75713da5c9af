package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimVerdict verifies the DKIM signatures of raw and decides, with the
// From domain's DMARC record when DMARC is required, whether one of them
// authenticates the From domain. It fills res and returns an error only for
// a temporary DNS failure that the verdict depends on.
func (v *Verifier) dkimVerdict(ctx context.Context, raw []byte, res *Result) error {
	res.Source = SourceDKIM
	l := &lookups{ctx: ctx, resolver: v.resolver}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT:        l.lookupTXT,
		MaxVerifications: v.maxSignatures,
	})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		res.Reason = "DKIM signatures could not be read: " + trimDKIM(err)
		return nil
	}
	res.Signatures = signatures(verifs)

	mode := relaxed
	var dmarcErr error
	if v.require == RequireDMARC && needsDMARC(res.Signatures, res.FromDomain) {
		p, err := v.lookupDMARC(ctx, res.FromDomain)
		switch {
		case err != nil:
			dmarcErr = err
		case p != nil:
			res.Policy, mode = p.policy, p.mode
		}
	}
	from := res.FromDomain
	for i := range res.Signatures {
		res.Signatures[i].Aligned = aligned(res.Signatures[i].Domain, from, mode)
	}

	// A strictly aligned pass needs no DMARC record; a relaxed one needs to
	// know that the record does not ask for strict alignment.
	relaxedOnly := false
	for _, s := range res.Signatures {
		if s.Result != "pass" || !s.Aligned {
			continue
		}
		if dmarcErr != nil && s.Domain != from {
			relaxedOnly = true
			continue
		}
		res.AlignedPass, res.Verified = true, true
		res.Reason = fmt.Sprintf("dkim=pass (%s, aligned)", s.Domain)
		return nil
	}
	if relaxedOnly {
		return res.temporary(dmarcErr)
	}
	for _, s := range res.Signatures {
		if s.Result == "temperror" && s.Aligned {
			err := l.failure()
			if err == nil {
				err = errors.New(s.Reason)
			}
			return res.temporary(err)
		}
	}
	res.Reason = failureReason(res.Signatures, from, mode)
	return nil
}

// needsDMARC reports whether the From domain's DMARC record can change the
// verdict: only a valid signature by another domain of the same
// organization depends on the record's alignment mode. Mail without one
// costs no DMARC lookup, so a DNS outage or a slow resolver does not hold
// up unsigned mail, which is not verified either way.
func needsDMARC(sigs []Signature, from string) bool {
	for _, s := range sigs {
		if s.Result == "pass" && s.Domain != from && aligned(s.Domain, from, relaxed) {
			return true
		}
	}
	return false
}

// signatures converts go-msgauth's verifications.
func signatures(verifs []*dkim.Verification) []Signature {
	sigs := make([]Signature, 0, len(verifs))
	for _, vf := range verifs {
		s := Signature{Domain: strings.ToLower(strings.TrimSuffix(vf.Domain, "."))}
		switch {
		case vf.Err == nil:
			s.Result = "pass"
		case dkim.IsTempFail(vf.Err):
			s.Result = "temperror"
		case dkim.IsPermFail(vf.Err):
			s.Result = "permerror"
		default:
			s.Result = "fail"
		}
		if vf.Err != nil {
			s.Reason = trimDKIM(vf.Err)
		}
		sigs = append(sigs, s)
	}
	return sigs
}

// failureReason says why no signature authenticates the From domain: the
// failure of an aligned signature first, then a valid signature by another
// domain, then any failure.
func failureReason(sigs []Signature, from string, mode alignment) string {
	if len(sigs) == 0 {
		return "no DKIM signature"
	}
	for _, s := range sigs {
		if s.Aligned {
			return fmt.Sprintf("dkim=%s: %s", s.Result, s.Reason)
		}
	}
	for _, s := range sigs {
		if s.Result == "pass" {
			reason := fmt.Sprintf("signed by %s, not aligned with %s", s.Domain, from)
			if mode == strict && aligned(s.Domain, from, relaxed) {
				reason += " (DMARC asks for strict alignment)"
			}
			return reason
		}
	}
	s := sigs[0]
	if s.Domain == "" {
		return fmt.Sprintf("dkim=%s: %s", s.Result, s.Reason)
	}
	return fmt.Sprintf("dkim=%s (%s, not aligned with %s): %s", s.Result, s.Domain, from, s.Reason)
}

// trimDKIM returns a go-msgauth error's text without its "dkim: " prefix.
func trimDKIM(err error) string {
	return strings.TrimPrefix(err.Error(), "dkim: ")
}

// lookups adapts a Resolver to go-msgauth's context-free lookup function
// for one message, and remembers the first lookup that got no answer.
type lookups struct {
	ctx      context.Context
	resolver Resolver

	mu     sync.Mutex
	failed error
}

// lookupTXT is go-msgauth's LookupTXT. A name without records comes back
// as a permanent not-found error; a failure to get an answer as a
// temporary *net.DNSError, which go-msgauth reports as a temperror.
func (l *lookups) lookupTXT(name string) ([]string, error) {
	txts, err := l.resolver.LookupTXT(l.ctx, name)
	switch {
	case err == nil:
		return txts, nil
	case isNotFound(err):
		return nil, notFound(name)
	}
	l.mu.Lock()
	if l.failed == nil {
		l.failed = lookupError(name, err)
	}
	l.mu.Unlock()
	short := err.Error()
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		short = dnsErr.Err
	}
	return nil, &net.DNSError{Err: short, Name: name, IsTemporary: true}
}

// failure returns the first lookup that got no answer, or nil.
func (l *lookups) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// lookupError names the looked-up name in err unless err already does.
func lookupError(name string, err error) error {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.Name != "" {
		return err
	}
	return fmt.Errorf("lookup %s: %w", name, err)
}
