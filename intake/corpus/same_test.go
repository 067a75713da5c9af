package corpus

import "testing"

func TestSameMessage(t *testing.T) {
	const base = "From: a@example.test\r\nSubject: Acme\r\n\r\nBody one.\r\n"
	tests := []struct {
		why, a, b string
		same      bool
	}{
		{"identical bytes", base, base, true},
		{"LF copy of a CRLF message (mikel-mail attachment_pdf_lf.eml)", base, "From: a@example.test\nSubject: Acme\n\nBody one.\n", true},
		{"a Received field added on the way (RFC 2822 appendix A.4)", base, "Received: from x by y; 1 Jan 2026 00:00:00 +0000\r\n" + base, true},
		{"a line break more at the end", base, base + "\r\n", true},
		{"another subject", base, "From: a@example.test\r\nSubject: Acne\r\n\r\nBody one.\r\n", false},
		{"another body", base, "From: a@example.test\r\nSubject: Acme\r\n\r\nBody two.\r\n", false},
		{"a field of its own added", base, "X-Mailer: x\r\n" + base, false},
	}
	for _, tt := range tests {
		why, same := SameMessage([]byte(tt.a), []byte(tt.b))
		if same != tt.same {
			t.Errorf("%s: same = %v (%s), want %v", tt.why, same, why, tt.same)
		}
	}
}
