package intake

import (
	"errors"
	netmail "net/mail"
	"regexp"
	"strings"
	"unicode"

	"github.com/emersion/go-message"
)

// decodeEnvelope fills the header-derived fields of m from h. declared is
// the charset the message's text parts declare, for header fields written
// in raw 8-bit bytes.
func decodeEnvelope(h message.Header, m *Message, declared string, w *warnings) {
	m.Subject = decodeText(h, "Subject", declared, w)
	if from := decodeAddressList(h, "From", declared, w); len(from) > 0 {
		m.From = from[0]
	}
	m.ReplyTo = decodeAddressList(h, "Reply-To", declared, w)
	m.To = decodeAddressList(h, "To", declared, w)
	m.Cc = decodeAddressList(h, "Cc", declared, w)

	if v := h.Get("Date"); v == "" {
		w.add("date: missing")
	} else if d, ok := parseDate(v); ok {
		m.Date = d
	} else {
		w.add("date: cannot parse %q", excerpt(v))
	}

	if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	} else if h.Has("Message-Id") {
		w.add("message-id: cannot parse %q", excerpt(h.Get("Message-Id")))
	}
	m.InReplyTo = msgIDs(h.Get("In-Reply-To"))
	m.References = msgIDs(h.Get("References"))
}

// decodeText returns the RFC 2047-decoded value of the header field key on a
// single line. A value in an unknown charset is kept raw, with a warning.
func decodeText(h message.Header, key, declared string, w *warnings) string {
	name := strings.ToLower(key)
	raw := headerText(h.Get(key), declared, name, w)
	v, err := decodeWords(raw)
	if err != nil {
		var unknown unknownCharsetError
		if errors.As(err, &unknown) {
			w.add("%s: unknown charset, raw value kept: %v", name, err)
		} else {
			w.add("%s: cannot decode: %v", name, err)
		}
		v = oneLine(raw)
	}
	return v
}

// oneLine returns s as valid UTF-8 on one line: line breaks, tabs and
// other control characters become spaces (NUL is dropped), runs of spaces
// collapse, and the result is trimmed.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == 0:
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// decodeAddressList parses the address list in the header field key. A list
// that does not parse as a whole is split on commas and each piece is parsed
// on its own; a piece that still fails keeps whatever looks like an address.
func decodeAddressList(h message.Header, key, declared string, w *warnings) []Address {
	name := strings.ToLower(key)
	v := headerText(h.Get(key), declared, name, w)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	list, err := addressParser.ParseList(v)
	if err == nil {
		out := make([]Address, 0, len(list))
		for _, a := range list {
			out = append(out, Address{Name: displayName(a.Name), Addr: oneLine(a.Address)})
		}
		return out
	}
	w.add("%s: malformed address list, parsed best effort: %v", name, err)
	var out []Address
	for _, piece := range splitAddressList(v) {
		if a, ok := lenientAddress(piece); ok {
			out = append(out, a)
		}
	}
	return out
}

// displayName returns a parsed display name on one line, with encoded words
// decoded that a mailer put inside quotes, where RFC 2047 section 5 does
// not allow them and net/mail leaves them.
func displayName(name string) string {
	if strings.Contains(name, "=?") {
		if dec, err := decodeWords(name); err == nil {
			return dec
		}
	}
	return oneLine(name)
}

// addressParser parses addresses, decoding display names in any charset
// charsetReader knows.
var addressParser = &netmail.AddressParser{WordDecoder: wordDecoder}

// splitAddressList splits an address list on commas and semicolons that are
// outside quotes, comments and angle brackets.
func splitAddressList(s string) []string {
	var (
		out     []string
		start   int
		quoted  bool
		angle   int
		comment int
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			comment++
		case c == ')' && comment > 0:
			comment--
		case comment > 0:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case (c == ',' || c == ';') && angle == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// addrSpec finds something shaped like an email address.
var addrSpec = regexp.MustCompile(`[^\s<>"(),;:\[\]]+@[^\s<>"(),;:\[\]]+`)

// angleAddr matches an angle-bracketed address, or "<>".
var angleAddr = regexp.MustCompile(`<([^<>]*)>`)

// lenientAddress parses one address that net/mail rejects. The address in
// angle brackets is where mail goes (RFC 5322 section 3.4), so it wins over
// anything address-shaped in the display name, as in
// "purchasing@buyer.example <do-not-reply@vendor.example>"; without one
// that holds an "@", the first addr-spec wins, then a bracketed address
// without "@" ("Mail Delivery Subsystem <MAILER-DAEMON>", "MAILER-DAEMON
// <>"). The words around the address are the display name.
func lenientAddress(piece string) (Address, bool) {
	piece = strings.TrimSpace(piece)
	if piece == "" {
		return Address{}, false
	}
	if a, err := addressParser.Parse(piece); err == nil {
		return Address{Name: displayName(a.Name), Addr: oneLine(a.Address)}, true
	}
	angle := angleAddr.FindStringSubmatchIndex(piece)
	var start, end int     // the address is piece[start:end] ...
	var cutFrom, cutTo int // ... and piece[cutFrom:cutTo] is not part of the name
	switch loc := addrSpec.FindStringIndex(piece); {
	case angle != nil && strings.Contains(piece[angle[2]:angle[3]], "@"), angle != nil && loc == nil:
		start, end, cutFrom, cutTo = angle[2], angle[3], angle[0], angle[1]
	case loc != nil:
		start, end, cutFrom, cutTo = loc[0], loc[1], loc[0], loc[1]
	default:
		return Address{Name: oneLine(strings.Trim(piece, `"' `))}, true
	}
	addr := withoutComments(piece[start:end])
	rest := piece[:cutFrom] + " " + piece[cutTo:]
	rest = strings.NewReplacer("<", " ", ">", " ", "[mailto:", " ", "]", " ", `"`, " ").Replace(rest)
	return Address{Name: displayName(strings.Trim(oneLine(rest), `"' `)), Addr: oneLine(addr)}, true
}

// withoutComments removes RFC 5322 comments, "(...)", nested or with
// quoted pairs, from an address and trims it.
func withoutComments(s string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// msgIDRE matches one bracketed message ID.
var msgIDRE = regexp.MustCompile(`<([^<>\s]+)>`)

// msgIDs extracts message IDs, without angle brackets, from a Message-ID,
// In-Reply-To or References value, as valid UTF-8 without control
// characters. Real-world values are often malformed, so bare tokens with
// an "@" are accepted when nothing is bracketed.
func msgIDs(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var ids []string
	for _, m := range msgIDRE.FindAllStringSubmatch(v, -1) {
		ids = append(ids, oneLine(m[1]))
	}
	if len(ids) > 0 {
		return ids
	}
	for _, f := range strings.Fields(v) {
		f = strings.Trim(f, "<>,;\"'")
		if strings.Contains(f, "@") {
			ids = append(ids, oneLine(f))
		}
	}
	return ids
}
