package auth

import (
	"context"
	"testing"
)

// serverCase is one message judged by a trusted server's
// Authentication-Results. The header lines are put on top of a plain
// unsigned message from rep@example.com.
type serverCase struct {
	name    string
	origin  string
	require Requirement
	header  string

	verified bool
	reason   string
	dmarc    string // Result.DMARC
}

var serverCases = []serverCase{
	{
		name: "trusted dmarc=pass", origin: "RFC 8601 appendix B.3, OpenDMARC's field",
		header: "Authentication-Results: mx.earshot.test; dmarc=pass (p=reject dis=none) header.from=example.com\n" +
			"Received: from mail.example.com by mx.earshot.test\n",
		verified: true, reason: "mx.earshot.test: dmarc=pass", dmarc: "pass",
	},
	{
		name: "trusted dmarc=fail", origin: "the forged-rep attack, as the mail server judged it",
		header: "Authentication-Results: mx.earshot.test; spf=fail smtp.mailfrom=attacker.test; dkim=none; dmarc=fail header.from=example.com\n" +
			"Received: from attacker.test by mx.earshot.test\n",
		reason: "mx.earshot.test: dmarc=fail", dmarc: "fail",
	},
	{
		name: "forged untrusted field below a genuine one", origin: "RFC 8601 section 7.2 (forged header fields)",
		header: "Authentication-Results: mx.earshot.test; dmarc=fail header.from=example.com\n" +
			"Received: from attacker.test by mx.earshot.test\n" +
			"Authentication-Results: mx.attacker.test; dmarc=pass header.from=example.com\n",
		reason: "mx.earshot.test: dmarc=fail", dmarc: "fail",
	},
	{
		name: "forged trusted field below the trusted server's Received", origin: "RFC 8601 section 5 (fields claiming the authserv-id from outside)",
		header: "Authentication-Results: mx.earshot.test; dkim=none\n" +
			"Received: from attacker.test by mx.earshot.test\n" +
			"Authentication-Results: mx.earshot.test; dmarc=pass header.from=example.com\n",
		reason: "mx.earshot.test: no DKIM signature",
	},
	{
		name: "forged trusted field right below the genuine one", origin: "a server writing its field below its Received: the topmost result of a method wins",
		header: "Received: from attacker.test by mx.earshot.test\n" +
			"Authentication-Results: mx.earshot.test; dmarc=fail header.from=example.com\n" +
			"Authentication-Results: mx.earshot.test; dmarc=pass header.from=example.com\n",
		reason: "mx.earshot.test: dmarc=fail", dmarc: "fail",
	},
	{
		name: "topmost field from an untrusted server", origin: "RFC 8601 section 5 (only a trusted authserv-id counts)",
		header: "Authentication-Results: relay.example.org; dmarc=pass header.from=example.com\n" +
			"Authentication-Results: mx.earshot.test; dmarc=pass header.from=example.com\n",
		reason: "topmost Authentication-Results is not from a trusted server",
	},
	{
		name: "no field at all", origin: "mail that did not pass the trusted server",
		header: "Received: from attacker.test by mx.earshot.test\n",
		reason: "no Authentication-Results from a trusted server",
	},
	{
		name: "other trace fields above the block", origin: "Dovecot LMTP delivery after a Postfix MX with milters",
		header: "Return-Path: <rep@example.com>\nDelivered-To: feedback@earshot.test\n" +
			"Received: from mx.earshot.test by imap.earshot.test with LMTP\n" +
			"Authentication-Results: mx.earshot.test; dmarc=pass header.from=example.com\n" +
			"Authentication-Results: mx.earshot.test; dkim=pass header.d=example.com\n" +
			"Received: from mail.example.com by mx.earshot.test\n",
		verified: true, reason: "mx.earshot.test: dmarc=pass", dmarc: "pass",
	},
	{
		name: "results split over several fields", origin: "OpenDKIM, then OpenDMARC, each adding a field",
		header: "Authentication-Results: MX.Earshot.Test 1; dkim=pass (2048-bit key; unprotected) header.d=example.com header.i=@example.com\n" +
			"Authentication-Results: mx.earshot.test; spf=pass smtp.mailfrom=example.com\n" +
			"Received: from mail.example.com by mx.earshot.test\n",
		verified: true, reason: "mx.earshot.test: dkim=pass (example.com, aligned)",
	},
	{
		name: "dmarc=pass for another domain", origin: "RFC 7489 section 11.2 (header.from names the From domain)",
		header: "Authentication-Results: mx.earshot.test; dmarc=pass header.from=attacker.test\n",
		reason: "mx.earshot.test: dmarc=pass for attacker.test, not example.com", dmarc: "pass",
	},
	{
		name: "dmarc=pass without header.from", origin: "a result that names no domain is not taken",
		header: "Authentication-Results: mx.earshot.test; dmarc=pass\n",
		reason: "mx.earshot.test: dmarc=pass without header.from", dmarc: "pass",
	},
	{
		name: "result injected through a quoted local part", origin: "RFC 5321 section 4.1.2 (a quoted-string local part may hold ';')",
		header: "Authentication-Results: mx.earshot.test; spf=pass smtp.mailfrom=\"x; dmarc=pass header.from=example.com ;\"@attacker.test; dmarc=fail header.from=example.com\n",
		reason: "mx.earshot.test: dmarc=fail", dmarc: "fail",
	},
	{
		name: "result injected through a comment", origin: "RFC 8601 section 2.2 (CFWS may hold ';')",
		header: "Authentication-Results: mx.earshot.test; spf=none (x; dmarc=pass header.from=example.com) smtp.mailfrom=attacker.test; dmarc=fail header.from=example.com\n",
		reason: "mx.earshot.test: dmarc=fail", dmarc: "fail",
	},
	{
		name: "no DMARC result, aligned dkim=pass", origin: "a server that checks DKIM only; RFC 7489 relaxed alignment",
		header:   "Authentication-Results: mx.earshot.test; dkim=pass header.d=mail.example.com\n",
		verified: true, reason: "mx.earshot.test: dkim=pass (mail.example.com, aligned)",
	},
	{
		name: "dmarc=none, third-party dkim=pass", origin: "RFC 7489 section 3.1.1 (an ESP's signature)",
		header: "Authentication-Results: mx.earshot.test; dkim=pass header.d=mailer.example.net; dmarc=none header.from=example.com\n",
		reason: "mx.earshot.test: signed by mailer.example.net, not aligned with example.com", dmarc: "none",
	},
	{
		name: "require dkim: aligned dkim=pass", origin: "require: dkim",
		require:  RequireDKIM,
		header:   "Authentication-Results: mx.earshot.test; dkim=pass header.d=example.com; dmarc=fail header.from=example.com\n",
		verified: true, reason: "mx.earshot.test: dkim=pass (example.com, aligned)", dmarc: "fail",
	},
	{
		name: "require dkim: aligned dkim=fail", origin: "require: dkim",
		require: RequireDKIM,
		header:  "Authentication-Results: mx.earshot.test; dkim=fail reason=\"bad signature\" header.d=example.com\n",
		reason:  "mx.earshot.test: dkim=fail (example.com)",
	},
	{
		name: "second trusted server", origin: "a filter and the MX, both trusted",
		header: "Authentication-Results: filter.earshot.test; dkim=pass header.d=example.com\n" +
			"Authentication-Results: mx.earshot.test; dmarc=pass header.from=example.com\n",
		verified: true, reason: "filter.earshot.test: dmarc=pass", dmarc: "pass",
	},
}

