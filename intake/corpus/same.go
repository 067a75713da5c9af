package corpus

import (
	"bytes"
	"io"
	netmail "net/mail"
	"sort"
	"strings"
)

// traceFields are the header fields a message gains on its way into a
// mailbox (RFC 5322 section 3.6.7 trace fields and the delivery fields
// servers add), by which two copies of one message may differ.
var traceFields = map[string]bool{
	"Received": true, "Return-Path": true, "Delivered-To": true, "X-Original-To": true,
	"X-Delivered-To": true, "Envelope-To": true,
}

// SameMessage reports whether a and b are the same message for a reference
// parser, net/mail: the same header fields once trace fields are left out,
// and the same body once line endings are read alike and line breaks at
// the end ignored. It says why they are the same ("trace fields differ",
// "line endings differ", ...) or how they differ. It is a check for tests,
// independent of how Earshot fingerprints a message.
func SameMessage(a, b []byte) (string, bool) {
	if bytes.Equal(a, b) {
		return "identical bytes", true
	}
	ma, errA := netmail.ReadMessage(bytes.NewReader(a))
	mb, errB := netmail.ReadMessage(bytes.NewReader(b))
	if errA != nil || errB != nil {
		return "net/mail cannot read them and their bytes differ", false
	}
	if ha, hb := headerLines(ma.Header, false), headerLines(mb.Header, false); ha != hb {
		return "header fields differ", false
	}
	ba, _ := io.ReadAll(ma.Body)
	bb, _ := io.ReadAll(mb.Body)
	if !bytes.Equal(lfTrimmed(ba), lfTrimmed(bb)) {
		return "bodies differ", false
	}
	var why []string
	if headerLines(ma.Header, true) != headerLines(mb.Header, true) {
		why = append(why, "trace fields differ")
	}
	if bytes.Contains(a, []byte("\r\n")) != bytes.Contains(b, []byte("\r\n")) {
		why = append(why, "line endings differ")
	}
	if len(why) == 0 {
		why = append(why, "line breaks at the end differ")
	}
	return strings.Join(why, ", "), true
}

// headerLines returns the trace fields of h, or the others, as sorted
// "key: values" lines.
func headerLines(h netmail.Header, trace bool) string {
	var lines []string
	for k, v := range h {
		if traceFields[k] == trace {
			lines = append(lines, k+": "+strings.Join(v, "\n"))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// lfTrimmed returns b with CRLF and lone CR line endings as LF and no line
// breaks at the end.
func lfTrimmed(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	b = bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	return bytes.TrimRight(b, "\n")
}
