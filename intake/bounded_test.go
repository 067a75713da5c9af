package intake

import (
	"strings"
	"testing"
	"time"
)

// TestNormalizeBoundedTime feeds 1 MiB inputs shaped to trigger super-linear
// behaviour in each stage. Linear code handles each in well under a second
// on this machine; a quadratic path would take minutes.
func TestNormalizeBoundedTime(t *testing.T) {
	if testing.Short() {
		t.Skip("slow inputs skipped in -short mode")
	}
	const n = 1 << 20
	const limit = 10 * time.Second
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
	for _, tt := range tests {
		start := time.Now()
		if _, err := Normalize(strings.NewReader(tt.raw), nil); err != nil {
			t.Fatal(err)
		}
		Fingerprint([]byte(tt.raw))
		if d := time.Since(start); d > limit {
			t.Errorf("%s: %d bytes took %v, over %v", tt.why, len(tt.raw), d, limit)
		}
	}
}
