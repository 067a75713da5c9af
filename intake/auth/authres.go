package auth

import (
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// serverResults is one trusted Authentication-Results field.
type serverResults struct {
	id      string // authserv-id, lowercased
	results []authres.Result
}

// trustedBlock returns the trusted server's Authentication-Results fields
// that count, top first, or why there are none. Reading from the top of
// the header, other fields are passed over until the first
// Authentication-Results field, which must come from a trusted authserv-id;
// the block then runs over the following trusted ones and ends at the first
// Received field or the first Authentication-Results field of another
// authserv-id. Anything below was in the message before the trusted server
// received it, and may have been written by anyone.
func (v *Verifier) trustedBlock(fields []field) ([]serverResults, string) {
	var block []serverResults
	for _, f := range fields {
		switch {
		case f.is("Authentication-Results"):
			// A field that does not parse to the end keeps the results
			// before the fault.
			id, results, _ := authres.Parse(neutralize(f.value))
			id = strings.ToLower(id)
			if v.trusted[id] {
				block = append(block, serverResults{id: id, results: results})
				continue
			}
			if len(block) > 0 {
				return block, ""
			}
			return nil, "topmost Authentication-Results is not from a trusted server"
		case f.is("Received") && len(block) > 0:
			return block, ""
		}
	}
	if len(block) == 0 {
		return nil, "no Authentication-Results from a trusted server"
	}
	return block, ""
}

// serverVerdict decides from the trusted server's Authentication-Results
// instead of checking signatures, and fills res. For each method the
// topmost result counts.
func (v *Verifier) serverVerdict(fields []field, res *Result) {
	res.Source = SourceServer
	block, problem := v.trustedBlock(fields)
	if problem != "" {
		res.Reason = problem
		return
	}
	id := block[0].id
	res.AuthServID = id
	from := res.FromDomain
	var dmarcResult *authres.DMARCResult
	for _, h := range block {
		for _, r := range h.results {
			switch r := r.(type) {
			case *authres.DMARCResult:
				if dmarcResult == nil {
					dmarcResult = r
					res.DMARC = string(r.Value)
				}
			case *authres.SPFResult:
				if res.SPF == "" {
					res.SPF = string(r.Value)
				}
			case *authres.DKIMResult:
				if r.Value == authres.ResultNone {
					continue // dkim=none: no signature
				}
				d, _ := normalizeDomain(unquote(r.Domain))
				res.Signatures = append(res.Signatures, Signature{
					Domain:  d,
					Result:  string(r.Value),
					Reason:  r.Reason,
					Aligned: d != "" && aligned(d, from, relaxed),
				})
			}
		}
	}

	if v.require == RequireDMARC && dmarcResult != nil && dmarcResult.Value != authres.ResultNone {
		headerFrom, _ := normalizeDomain(unquote(dmarcResult.From))
		switch {
		case dmarcResult.Value != authres.ResultPass:
			res.Reason = fmt.Sprintf("%s: dmarc=%s", id, dmarcResult.Value)
		case headerFrom == from:
			res.AlignedPass, res.Verified = true, true
			res.Reason = fmt.Sprintf("%s: dmarc=pass", id)
		case headerFrom == "":
			res.Reason = fmt.Sprintf("%s: dmarc=pass without header.from", id)
		default:
			res.Reason = fmt.Sprintf("%s: dmarc=pass for %s, not %s", id, headerFrom, from)
		}
		return
	}

	// RequireDKIM, or a server that evaluated no DMARC policy: an aligned
	// dkim=pass authenticates the From domain.
	for _, s := range res.Signatures {
		if s.Result == "pass" && s.Aligned {
			res.AlignedPass, res.Verified = true, true
			res.Reason = fmt.Sprintf("%s: dkim=pass (%s, aligned)", id, s.Domain)
			return
		}
	}
	res.Reason = id + ": " + serverFailure(res.Signatures, from)
}

// serverFailure says why a trusted server's dkim results authenticate no
// From domain.
func serverFailure(sigs []Signature, from string) string {
	if len(sigs) == 0 {
		return "no DKIM signature"
	}
	for _, s := range sigs {
		if s.Aligned {
			return fmt.Sprintf("dkim=%s (%s)", s.Result, s.Domain)
		}
	}
	for _, s := range sigs {
		if s.Result == "pass" {
			if s.Domain == "" {
				return "dkim=pass without header.d"
			}
			return fmt.Sprintf("signed by %s, not aligned with %s", s.Domain, from)
		}
	}
	return fmt.Sprintf("dkim=%s (%s)", sigs[0].Result, sigs[0].Domain)
}
