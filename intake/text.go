package intake

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// toUTF8 turns a decoded text body into a string with "\n" line endings.
// Bytes that are not valid UTF-8 (8-bit text with no charset, or a charset
// nobody knows) are read as windows-1252, the most common such charset,
// with a warning.
func toUTF8(b []byte, where string, w *warnings) string {
	if !utf8.Valid(b) {
		w.add("%s: text is not valid utf-8, read as windows-1252", where)
		if dec, err := charmap.Windows1252.NewDecoder().Bytes(b); err == nil {
			b = dec
		} else {
			b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
		}
	}
	return normalizeNewlines(string(b))
}

// normalizeNewlines turns CRLF and lone CR line endings into LF and drops
// NUL bytes.
func normalizeNewlines(s string) string {
	if !strings.ContainsAny(s, "\r\x00") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\x00", "")
}

// unflow joins the soft line breaks of a format=flowed body (RFC 3676
// section 4): a line ending in a space continues on the next line of the
// same quote depth. With delsp=yes that space is removed.
func unflow(s string, delsp bool) string {
	lines := strings.Split(s, "\n")
	var out []string
	var cur strings.Builder
	curDepth, open := 0, false
	flush := func() {
		if open {
			out = append(out, strings.Repeat(">", curDepth)+spaceIf(curDepth > 0)+cur.String())
			cur.Reset()
			open = false
		}
	}
	for _, l := range lines {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		content := strings.TrimPrefix(l[depth:], " ") // space-stuffing
		if open && depth != curDepth {
			flush()
		}
		flowed := strings.HasSuffix(content, " ") && content != "-- "
		if flowed && delsp {
			content = content[:len(content)-1]
		}
		cur.WriteString(content)
		curDepth, open = depth, true
		if !flowed {
			flush()
		}
	}
	flush()
	return strings.Join(out, "\n")
}

// spaceIf returns " " when b is true.
func spaceIf(b bool) string {
	if b {
		return " "
	}
	return ""
}
