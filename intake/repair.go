package intake

import (
	"bytes"
)

// repairHeader rebuilds a header section that go-message rejected: an mbox
// "From " line is dropped, leading white space on the first line is removed,
// header-like lines with an invalid field name and continuation lines with
// nothing to continue are dropped, and a line that is not a header at all
// starts the body. It returns nil when raw does not start with a header.
func repairHeader(raw []byte) (fixed []byte, dropped int) {
	var out bytes.Buffer
	out.Grow(len(raw) + 2)
	kept := 0
	rest := raw
	first := true
	for len(rest) > 0 {
		line, next := cutLine(rest)
		if first {
			line = bytes.TrimLeft(line, " \t")
		}
		content := bytes.TrimRight(line, "\r\n")
		if len(content) == 0 { // the blank line that ends the header
			break
		}
		if first {
			first = false
			if bytes.HasPrefix(content, []byte("From ")) {
				dropped++
				rest = next
				continue
			}
		}
		switch {
		case content[0] == ' ' || content[0] == '\t':
			if kept == 0 {
				dropped++
			} else {
				out.Write(line)
			}
		case isHeaderLine(content):
			out.Write(line)
			kept++
		case headerLike(content):
			dropped++
		default:
			if kept == 0 {
				return nil, dropped
			}
			// A body that follows the header with no blank line.
			endLine(&out)
			out.WriteString("\r\n")
			out.Write(rest)
			return out.Bytes(), dropped
		}
		rest = next
	}
	if kept == 0 {
		return nil, dropped
	}
	endLine(&out)
	if len(rest) == 0 {
		out.WriteString("\r\n") // a header with no body
	} else {
		out.Write(rest) // starts with the blank line
	}
	return out.Bytes(), dropped
}

// endLine terminates the last line in b if it has no line ending.
func endLine(b *bytes.Buffer) {
	if !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
		b.WriteString("\r\n")
	}
}

// cutLine returns the first line of b, with its line ending, and the rest.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1], b[i+1:]
	}
	return b, nil
}

// isHeaderLine reports whether l is a "Name: value" line with a valid field
// name (RFC 5322 section 2.2: printable ASCII except colon).
func isHeaderLine(l []byte) bool {
	i := bytes.IndexByte(l, ':')
	if i <= 0 {
		return false
	}
	for _, c := range bytes.TrimRight(l[:i], " \t") {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// headerLike reports whether l looks like a header line with a broken field
// name ("X-Spam Status: yes") rather than body text.
func headerLike(l []byte) bool {
	i := bytes.IndexByte(l, ':')
	return i > 0 && i <= 40 && bytes.Count(l[:i], []byte(" ")) <= 2
}
