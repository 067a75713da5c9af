package intake

import (
	"strings"
	"testing"
)

// A huge text mail is read up to MaxTextBytes in all: its text parts, and
// a body without a parseable header. The rest stays in the raw message,
// with a warning saying so.
func TestTextCap(t *testing.T) {
	line := strings.Repeat("Customers ask about Acme. ", 3) + "\r\n"
	big := strings.Repeat(line, 4000) // about 310 KB
	for _, c := range []struct{ name, raw string }{
		{"one text part", "From: a@b.example\r\nSubject: long\r\n\r\n" + big},
		{"two parts share the budget", "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" +
			"Content-Type: text/plain\r\n\r\n" + big + "\r\n--x\r\nContent-Type: text/plain\r\n\r\n" + big + "\r\n--x--\r\n"},
		{"no header", "\x00\x01 not a header\r\n" + big},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := NormalizeBytes([]byte(c.raw), &Options{MaxTextBytes: 100 << 10})
			if n := len(m.FullText); n > 100<<10 || n < 90<<10 {
				t.Errorf("full text of %d bytes, want about the 100 KiB cap", n)
			}
			if !strings.Contains(strings.Join(m.Warnings, "\n"), "kept in the raw message only") {
				t.Errorf("no warning about the cut text: %q", m.Warnings)
			}
		})
	}
	if m := NormalizeBytes([]byte("From: a@b.example\r\n\r\nshort\r\n"), nil); m.Text != "short" ||
		strings.Contains(strings.Join(m.Warnings, "\n"), "raw message only") {
		t.Errorf("a short mail: %q %q", m.Text, m.Warnings)
	}
}
