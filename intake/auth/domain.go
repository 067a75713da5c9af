package auth

import (
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// alignment is a DMARC identifier alignment mode (RFC 7489 section 3.1).
type alignment int

const (
	// relaxed: the organizational domains are the same.
	relaxed alignment = iota
	// strict: the domains are the same.
	strict
)

// String returns the mode as a DMARC record spells it.
func (a alignment) String() string {
	if a == strict {
		return "s"
	}
	return "r"
}

// normalizeDomain returns d lowercased, in its ASCII (A-label) form, without
// a trailing dot, and whether it is a DNS host name at all (a domain literal
// such as "[192.0.2.1]" is not).
func normalizeDomain(d string) (string, bool) {
	d = strings.TrimSuffix(strings.TrimSpace(d), ".")
	if ascii, err := idna.Lookup.ToASCII(d); err == nil {
		d = ascii
	}
	d = strings.ToLower(d)
	if d == "" || len(d) > 253 {
		return d, false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return d, false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return d, false
			}
		}
	}
	return d, true
}

// orgDomain returns the organizational domain of a normalized domain (RFC
// 7489 section 3.2): its public suffix and one label more, by the Public
// Suffix List, so that "mail.example.co.uk" gives "example.co.uk". A domain
// that is itself a public suffix is its own organizational domain.
func orgDomain(d string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

// aligned reports whether a DKIM signing domain aligns with the From
// domain under mode; both are normalized.
func aligned(sigDomain, fromDomain string, mode alignment) bool {
	if sigDomain == fromDomain {
		return true
	}
	return mode == relaxed && orgDomain(sigDomain) == orgDomain(fromDomain)
}
