package intake

import (
	"bytes"
	"testing"
)

func TestFingerprint(t *testing.T) {
	feedback := readTestdata(t, "fingerprint-feedback.eml")
	intel := readTestdata(t, "fingerprint-intel.eml")
	other := readTestdata(t, "fingerprint-other-body.eml")
	if !bytes.Contains(feedback, []byte("\r\n")) || bytes.Contains(intel, []byte("\r\n")) {
		t.Fatal("testdata: fingerprint-feedback.eml must be CRLF and fingerprint-intel.eml LF")
	}
	id, base := Fingerprint(feedback)
	if id != "fp-1@sales.example.com" {
		t.Errorf("message id = %q", id)
	}
	tests := []struct {
		why  string
		raw  []byte
		same bool
	}{
		{"same message in another mailbox: other Received, Delivered-To, X-Original-To, LF line endings", intel, true},
		{"same message with a trailing blank line added by a store", append(append([]byte{}, feedback...), "\r\n\r\n"...), true},
		{"same header, different body", other, false},
		{"different subject", bytes.Replace(feedback, []byte("Subject: Acme"), []byte("Subject: Acne"), 1), false},
		{"different message id", bytes.Replace(feedback, []byte("<fp-1@"), []byte("<fp-2@"), 1), false},
		{"same everything but one header of its own (To)", bytes.Replace(feedback, []byte("\r\nTo: "), []byte("\r\nTo: someone-else@example.com, "), 1), false},
		{"spam filter headers added by the receiving side", append([]byte("X-Spam-Status: No, score=-1.0\r\nAuthentication-Results: mx.example.com; spf=pass\r\nARC-Seal: i=1; a=rsa-sha256\r\n"), feedback...), true},
	}
	for _, tt := range tests {
		_, h := Fingerprint(tt.raw)
		if (h == base) != tt.same {
			t.Errorf("%s: hash equal = %v, want %v", tt.why, h == base, tt.same)
		}
	}
}

func TestFingerprintNoHeader(t *testing.T) {
	hash := func(s string) string { _, h := Fingerprint([]byte(s)); return h }
	tests := []struct{ why, a, b string }{
		{"headerless texts are told apart by their body", "first note\n", "second note\n"},
		{"empty input and a header-only message differ", "", "Subject: x\n\n"},
		{"a body that follows the header with no blank line is hashed", "Subject: a\nbody one", "Subject: a\nbody two"},
	}
	for _, tt := range tests {
		if hash(tt.a) == hash(tt.b) {
			t.Errorf("%s: Fingerprint(%q) == Fingerprint(%q)", tt.why, tt.a, tt.b)
		}
	}
}

func TestFoldAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Bob.Rep+Feedback@Example.COM", "bob.rep@example.com"},
		{"  <bob@example.com> ", "bob@example.com"},
		{"bob+a+b@example.com", "bob@example.com"},
		{"+tag@example.com", "+tag@example.com"}, // nothing left but the tag: unchanged
		{"bob@example.com", "bob@example.com"},
		{"Bob+x", "bob"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := FoldAddress(tt.in); got != tt.want {
			t.Errorf("FoldAddress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
