package auth

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// dkimCase is one message verified with Earshot's own DKIM and DMARC checks.
type dkimCase struct {
	name    string
	origin  string // where the case comes from
	require Requirement
	dns     func(*stubDNS)
	msg     func(testing.TB) []byte

	verified  bool
	reason    string // exact, or a prefix when it ends in "…"
	policy    string
	temporary bool
}

// publishAll publishes both test keys at domain.
func publishAll(domain string) func(*stubDNS) {
	return func(s *stubDNS) { s.publish(domain, rsaKey()).publish(domain, ed25519Key()) }
}

// with runs several DNS setups in order.
func with(setups ...func(*stubDNS)) func(*stubDNS) {
	return func(s *stubDNS) {
		for _, f := range setups {
			f(s)
		}
	}
}

// dmarcAt publishes a DMARC record at _dmarc.<domain>.
func dmarcAt(domain, record string) func(*stubDNS) {
	return func(s *stubDNS) { s.set("_dmarc."+domain, record) }
}

// signedBy returns a message from from signed by domain with key.
func signedBy(from, domain string, key func() testKey) func(testing.TB) []byte {
	return func(tb testing.TB) []byte {
		return sign(tb, message(from, "Acme is discounting", "Acme offered 30% off to Globex.\n"), signOpts{domain: domain, key: key()})
	}
}

var timeoutErr = &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}

