package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
)

// fingerprintFields are the header fields a fingerprint covers. Trace fields
// (Received, Delivered-To, Return-Path, X-Original-To ...) are left out on
// purpose: they differ between the mailboxes a message reaches.
var fingerprintFields = []string{"message-id", "from", "date", "subject"}

// Fingerprint returns the Message-ID (without angle brackets) of raw and a
// content hash (hex SHA-256) that is the same for the same message received
// through two mailboxes or fetched again after a UIDVALIDITY reset. The hash
// covers the Message-ID, From, Date and Subject values (unfolded, white
// space collapsed) and the body after the header section with line endings
// normalized to LF and trailing blank lines removed. It does not parse MIME.
func Fingerprint(raw []byte) (messageID, hash string) {
	values, body := scanHeader(raw)
	h := sha256.New()
	for _, k := range fingerprintFields {
		h.Write([]byte(k))
		h.Write([]byte{':'})
		h.Write([]byte(values[k]))
		h.Write([]byte{'\n'})
	}
	h.Write([]byte{'\n'})
	writeNormalized(h, bytes.TrimRight(body, "\r\n"))
	if ids := msgIDs(values["message-id"]); len(ids) > 0 {
		messageID = ids[0]
	}
	return messageID, hex.EncodeToString(h.Sum(nil))
}

// scanHeader returns the first value of each fingerprint field, unfolded
// and with white space collapsed, and the body that follows the header
// section. A line that is neither a header field nor a continuation ends
// the header; raw that does not start with a header is all body.
func scanHeader(raw []byte) (map[string]string, []byte) {
	values := make(map[string]string, len(fingerprintFields))
	var cur string // field being collected, "" when not wanted
	var b strings.Builder
	flush := func() {
		if cur != "" {
			if _, seen := values[cur]; !seen {
				values[cur] = strings.Join(strings.Fields(b.String()), " ")
			}
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
			return values, next
		case content[0] == ' ' || content[0] == '\t':
			if cur != "" {
				b.WriteByte(' ')
				b.Write(content)
			}
		case isHeaderLine(content):
			flush()
			i := bytes.IndexByte(content, ':')
			name := strings.ToLower(string(bytes.TrimSpace(content[:i])))
			for _, k := range fingerprintFields {
				if name == k {
					cur = k
					b.Write(content[i+1:])
				}
			}
		default:
			flush()
			return values, rest
		}
		rest = next
	}
	flush()
	return values, nil
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
