package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
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
	classicMac := bytes.ReplaceAll(feedback, []byte("\r\n"), []byte("\r"))
	tests := []struct {
		why  string
		raw  []byte
		same bool
	}{
		{"same message in another mailbox: other Received, Delivered-To, X-Original-To, LF line endings", intel, true},
		{"same message with a trailing blank line added by a store", append(append([]byte{}, feedback...), "\r\n\r\n"...), true},
		{"same message with classic Mac CR line endings (a store that kept them)", classicMac, true},
		{"same message, the last line break dropped (Dovecot drops a final lone CR)", bytes.TrimSuffix(feedback, []byte("\r\n")), true},
		{"spam filter headers added by the receiving side", append([]byte("X-Spam-Status: No, score=-1.0\r\nAuthentication-Results: mx.example.com; spf=pass\r\nARC-Seal: i=1; a=rsa-sha256\r\n"), feedback...), true},
		{"same header, different body", other, false},
		{"different subject", bytes.Replace(feedback, []byte("Subject: Acme"), []byte("Subject: Acne"), 1), false},
		{"different message id", bytes.Replace(feedback, []byte("<fp-1@"), []byte("<fp-2@"), 1), false},
		{"no message id", bytes.Replace(feedback, []byte("Message-ID:"), []byte("X-Message-ID:"), 1), false},
		{"same everything but one header of its own (To)", bytes.Replace(feedback, []byte("\r\nTo: "), []byte("\r\nTo: someone-else@example.com, "), 1), false},
		{"white space inside a header of its own (bytes differ)", bytes.Replace(feedback, []byte("Subject: Acme"), []byte("Subject:  Acme"), 1), false},
		{"a header refolded (bytes differ)", bytes.Replace(feedback, []byte("Subject: Acme\r\n pricing"), []byte("Subject: Acme pricing"), 1), false},
		{"a blank line inside the body", bytes.Replace(feedback, []byte("\r\n\r\nAcme"), []byte("\r\n\r\n\r\nAcme"), 1), false},
		{"a blank line before the header", append([]byte("\r\n"), feedback...), false},
	}
	for _, tt := range tests {
		_, h := Fingerprint(tt.raw)
		if (h == base) != tt.same {
			t.Errorf("%s: hash equal = %v, want %v", tt.why, h == base, tt.same)
		}
	}
}

// Classic Mac OS mail ends lines with a lone CR. Read as one long line, a
// bounce of that shape began with a trace field and hashed like an empty
// message, and distinct bounces shared one item (sisimai's set-of-emails
// "mac" folder has dozens of them). The fixtures are two such bounces and a
// note from a person.
func TestFingerprintClassicMac(t *testing.T) {
	one := readTestdata(t, "wild/cr-only-bounce-1.eml")
	two := readTestdata(t, "wild/cr-only-bounce-2.eml")
	note := readTestdata(t, "wild/cr-only-note.eml")
	for name, raw := range map[string][]byte{"wild/cr-only-bounce-1.eml": one, "wild/cr-only-bounce-2.eml": two, "wild/cr-only-note.eml": note} {
		if bytes.ContainsRune(raw, '\n') || !bytes.ContainsRune(raw, '\r') {
			t.Fatalf("testdata: %s must have lone CR line endings", name)
		}
	}
	id, h1 := Fingerprint(one)
	if id != "202601061800.KAA01@mx.example.net" {
		t.Errorf("message id of a CR-only bounce = %q", id)
	}
	_, h2 := Fingerprint(two)
	_, hn := Fingerprint(note)
	_, empty := Fingerprint(nil)
	_, twoBytes := Fingerprint([]byte("\r\n"))
	if h1 == h2 || h1 == hn || h2 == hn {
		t.Error("distinct CR-only messages share a fingerprint")
	}
	for _, h := range []string{h1, h2, hn} {
		if h == empty || h == twoBytes {
			t.Error("a CR-only message fingerprints like an empty message")
		}
	}
	crlf := bytes.ReplaceAll(note, []byte("\r"), []byte("\r\n"))
	if _, h := Fingerprint(crlf); h != hn {
		t.Error("a CR-only message and its CRLF copy differ")
	}
	// The trace field is found: the note without its Received line is the
	// same message.
	i := bytes.IndexByte(note, '\r')
	if _, h := Fingerprint(note[i+1:]); h != hn {
		t.Error("the Received field of a CR-only message is hashed")
	}
}