func TestVerifyTrustedServer(t *testing.T) {
	for _, tc := range serverCases {
		t.Run(tc.name, func(t *testing.T) {
			dns := newStubDNS()
			v := newVerifier(t, Options{
				Require:            tc.require,
				TrustedAuthServIDs: []string{"mx.earshot.test", " Filter.Earshot.Test "},
				Resolver:           dns,
			})
			res, err := v.Verify(context.Background(), prepend(tc.header, message("rep@example.com", "hi", "hello\n")))
			checkResult(t, tc.origin, res, err, tc.verified, tc.reason, false)
			if res.DMARC != tc.dmarc {
				t.Errorf("%s: DMARC %q, want %q", tc.origin, res.DMARC, tc.dmarc)
			}
			if res.Source != SourceServer {
				t.Errorf("%s: Source %q", tc.origin, res.Source)
			}
			if n := dns.total(); n != 0 {
				t.Errorf("%s: %d DNS lookups, want none", tc.origin, n)
			}
		})
	}
}

func TestTrustedServerIgnoresOwnSignatures(t *testing.T) {
	// A validly signed message that the trusted server judged dmarc=fail
	// (say, its key has been rotated since) is not verified.
	dns := newStubDNS()
	publishAll("example.com")(dns)
	m := prepend("Authentication-Results: mx.earshot.test; dkim=fail header.d=example.com; dmarc=fail header.from=example.com\n",
		signedBy("rep@example.com", "example.com", rsaKey)(t))
	res, err := newVerifier(t, Options{TrustedAuthServIDs: []string{"mx.earshot.test"}, Resolver: dns}).Verify(context.Background(), m)
	checkResult(t, "Options.TrustedAuthServIDs: instead of Earshot's own checks", res, err, false, "mx.earshot.test: dmarc=fail", false)
	want := Signature{Domain: "example.com", Result: "fail", Aligned: true}
	if len(res.Signatures) != 1 || res.Signatures[0] != want {
		t.Errorf("signatures %+v, want [%+v]", res.Signatures, want)
	}
}
