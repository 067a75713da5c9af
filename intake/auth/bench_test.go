package auth

import (
	"context"
	"strings"
	"testing"
)

// typicalMessage returns a signed message of about 5 KB: a rep's report
// with a quoted thread, the header fields of a real client.
func typicalMessage(tb testing.TB, key testKey) []byte {
	tb.Helper()
	var body strings.Builder
	body.WriteString("Hi team,\n\nAcme's rep told Globex they will match any quote by 30% until June.\nGlobex asked us for a call this week.\n\n")
	for body.Len() < 4300 {
		body.WriteString("> On Mon, Mar 3, 2025 at 9:12 AM Globex Buyer <buyer@globex.example> wrote:\n> We are comparing Acme and your platform for the renewal, please send pricing.\n")
	}
	m := message("Rep Name <rep@example.com>", "Acme discounting at Globex", body.String())
	m = prepend("Received: from mail.example.com (mail.example.com [192.0.2.10])\n\tby mx.earshot.test with ESMTPS id 4Xyz; Mon, 3 Mar 2025 10:00:01 +0000\n", m)
	return sign(tb, m, signOpts{domain: "example.com", key: key})
}

func BenchmarkVerify(b *testing.B) {
	for _, kc := range []struct {
		name string
		key  func() testKey
	}{{"rsa2048", rsaKey}, {"ed25519", ed25519Key}} {
		b.Run(kc.name, func(b *testing.B) {
			dns := newStubDNS()
			with(publishAll("example.com"), dmarcAt("example.com", "v=DMARC1; p=reject"))(dns)
			v := newVerifier(b, Options{Resolver: NewCache(dns, CacheOptions{})})
			m := typicalMessage(b, kc.key())
			b.SetBytes(int64(len(m)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := v.Verify(context.Background(), m)
				if err != nil || !res.Verified {
					b.Fatalf("Verify: %+v, %v", res, err)
				}
			}
		})
	}
}
