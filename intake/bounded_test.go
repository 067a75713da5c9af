package intake

import (
	"fmt"
	"strings"
	"testing"
)

// adversarial returns inputs of about n bytes shaped to trigger
// super-linear behaviour in each stage of normalization.
func adversarial(n int) []struct{ why, raw string } {
	hdr := "From: a@b.example\nSubject: x\nDate: Tue, 06 Jan 2026 09:15:00 -0800\n"
	tests := []struct{ why, raw string }{
		{"every line could open an attribution", hdr + "\n" + strings.Repeat("on x:\n", n/6)},
		{"every line could open an outlook block", hdr + "\n" + strings.Repeat("From: x\nSent: y\n", n/16)},
		{"every line opens an inline forward", hdr + "\n" + strings.Repeat("Begin forwarded message:\nFrom: a@b\n", n/35)},
		{"html entities everywhere", hdr + "Content-Type: text/html\n\n" + strings.Repeat("&", n)},
		{"deeply nested html", hdr + "Content-Type: text/html\n\n" + strings.Repeat("<blockquote><div>", n/17)},
		{"deeply nested multiparts", hdr + strings.Repeat("Content-Type: multipart/mixed; boundary=b\n\n--b\n", n/46)},
		{"deeply nested message/rfc822", hdr + strings.Repeat("Content-Type: message/rfc822\n\n", n/30) + "body"},
		{"thousands of parts in an unknown charset", hdr + "Content-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\nContent-Type: text/plain; charset=x-bad\n\nx\n", n/45)},
		{"huge address list", "To: " + strings.Repeat("a@b, ", n/6) + "\n" + hdr + "\nbody"},
		{"huge broken address list", "To: " + strings.Repeat("<<a@b,, (", n/9) + "\n" + hdr + "\nbody"},
		{"unterminated comment in message-id", "Message-ID: " + strings.Repeat("(", n) + "\n" + hdr + "\nbody"},
		{"digits everywhere in a voicemail", hdr + "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n" + strings.Repeat("Caller: 1 2 3 4 5 6\n", n/20) + "--b\nContent-Type: audio/wav\n\nRIFF\n--b--\n"},
		{"flowed text with quotes", hdr + "Content-Type: text/plain; format=flowed\n\n" + strings.Repeat("> a \n", n/5)},
	}
	return tests
}

// Adversarial 256 KiB inputs go through without an error or a panic. How
// long they take is measured by BenchmarkNormalizeAdversarial: linear code
// handles each in well under a second (with a quadratic path, the 256 KiB
// and 1 MiB figures would differ sixteen-fold instead of four-fold).
func TestNormalizeAdversarial(t *testing.T) {
	for _, tt := range adversarial(1 << 18) {
		msg, err := Normalize(strings.NewReader(tt.raw), nil)
		if err != nil || msg == nil {
			t.Fatalf("%s: %v", tt.why, err)
		}
		if _, h := Fingerprint([]byte(tt.raw)); h == "" {
			t.Fatalf("%s: no fingerprint", tt.why)
		}
	}
}

// BenchmarkNormalizeAdversarial times each adversarial input at 256 KiB
// and 1 MiB, to compare how time grows with size.
func BenchmarkNormalizeAdversarial(b *testing.B) {
	for _, n := range []int{1 << 18, 1 << 20} {
		for _, tt := range adversarial(n) {
			b.Run(fmt.Sprintf("%s/%dKiB", strings.ReplaceAll(tt.why, " ", "_"), n>>10), func(b *testing.B) {
				b.SetBytes(int64(len(tt.raw)))
				for b.Loop() {
					Normalize(strings.NewReader(tt.raw), nil)
				}
			})
		}
	}
}
