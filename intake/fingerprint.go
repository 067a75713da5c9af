package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
)

// isTraceField reports header fields that the receiving side adds or
// rewrites per mailbox (trace, delivery, spam filtering, mailbox state).
// A fingerprint leaves them out and covers every other field, so that the
// same message in two mailboxes matches while two messages that differ in
// any header of their own never do. An unknown per-mailbox field only costs
// a missed match (two items), never a false one.
func isTraceField(name string) bool {
	switch name {
	case "received", "return-path", "delivered-to", "x-original-to", "x-delivered-to", "envelope-to",
		"x-envelope-from", "x-envelope-to", "authentication-results", "received-spf", "x-received",
		"status", "x-status", "x-keywords", "x-uid", "content-length", "lines", "x-mozilla-status",
		"x-mozilla-status2", "x-mailbox", "x-rcpt-to", "x-orig-to":
		return true
	}
	for _, p := range []string{"arc-", "x-spam", "x-virus", "x-ms-exchange-organization-", "x-ms-exchange-transport-",
		"x-forefront-", "x-microsoft-antispam", "x-gm-", "x-rspamd", "x-ham-", "x-proofpoint-", "x-mimecast-",
		"x-barracuda", "x-ironport", "x-sophos", "x-mailgun-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Fingerprint returns the Message-ID (without angle brackets) of raw and a
// content hash (hex SHA-256) that is the same for the same message received
// through two mailboxes or fetched again after a UIDVALIDITY reset. The hash
// covers every header field but the trace fields (see isTraceField), in
// order, names lower-cased and values unfolded with white space collapsed,
// and the body after the header section with line endings normalized to LF
// and trailing blank lines removed. It does not parse MIME.
func Fingerprint(raw []byte) (messageID, hash string) {
	fields, body := scanHeader(raw)
	h := sha256.New()
	for _, f := range fields {
		h.Write([]byte(f[0]))
		h.Write([]byte{':'})
		h.Write([]byte(f[1]))
		h.Write([]byte{'\n'})
	}
	h.Write([]byte{'\n'})
	writeNormalized(h, bytes.TrimRight(body, "\r\n"))
	if ids := msgIDs(firstField(fields, "message-id")); len(ids) > 0 {
		messageID = ids[0]
	}
	return messageID, hex.EncodeToString(h.Sum(nil))
}

// firstField returns the value of the first field called name.
func firstField(fields [][2]string, name string) string {
	for _, f := range fields {
		if f[0] == name {
			return f[1]
		}
	}
	return ""
}

// scanHeader returns the header fields that are not trace fields, in
// order, unfolded and with white space collapsed, and the body that
// follows the header section. A line that is neither a header field nor a
// continuation ends the header; raw that does not start with a header is
// all body.
func scanHeader(raw []byte) ([][2]string, []byte) {
	var (
		fields [][2]string
		cur    string // field being collected, "" when not wanted
		b      strings.Builder
	)
	flush := func() {
		if cur != "" {
			fields = append(fields, [2]string{cur, strings.Join(strings.Fields(b.String()), " ")})
		}
		cur = ""
		b.Reset()
	}
	rest := raw
	for len(rest) > 0 {
		line, next := cutLine(rest)
		content := bytes.TrimRight(line, "\r\n")
		switch {
		case len(content) == 0:
			flush()
			return fields, next
		case content[0] == ' ' || content[0] == '\t':
			if cur != "" {
				b.WriteByte(' ')
				b.Write(content)
			}
		case isHeaderLine(content):
			flush()
			i := bytes.IndexByte(content, ':')
			name := strings.ToLower(string(bytes.TrimSpace(content[:i])))
			if !isTraceField(name) {
				cur = name
				b.Write(content[i+1:])
			}
		default:
			flush()
			return fields, rest
		}
		rest = next
	}
	flush()
	return fields, nil
}

// writeNormalized writes b to w with CRLF and lone CR turned into LF.
func writeNormalized(w io.Writer, b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			w.Write(b)
			return
		}
		w.Write(b[:i])
		w.Write([]byte{'\n'})
		b = b[i+1:]
		if len(b) > 0 && b[0] == '\n' {
			b = b[1:]
		}
	}
}