var dkimCases = []dkimCase{
	{
		name: "aligned RSA pass", origin: "RFC 6376 section 3.3.1 (rsa-sha256), RFC 7489 section 3.1.1",
		dns: with(publishAll("example.com"), dmarcAt("example.com", "v=DMARC1; p=reject")),
		msg: signedBy("Rep <rep@example.com>", "example.com", rsaKey), verified: true,
		reason: "dkim=pass (example.com, aligned)",
	},
	{
		name: "aligned Ed25519 pass", origin: "RFC 8463 (ed25519-sha256)",
		dns: with(publishAll("example.com"), dmarcAt("example.com", "v=DMARC1; p=quarantine")),
		msg: signedBy("rep@example.com", "example.com", ed25519Key), verified: true,
		reason: "dkim=pass (example.com, aligned)",
	},
	{
		name: "relaxed alignment: signed by a subdomain", origin: "RFC 7489 section 3.1.1, relaxed mode (the default)",
		dns: with(publishAll("mail.example.com"), dmarcAt("example.com", "v=DMARC1; p=none")),
		msg: signedBy("rep@example.com", "mail.example.com", rsaKey), verified: true,
		reason: "dkim=pass (mail.example.com, aligned)", policy: "none",
	},
	{
		name: "strict alignment: signed by a subdomain", origin: "RFC 7489 section 3.1.1, adkim=s",
		dns:    with(publishAll("mail.example.com"), dmarcAt("example.com", "v=DMARC1; p=reject; adkim=s")),
		msg:    signedBy("rep@example.com", "mail.example.com", rsaKey),
		reason: "signed by mail.example.com, not aligned with example.com (DMARC asks for strict alignment)", policy: "reject",
	},
	{
		name: "strict alignment: signed by the From domain", origin: "RFC 7489 section 3.1.1, adkim=s",
		dns: with(publishAll("example.com"), dmarcAt("example.com", "v=DMARC1; p=reject; adkim=s")),
		msg: signedBy("rep@example.com", "example.com", rsaKey), verified: true,
		reason: "dkim=pass (example.com, aligned)",
	},
	{
		name: "From a subdomain, signed by the organizational domain, its record's sp applies", origin: "RFC 7489 section 6.6.3 (policy discovery falls back to the organizational domain)",
		dns: with(publishAll("example.com"), dmarcAt("example.com", "v=DMARC1; p=reject; sp=quarantine")),
		msg: signedBy("rep@sales.example.com", "example.com", rsaKey), verified: true,
		reason: "dkim=pass (example.com, aligned)", policy: "quarantine",
	},
	{
		name: "From a subdomain, signed by the organizational domain, strict", origin: "RFC 7489 section 3.1.1, adkim=s at the organizational domain",
		dns:    with(publishAll("example.com"), dmarcAt("example.com", "v=DMARC1; p=reject; adkim=s")),
		msg:    signedBy("rep@sales.example.com", "example.com", rsaKey),
		reason: "signed by example.com, not aligned with sales.example.com (DMARC asks for strict alignment)", policy: "reject",
	},
	{
		name: "organizational domain under a two-label public suffix", origin: "Public Suffix List: co.uk",
		dns: with(publishAll("mail.example.co.uk"), dmarcAt("example.co.uk", "v=DMARC1; p=none")),
		msg: signedBy("rep@example.co.uk", "mail.example.co.uk", rsaKey), verified: true,
		reason: "dkim=pass (mail.example.co.uk, aligned)", policy: "none",
	},
	{
		name: "sibling under a private public suffix is not aligned", origin: "Public Suffix List private section: github.io",
		dns:    publishAll("mallory.github.io"),
		msg:    signedBy("rep@alice.github.io", "mallory.github.io", rsaKey),
		reason: "signed by mallory.github.io, not aligned with alice.github.io",
	},
	{
		name: "third-party signature is not aligned", origin: "RFC 7489 section 3.1.1 (an ESP signing with its own domain)",
		dns:    with(publishAll("mailer.example.net"), dmarcAt("example.com", "v=DMARC1; p=reject")),
		msg:    signedBy("rep@example.com", "mailer.example.net", rsaKey),
		reason: "signed by mailer.example.net, not aligned with example.com",
	},
	{
		name: "a third-party and an aligned signature", origin: "RFC 6376 section 4 (several signatures; one pass suffices)",
		dns: with(publishAll("mailer.example.net"), publishAll("example.com")),
		msg: func(tb testing.TB) []byte {
			m := signedBy("rep@example.com", "mailer.example.net", rsaKey)(tb)
			return sign(tb, m, signOpts{domain: "example.com", key: ed25519Key()})
		},
		verified: true, reason: "dkim=pass (example.com, aligned)",
	},
	{
		name: "tampered body", origin: "RFC 6376 section 6.1.3 (body hash)",
		dns: publishAll("example.com"),
		msg: func(tb testing.TB) []byte {
			m := signedBy("rep@example.com", "example.com", rsaKey)(tb)
			return bytes.Replace(m, []byte("30%"), []byte("90%"), 1)
		},
		reason: "dkim=fail: body hash did not verify",
	},
	{
		name: "tampered signed header", origin: "RFC 6376 section 6.1.3 (header hash)",
		dns: publishAll("example.com"),
		msg: func(tb testing.TB) []byte {
			m := signedBy("rep@example.com", "example.com", rsaKey)(tb)
			return bytes.Replace(m, []byte("Subject: Acme is discounting"), []byte("Subject: Acme is bankrupt"), 1)
		},
		reason: "dkim=fail: signature did not verify…",
	},
	{
		name: "From rewritten to a rep of the signing domain", origin: "the forged-rep attack: a valid mail whose From is changed",
		dns: publishAll("example.com"),
		msg: func(tb testing.TB) []byte {
			m := signedBy("someone@example.com", "example.com", rsaKey)(tb)
			return bytes.Replace(m, []byte("From: someone@"), []byte("From: rep@"), 1)
		},
		reason: "dkim=fail: signature did not verify…",
	},
	{
		name: "unsigned header field added after signing", origin: "RFC 6376 section 5.4 (fields outside h= may change)",
		dns: publishAll("example.com"),
		msg: func(tb testing.TB) []byte {
			return prepend("Received: from relay.example.org by mx.earshot.test\n", signedBy("rep@example.com", "example.com", rsaKey)(tb))
		},
		verified: true, reason: "dkim=pass (example.com, aligned)",
	},
	{
		name: "missing signature", origin: "the forged-rep attack: From a rep, nothing signed",
		dns:    dmarcAt("example.com", "v=DMARC1; p=reject"),
		msg:    func(testing.TB) []byte { return message("rep@example.com", "hi", "hello\n") },
		reason: "no DKIM signature",
	},
	{
		name: "expired signature", origin: "RFC 6376 section 3.5 (x= tag)",
		dns: publishAll("example.com"),
		msg: func(tb testing.TB) []byte {
			return sign(tb, message("rep@example.com", "hi", "hello\n"), signOpts{domain: "example.com", key: rsaKey(), expires: time.Now().Add(-time.Hour)})
		},
		reason: "dkim=permerror: signature has expired",
	},
	{
		name: "no key published", origin: "RFC 6376 section 6.1.2 (key query fails: PERMFAIL)",
		dns:    func(*stubDNS) {},
		msg:    signedBy("rep@example.com", "example.com", rsaKey),
		reason: "dkim=permerror: no key for signature…",
	},
	{
		name: "revoked key", origin: "RFC 6376 section 3.6.1 (empty p= means revoked)",
		dns:    func(s *stubDNS) { s.set("rsa2048._domainkey.example.com", "v=DKIM1; k=rsa; p=") },
		msg:    signedBy("rep@example.com", "example.com", rsaKey),
		reason: "dkim=permerror: key revoked",
	},
	{
		name: "no DMARC record: aligned pass verifies", origin: "RFC 7489 section 6.6.3 (no policy), relaxed alignment by default",
		dns: publishAll("example.com"),
		msg: signedBy("rep@example.com", "example.com", rsaKey), verified: true,
		reason: "dkim=pass (example.com, aligned)",
	},
	{
		name: "two DMARC records count as none", origin: "RFC 7489 section 6.6.3 step 5",
		dns: with(publishAll("mail.example.com"), func(s *stubDNS) {
			s.set("_dmarc.example.com", "v=DMARC1; p=reject; adkim=s", "v=DMARC1; p=none")
		}),
		msg: signedBy("rep@example.com", "mail.example.com", rsaKey), verified: true,
		reason: "dkim=pass (mail.example.com, aligned)",
	},
	{
		name: "require dkim ignores adkim=s", origin: "require: dkim (any signature by the organizational domain)",
		require: RequireDKIM,
		dns:     with(publishAll("mail.example.com"), dmarcAt("example.com", "v=DMARC1; p=reject; adkim=s")),
		msg:     signedBy("rep@example.com", "mail.example.com", rsaKey), verified: true,
		reason: "dkim=pass (mail.example.com, aligned)",
	},
	{
		name: "require dkim: third party still refused", origin: "require: dkim",
		require: RequireDKIM,
		dns:     publishAll("mailer.example.net"),
		msg:     signedBy("rep@example.com", "mailer.example.net", rsaKey),
		reason:  "signed by mailer.example.net, not aligned with example.com",
	},
	{
		name: "require none", origin: "require: none (the roster alone decides)",
		require:  RequireNone,
		dns:      func(*stubDNS) {},
		msg:      func(testing.TB) []byte { return message("rep@example.com", "hi", "hello\n") },
		verified: true, reason: "sender verification not required",
	},
	{
		name: "two From fields", origin: "RFC 5322 section 3.6 (From occurs once); the signed-From-plus-added-From attack",
		require: RequireNone,
		dns:     publishAll("example.com"),
		msg: func(tb testing.TB) []byte {
			return prepend("From: rep@company.test\n", signedBy("someone@example.com", "example.com", rsaKey)(tb))
		},
		reason: "2 From fields",
	},
	{
		name: "two From addresses", origin: "RFC 5322 section 3.6.2 (a mailbox-list From)",
		require: RequireNone,
		dns:     func(*stubDNS) {},
		msg:     func(testing.TB) []byte { return message("rep@example.com, boss@example.com", "hi", "hello\n") },
		reason:  "2 From addresses",
	},
	{
		name: "no From field", origin: "RFC 5322 section 3.6",
		require: RequireNone,
		dns:     func(*stubDNS) {},
		msg:     func(testing.TB) []byte { return crlf("To: feedback@earshot.test\nSubject: hi\n\nhello\n") },
		reason:  "no From field",
	},
	{
		name: "From a domain literal", origin: "RFC 5322 section 3.4.1 (domain-literal)",
		dns:    func(*stubDNS) {},
		msg:    func(testing.TB) []byte { return message("rep@[192.0.2.1]", "hi", "hello\n") },
		reason: "From domain is not a domain name",
	},
	{
		name: "header only, no body", origin: "RFC 5322 section 3.5 (the body is optional); RFC 6376 section 3.4.3",
		dns: publishAll("example.com"),
		msg: func(tb testing.TB) []byte {
			m := sign(tb, crlf("From: rep@example.com\nSubject: note\n\n"), signOpts{domain: "example.com", key: rsaKey()})
			return bytes.TrimSuffix(m, []byte("\r\n"))
		},
		verified: true, reason: "dkim=pass (example.com, aligned)",
	},
	{
		name: "key lookup times out", origin: "a DNS timeout is a temperror (RFC 6376 section 6.1.2), retried later",
		dns:    func(s *stubDNS) { s.failWith("rsa2048._domainkey.example.com", timeoutErr) },
		msg:    signedBy("rep@example.com", "example.com", rsaKey),
		reason: "dns error: lookup x: i/o timeout", temporary: true,
	},
	{
		name: "key lookup SERVFAIL", origin: "SERVFAIL (RFC 1035 RCODE 2), as net.Resolver reports it",
		dns: func(s *stubDNS) {
			s.failWith("rsa2048._domainkey.example.com", &net.DNSError{Err: "server misbehaving", Name: "rsa2048._domainkey.example.com", IsTemporary: true})
		},
		msg:    signedBy("rep@example.com", "example.com", rsaKey),
		reason: "dns error: lookup rsa2048._domainkey.example.com: server misbehaving", temporary: true,
	},
	{
		name: "any other resolver error is temporary", origin: "Resolver contract: only not-found is an answer",
		dns:    func(s *stubDNS) { s.failWith("rsa2048._domainkey.example.com", errors.New("connection refused")) },
		msg:    signedBy("rep@example.com", "example.com", rsaKey),
		reason: "dns error: lookup rsa2048._domainkey.example.com: connection refused", temporary: true,
	},
	{
		name: "unaligned key lookup fails: not temporary", origin: "a retry could not make a third-party signature aligned",
		dns:    func(s *stubDNS) { s.failWith("rsa2048._domainkey.mailer.example.net", timeoutErr) },
		msg:    signedBy("rep@example.com", "mailer.example.net", rsaKey),
		reason: "dkim=temperror (mailer.example.net, not aligned with example.com): key unavailable: lookup rsa2048._domainkey.mailer.example.net: i/o timeout",
	},
	{
		name: "DMARC lookup fails, relaxed-only pass: temporary", origin: "RFC 7489 section 6.6.3 (a transient error is not the absence of a record)",
		dns:    with(publishAll("mail.example.com"), func(s *stubDNS) { s.failWith("_dmarc.example.com", timeoutErr) }),
		msg:    signedBy("rep@example.com", "mail.example.com", rsaKey),
		reason: "dns error: lookup x: i/o timeout", temporary: true,
	},
	{
		name: "DMARC lookup fails, strictly aligned pass: verified", origin: "RFC 7489 section 3.1.1 (identical domains align in either mode)",
		dns: with(publishAll("example.com"), func(s *stubDNS) { s.failWith("_dmarc.example.com", timeoutErr) }),
		msg: signedBy("rep@example.com", "example.com", rsaKey), verified: true,
		reason: "dkim=pass (example.com, aligned)",
	},
	{
		name: "DMARC lookup fails, no signature: refused", origin: "the verdict does not depend on the record",
		dns:    func(s *stubDNS) { s.failWith("_dmarc.example.com", timeoutErr) },
		msg:    func(testing.TB) []byte { return message("rep@example.com", "hi", "hello\n") },
		reason: "no DKIM signature",
	},
}

