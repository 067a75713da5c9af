package templates

import (
	"bytes"
	"testing"
)

// BenchmarkSplice splices a 48 KB original into an owner notice, as the
// outbox does at each delivery: kept as it is (8bit) and in base64.
func BenchmarkSplice(b *testing.B) {
	line := []byte("Acme offered a 30 % discount on the dashboard; the customer wants exports.\r\n")
	orig := append([]byte("Subject: Acme\r\n\r\n"), bytes.Repeat(line, 48<<10/len(line))...)
	env, r := noticeEnvelope()
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"8bit", orig},
		{"base64", append(append([]byte{}, orig...), bytes.Repeat([]byte("x"), 1200)...)},
	} {
		kept, _, gap, err := BuildEmailDeferred(env, r, Attachment{ContentType: "message/rfc822", Filename: "f", Data: c.data, Deferred: true})
		if err != nil {
			b.Fatal(err)
		}
		if gap.Encoding != c.name {
			b.Fatalf("gap %+v, want %s", gap, c.name)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if _, err := Splice(kept, gap, c.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
