package auth

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
)

// field is one header field of a raw message, in the order written.
type field struct {
	name  string // as written, without surrounding space
	value string // unfolded: continuation lines joined, line breaks removed
}

// is reports whether the field's name is name, ignoring case.
func (f field) is(name string) bool {
	return strings.EqualFold(f.name, name)
}

// splitHeader returns the header fields of a raw message, top first, and
// whether the header ends with an empty line. Lines may end in CRLF or LF
// alone. A line that is neither a field nor a continuation (an mbox "From "
// line, garbage) is skipped.
func splitHeader(raw []byte) (fields []field, complete bool) {
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimRight(line, "\r")
		switch {
		case len(line) == 0:
			return fields, true
		case line[0] == ' ' || line[0] == '\t':
			if len(fields) > 0 {
				fields[len(fields)-1].value += string(line)
			}
		default:
			name, value, ok := bytes.Cut(line, []byte{':'})
			name = bytes.TrimSpace(name)
			if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
				continue
			}
			fields = append(fields, field{name: string(name), value: string(value)})
		}
	}
	return fields, false
}

// withEmptyBody returns raw with an empty line after its last header line,
// for a message that has a header and no body: DKIM treats a missing body as
// an empty one (RFC 6376 section 3.4.3), and the DKIM reader needs the line.
func withEmptyBody(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+4)
	out = append(out, raw...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\r', '\n')
	}
	return append(out, '\r', '\n')
}

// addressParser parses From fields. It decodes encoded words of any charset
// without converting them: only the address matters here, never the
// display name.
var addressParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// fromAddress returns the address and the normalized domain of the
// message's single From address, or why there is no single one.
func fromAddress(fields []field) (addr, domain, problem string) {
	var from []field
	for _, f := range fields {
		if f.is("From") {
			from = append(from, f)
		}
	}
	switch len(from) {
	case 0:
		return "", "", "no From field"
	case 1:
	default:
		return "", "", fmt.Sprintf("%d From fields", len(from))
	}
	list, err := addressParser.ParseList(from[0].value)
	if err != nil {
		return "", "", "From address could not be read"
	}
	switch len(list) {
	case 0:
		return "", "", "no From address"
	case 1:
	default:
		return "", "", fmt.Sprintf("%d From addresses", len(list))
	}
	addr = list[0].Address
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, "", "From address has no domain"
	}
	domain, ok := normalizeDomain(addr[at+1:])
	if !ok {
		return addr, "", "From domain is not a domain name"
	}
	return addr, domain, ""
}

// neutralize returns a structured header value with its comments removed
// and the specials inside its quoted strings and domain literals replaced
// by "_", so that splitting it at ";" and spaces finds only the tokens its
// writer meant: a quoted local part such as "a; dmarc=pass"@example.net in
// smtp.mailfrom must not read as a result of its own.
func neutralize(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	depth := 0       // comment nesting
	var quote byte   // '"' or ']' while inside a quoted string or a domain literal
	escaped := false // the previous byte was a backslash inside a comment or quote
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
			if depth == 0 {
				b.WriteByte(safe(c))
			}
		case depth > 0:
			switch c {
			case '\\':
				escaped = true
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					b.WriteByte(' ')
				}
			}
		case quote != 0:
			switch c {
			case '\\':
				escaped = true
			case quote:
				quote = 0
				b.WriteByte(c)
			default:
				b.WriteByte(safe(c))
			}
		case c == '(':
			depth = 1
		case c == '"':
			quote = '"'
			b.WriteByte(c)
		case c == '[':
			quote = ']'
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// safe replaces the bytes that separate results, properties and values in
// an Authentication-Results field.
func safe(c byte) byte {
	switch c {
	case ';', '=', ' ', '\t', '(', ')', '\r', '\n':
		return '_'
	}
	return c
}

// unquote removes the double quotes around a property value.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
