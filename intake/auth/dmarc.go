package auth

import (
	"context"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
)

// dmarcPolicy is what a DMARC record says about a From domain.
type dmarcPolicy struct {
	policy string    // "none", "quarantine" or "reject"
	mode   alignment // adkim
}

// lookupDMARC discovers the DMARC policy of a From domain (RFC 7489 section
// 6.6.3): the record at _dmarc.<domain>, else the one at the organizational
// domain, whose sp= then applies when it has one. It returns nil when
// neither has a usable record, and an error only when a lookup got no
// answer.
func (v *Verifier) lookupDMARC(ctx context.Context, domain string) (*dmarcPolicy, error) {
	rec, err := v.dmarcRecord(ctx, domain)
	if err != nil {
		return nil, err
	}
	if rec != nil {
		return &dmarcPolicy{policy: string(rec.Policy), mode: alignmentOf(rec)}, nil
	}
	org := orgDomain(domain)
	if org == domain {
		return nil, nil
	}
	rec, err = v.dmarcRecord(ctx, org)
	if err != nil || rec == nil {
		return nil, err
	}
	p := &dmarcPolicy{policy: string(rec.Policy), mode: alignmentOf(rec)}
	if rec.SubdomainPolicy != "" {
		p.policy = string(rec.SubdomainPolicy)
	}
	return p, nil
}

// dmarcRecord returns the DMARC record published at _dmarc.<domain>: nil
// when there is none, several, or one that does not parse, which RFC 7489
// treats alike.
func (v *Verifier) dmarcRecord(ctx context.Context, domain string) (*dmarc.Record, error) {
	name := "_dmarc." + domain
	txts, err := v.resolver.LookupTXT(ctx, name)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, lookupError(name, err)
	}
	var found []string
	for _, txt := range txts {
		if isDMARC1(txt) {
			found = append(found, txt)
		}
	}
	if len(found) != 1 {
		return nil, nil
	}
	rec, err := dmarc.Parse(found[0])
	if err != nil {
		return nil, nil
	}
	return rec, nil
}

// isDMARC1 reports whether a TXT record starts with the tag v=DMARC1.
func isDMARC1(txt string) bool {
	first, _, _ := strings.Cut(txt, ";")
	k, val, ok := strings.Cut(first, "=")
	return ok && strings.TrimSpace(k) == "v" && strings.TrimSpace(val) == "DMARC1"
}

// alignmentOf returns a record's DKIM alignment mode.
func alignmentOf(rec *dmarc.Record) alignment {
	if rec.DKIMAlignment == dmarc.AlignmentStrict {
		return strict
	}
	return relaxed
}
