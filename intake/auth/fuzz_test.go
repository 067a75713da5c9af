package auth

import (
	"context"
	"testing"
)

// FuzzVerify checks that no input makes Verify panic or fail with an error
// other than a temporary verdict, on Earshot's own checks and on a trusted
// server's fields.
func FuzzVerify(f *testing.F) {
	f.Add(message("rep@example.com", "hi", "hello\n"))
	f.Add(prepend("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=; b=\n", message("rep@example.com", "hi", "hello\n")))
	f.Add(prepend("Authentication-Results: mx.earshot.test; dmarc=pass (a; \"b\") header.from=\"example.com\"\n", message("rep@example.com", "hi", "")))
	f.Add([]byte("From: a@b\n\n"))
	f.Add([]byte("From: (\"\\"))
	dns := newStubDNS().set("_dmarc.example.com", "v=DMARC1; p=reject").set("s._domainkey.example.com", "v=DKIM1; p=")
	own := newVerifier(f, Options{Resolver: dns})
	server := newVerifier(f, Options{Require: RequireDKIM, TrustedAuthServIDs: []string{"mx.earshot.test"}, Resolver: dns})
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, v := range []*Verifier{own, server} {
			res, err := v.Verify(context.Background(), raw)
			if err != nil || res == nil {
				t.Fatalf("Verify: %v, %v", res, err)
			}
			if res.Verified && v == own {
				t.Fatalf("verified without a key: %+v", res)
			}
		}
	})
}
