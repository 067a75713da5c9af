package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
	"sync"
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
// content hash (hex SHA-256) that two copies of raw share only when they are
// the same message: the same Message-ID (or none in either) and the same
// bytes once the trace fields (see isTraceField) are removed from the header
// section. Line endings (CRLF, LF or a lone CR, which classic Mac OS wrote)
// are read alike, as the servers a copy went through may have rewritten
// them, and line breaks at the very end are ignored, as some mail stores add
// or drop one; every other byte counts. So the same message fetched from
// two mailboxes, or again after a UIDVALIDITY reset, matches, and two
// messages that differ anywhere else never do. It does not parse MIME.
func Fingerprint(raw []byte) (messageID, hash string) {
	h := sha256.New()
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	lw := lineHasher{h: h, buf: (*buf)[:0]}
	rest, id := hashHeader(raw, &lw)
	lw.text(rest)
	lw.done()
	if ids := msgIDs(id); len(ids) > 0 {
		messageID = ids[0]
	}
	// The Message-ID is in the hashed bytes already; hashing it once more,
	// apart, keeps "same Message-ID" a rule of its own.
	h.Write([]byte("\x00message-id:"))
	h.Write([]byte(messageID))
	return messageID, hex.EncodeToString(h.Sum(nil))
}

// hashHeader feeds the header section of raw to lw, leaving out trace
// fields with their continuation lines, and returns what follows it (the
// blank line that ends the header, then the body) and the unfolded value of
// the first Message-ID field. Blank lines before the header are hashed and
// skipped. A line that is neither a header field nor a continuation ends the
// header; raw that does not start with a header is all body.
func hashHeader(raw []byte, lw *lineHasher) (rest []byte, messageID string) {
	rest = raw
	for len(rest) > 0 {
		line, next := nextLine(rest)
		if len(bytes.TrimSpace(line)) > 0 {
			break
		}
		lw.line(line)
		rest = next
	}
	var (
		skip   bool // the current field is a trace field
		inID   bool // the current field is the first Message-ID
		idDone bool
		id     strings.Builder
	)
	for len(rest) > 0 {
		line, next := nextLine(rest)
		switch {
		case len(line) > 0 && (line[0] == ' ' || line[0] == '\t'):
			if lw.fields == 0 {
				return rest, id.String()
			}
			if inID {
				id.WriteByte(' ')
				id.Write(line)
			}
		case isHeaderLine(line):
			i := bytes.IndexByte(line, ':')
			name := strings.ToLower(string(bytes.TrimSpace(line[:i])))
			skip = isTraceField(name)
			if inID {
				inID, idDone = false, true
			}
			if name == "message-id" && !idDone {
				inID = true
				id.Write(line[i+1:])
			}
			lw.fields++
		default:
			return rest, id.String()
		}
		if !skip {
			lw.line(line)
		}
		rest = next
	}
	return rest, id.String()
}

// lineHasher writes lines to a hash, each followed by one LF, except that
// the line breaks after the last non-empty line are never written.
type lineHasher struct {
	h       hash.Hash
	pending int // line breaks not written yet
	fields  int // header fields seen
	// buf gathers short writes for the hash (a hash's Write costs the
	// same for a line as for many); without room, bytes go straight to h.
	buf []byte
}

// hashBufs are lineHasher buffers.
var hashBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 16<<10)
	return &b
}}

// write writes p to the hash, through buf.
func (lw *lineHasher) write(p []byte) {
	if len(lw.buf)+len(p) > cap(lw.buf) {
		lw.h.Write(lw.buf)
		lw.buf = lw.buf[:0]
		if len(p) >= cap(lw.buf) {
			lw.h.Write(p)
			return
		}
	}
	lw.buf = append(lw.buf, p...)
}

// done writes what buf holds to the hash.
func (lw *lineHasher) done() {
	lw.h.Write(lw.buf)
	lw.buf = lw.buf[:0]
}

// line hashes one line without its line ending.
func (lw *lineHasher) line(l []byte) {
	if len(l) == 0 {
		lw.pending++
		return
	}
	lw.flush()
	lw.write(l)
	lw.pending = 1
}

// text hashes b as line would hash each of its lines (what nextLine
// splits it into) in turn, in long writes: the hashed bytes are the
// lines, each followed by one LF, so b is written as it is but for its
// line endings (CRLF and a lone CR written as LF) and the LFs at its end,
// which wait for a line that is not empty.
func (lw *lineHasher) text(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			lw.lfText(b)
			return
		}
		lw.lfText(b[:i])
		if i+1 < len(b) && b[i+1] == '\n' {
			b = b[i+1:] // the LF ends the line
		} else {
			lw.pending++ // a lone CR ends it
			b = b[i+1:]
		}
	}
}

// lfText is text for bytes without a CR.
func (lw *lineHasher) lfText(b []byte) {
	end := len(bytes.TrimRight(b, "\n"))
	if end == 0 {
		lw.pending += len(b)
		return
	}
	lw.flush()
	lw.write(b[:end])
	lw.pending = len(b) - end
}

// newlines is written for the line breaks that wait.
var newlines = bytes.Repeat([]byte{'\n'}, 64)

// flush writes the line breaks that wait.
func (lw *lineHasher) flush() {
	for lw.pending > 0 {
		n := min(lw.pending, len(newlines))
		lw.write(newlines[:n])
		lw.pending -= n
	}
}

// nextLine returns the first line of b without its line ending, which is
// CRLF, LF or a lone CR, and what follows that line ending.
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexAny(b, "\r\n")
	if i < 0 {
		return b, nil
	}
	if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
		return b[:i], b[i+2:]
	}
	return b[:i], b[i+1:]
}
