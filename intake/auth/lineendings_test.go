package auth

import (
	"bytes"
	"context"
	"testing"
)

// TestLineEndings verifies messages signed in their CRLF wire form and
// stored with other line endings, as IMAP servers may hand them out.
func TestLineEndings(t *testing.T) {
	dns := newStubDNS()
	publishAll("example.com")(dns)
	v := newVerifier(t, Options{Resolver: dns})
	body := "Acme offered 30% off.  \n\nTwo spaces above, and a blank line.\n\n\n"
	signed := func(simple bool, key testKey) []byte {
		return sign(t, message("rep@example.com", "Acme", body), signOpts{domain: "example.com", key: key, simple: simple})
	}
	const pass, bodyFail = "dkim=pass (example.com, aligned)", "dkim=fail: body hash did not verify"
	cases := []struct {
		name, origin string
		msg          []byte
		verified     bool
		reason       string
	}{
		{"CRLF as signed, relaxed", "RFC 5322 section 2.1 (CRLF)", signed(false, rsaKey()), true, pass},
		{"CRLF as signed, simple", "RFC 6376 section 3.4.1 (simple)", signed(true, rsaKey()), true, pass},
		{"stored with LF, relaxed", "a Unix mailbox (maildir, mbox) keeps LF", lf(signed(false, rsaKey())), true, pass},
		{"stored with LF, simple", "simple canonicalization still sees CRLF", lf(signed(true, rsaKey())), true, pass},
		{"stored with LF, Ed25519", "RFC 8463", lf(signed(false, ed25519Key())), true, pass},
		{"signed from LF input, stored with LF", "a signer fed a Unix file", lf(sign(t, lf(message("rep@example.com", "Acme", body)), signOpts{domain: "example.com", key: rsaKey()})), true, pass},
		{"header LF, body CRLF", "a store that rewrote only the header", mixed(signed(false, rsaKey())), true, pass},
		{"CRLF doubled into CR CR LF", "LF-to-CRLF conversion run over CRLF text: not undone",
			bytes.ReplaceAll(signed(false, rsaKey()), []byte("\r\n"), []byte("\r\r\n")), false, "DKIM signatures could not be read: failed to read header…"},
		{"body CRLF doubled into CR CR LF", "the same over the body alone: not undone",
			doubledBody(signed(false, rsaKey())), false, bodyFail},
		{"trailing spaces stripped, simple", "RFC 6376 section 3.4.3: simple keeps whitespace",
			bytes.Replace(signed(true, rsaKey()), []byte("off.  \r\n"), []byte("off.\r\n"), 1), false, bodyFail},
		{"trailing spaces stripped, relaxed", "RFC 6376 section 3.4.4: relaxed ignores it",
			bytes.Replace(signed(false, rsaKey()), []byte("off.  \r\n"), []byte("off.\r\n"), 1), true, pass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := v.Verify(context.Background(), tc.msg)
			checkResult(t, tc.origin, res, err, tc.verified, tc.reason, false)
		})
	}
}

// mixed returns msg with LF line endings in its header and CRLF in its
// body.
func mixed(msg []byte) []byte {
	i := bytes.Index(msg, []byte("\r\n\r\n"))
	return append(lf(msg[:i+4]), msg[i+4:]...)
}

// doubledBody returns msg with the CRLFs of its body turned into CR CR LF.
func doubledBody(msg []byte) []byte {
	i := bytes.Index(msg, []byte("\r\n\r\n"))
	return append(msg[:i+4:i+4], bytes.ReplaceAll(msg[i+4:], []byte("\r\n"), []byte("\r\r\n"))...)
}