// The Message-ID is stored as text: raw 8-bit bytes and NUL in it (seen in
// spam and broken mailers) never reach the database as such.
func TestFingerprintMessageIDIsText(t *testing.T) {
	id, _ := Fingerprint([]byte("Message-ID: <caf\xe9\x00@example.test>\r\n\r\nbody\r\n"))
	if id != "caf\uFFFD@example.test" {
		t.Errorf("message id = %q, want it as valid UTF-8 without NUL", id)
	}
}

func TestFingerprintNoHeader(t *testing.T) {
	hash := func(s string) string { _, h := Fingerprint([]byte(s)); return h }
	tests := []struct{ why, a, b string }{
		{"headerless texts are told apart by their body", "first note\n", "second note\n"},
		{"empty input and a header-only message differ", "", "Subject: x\n\n"},
		{"a body that follows the header with no blank line is hashed", "Subject: a\nbody one", "Subject: a\nbody two"},
		{"a body that follows the header with no blank line differs from one after a blank line", "Subject: a\nbody", "Subject: a\n\nbody"},
		{"a message that is only trace fields differs from an empty one", "Received: from a\r\n\r\nbody\r\n", ""},
		{"the body of a message that is only trace fields counts", "Received: from a\r\n\r\none\r\n", "Received: from a\r\n\r\ntwo\r\n"},
		{"a trace field's continuation is dropped, not the field after it", "Received: a\n b\nSubject: one\n\nx", "Received: a\n b\nSubject: two\n\nx"},
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

// fingerprintByLine is Fingerprint hashing the body line by line, as
// lineHasher.line is defined: the stored fingerprints were made so.
func fingerprintByLine(raw []byte) string {
	h := sha256.New()
	lw := lineHasher{h: h}
	rest, id := hashHeader(raw, &lw)
	for len(rest) > 0 {
		var line []byte
		line, rest = nextLine(rest)
		lw.line(line)
	}
	messageID := ""
	if ids := msgIDs(id); len(ids) > 0 {
		messageID = ids[0]
	}
	h.Write([]byte("\x00message-id:"))
	h.Write([]byte(messageID))
	return hex.EncodeToString(h.Sum(nil))
}

// TestFingerprintMatchesByLine checks that Fingerprint hashes every
// message as line by line: on the corpora and on random mixes of line
// endings, blank lines and text, with and without a header.
func TestFingerprintMatchesByLine(t *testing.T) {
	var inputs [][]byte
	for _, c := range normalizeCorpus(t) {
		inputs = append(inputs, c.raw)
	}
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"\r\n", "\n", "\r", "\r\r\n", "\n\r", "text", " ", "\t", "Subject: x", "From: a@b.test", "=\r\n", "\x00", "é"}
	for i := range 3000 {
		var b bytes.Buffer
		if i%2 == 0 {
			b.WriteString("Message-ID: <m@x.test>\r\nSubject: s\r\n")
		}
		for range r.IntN(40) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		inputs = append(inputs, b.Bytes())
	}
	for i, raw := range inputs {
		_, got := Fingerprint(raw)
		if want := fingerprintByLine(raw); got != want {
			t.Fatalf("input %d (%q…): fingerprint %s, line by line %s", i, raw[:min(len(raw), 80)], got, want)
		}
	}
	t.Logf("%d messages", len(inputs))
}

// BenchmarkFingerprintAttachment hashes a 48 KB message with a base64
// attachment.
func BenchmarkFingerprintAttachment(b *testing.B) {
	var m bytes.Buffer
	m.WriteString("Message-ID: <m@x.test>\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nHello\r\n--b\r\n\r\n")
	for m.Len() < 48<<10 {
		m.WriteString(strings.Repeat("QUJD", 19) + "\r\n")
	}
	m.WriteString("--b--\r\n")
	b.SetBytes(int64(m.Len()))
	for b.Loop() {
		Fingerprint(m.Bytes())
	}
}