func TestVerifyDKIM(t *testing.T) {
	for _, tc := range dkimCases {
		t.Run(tc.name, func(t *testing.T) {
			dns := newStubDNS()
			tc.dns(dns)
			v := newVerifier(t, Options{Require: tc.require, Resolver: dns})
			res, err := v.Verify(context.Background(), tc.msg(t))
			checkResult(t, tc.origin, res, err, tc.verified, tc.reason, tc.temporary)
			if res.Policy != tc.policy {
				t.Errorf("%s: policy %q, want %q", tc.origin, res.Policy, tc.policy)
			}
		})
	}
}

// checkResult compares a verdict with the expected one; a reason ending in
// "…" is a prefix.
func checkResult(t *testing.T, origin string, res *Result, err error, verified bool, reason string, temporary bool) {
	t.Helper()
	if res == nil {
		t.Fatalf("%s: nil result (err %v)", origin, err)
	}
	if temporary {
		if !errors.Is(err, ErrTemporary) || !res.Temporary {
			t.Errorf("%s: err %v, Temporary %v; want a temporary verdict", origin, err, res.Temporary)
		}
	} else if err != nil || res.Temporary {
		t.Errorf("%s: err %v, Temporary %v; want a final verdict", origin, err, res.Temporary)
	}
	if res.Verified != verified {
		t.Errorf("%s: Verified %v, want %v (reason %q)", origin, res.Verified, verified, res.Reason)
	}
	if prefix, ok := strings.CutSuffix(reason, "…"); ok {
		if !strings.HasPrefix(res.Reason, prefix) {
			t.Errorf("%s: reason %q, want it to start with %q", origin, res.Reason, prefix)
		}
	} else if res.Reason != reason {
		t.Errorf("%s: reason %q, want %q", origin, res.Reason, reason)
	}
}

func TestVerifyReportsSignatures(t *testing.T) {
	dns := with(publishAll("mailer.example.net"), publishAll("example.com"), dmarcAt("example.com", "v=DMARC1; p=reject"))
	stub := newStubDNS()
	dns(stub)
	m := signedBy("Rep <Rep@Example.COM>", "mailer.example.net", rsaKey)(t)
	m = sign(t, m, signOpts{domain: "example.com", key: ed25519Key()})
	m = bytes.Replace(m, []byte("30%"), []byte("90%"), 1)
	res, err := newVerifier(t, Options{Resolver: stub}).Verify(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	want := []Signature{
		{Domain: "example.com", Result: "fail", Reason: "body hash did not verify", Aligned: true},
		{Domain: "mailer.example.net", Result: "fail", Reason: "body hash did not verify"},
	}
	if len(res.Signatures) != len(want) {
		t.Fatalf("signatures %+v, want %+v", res.Signatures, want)
	}
	for i := range want {
		if res.Signatures[i] != want[i] {
			t.Errorf("signature %d: %+v, want %+v", i, res.Signatures[i], want[i])
		}
	}
	if res.From != "Rep@Example.COM" || res.FromDomain != "example.com" || res.Source != SourceDKIM || res.AlignedPass {
		t.Errorf("From %q, FromDomain %q, Source %q, AlignedPass %v", res.From, res.FromDomain, res.Source, res.AlignedPass)
	}
}

func TestVerifyContextCanceled(t *testing.T) {
	dns := newStubDNS()
	publishAll("example.com")(dns)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := newVerifier(t, Options{Resolver: dns}).Verify(ctx, signedBy("rep@example.com", "example.com", rsaKey)(t))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTemporary) {
		t.Fatalf("err %v, want context.Canceled and not ErrTemporary", err)
	}
	if res.Verified {
		t.Error("verified on a canceled context")
	}
}

func TestRequireNoneMakesNoLookup(t *testing.T) {
	dns := newStubDNS()
	res, err := newVerifier(t, Options{Require: RequireNone, Resolver: dns}).Verify(context.Background(), signedBy("rep@example.com", "example.com", rsaKey)(t))
	if err != nil || !res.Verified {
		t.Fatalf("Verify: %+v, %v", res, err)
	}
	if n := dns.total(); n != 0 {
		t.Errorf("%d lookups, want none", n)
	}
}

func TestParseRequirement(t *testing.T) {
	for in, want := range map[string]Requirement{"": RequireDMARC, "DMARC": RequireDMARC, " dkim ": RequireDKIM, "none": RequireNone} {
		if got, err := ParseRequirement(in); err != nil || got != want {
			t.Errorf("ParseRequirement(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseRequirement("spf"); err == nil {
		t.Error(`ParseRequirement("spf") succeeded`)
	}
	if _, err := New(Options{Require: "spf"}); err == nil {
		t.Error(`New with require "spf" succeeded`)
	}
}
