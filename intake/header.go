package intake

import (
	"mime"
	"regexp"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset" // also registers every charset x/text knows with go-message
	"github.com/emersion/go-message/mail"
)

// decodeEnvelope fills the header-derived fields of m from h.
func decodeEnvelope(h message.Header, m *Message, w *warnings) {
	m.Subject = decodeText(h, "Subject", w)
	if from := decodeAddressList(h, "From", w); len(from) > 0 {
		m.From = from[0]
	}
	m.ReplyTo = decodeAddressList(h, "Reply-To", w)
	m.To = decodeAddressList(h, "To", w)
	m.Cc = decodeAddressList(h, "Cc", w)

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
func decodeText(h message.Header, key string, w *warnings) string {
	v, err := h.Text(key)
	if err != nil {
		if message.IsUnknownCharset(err) {
			w.add("%s: unknown charset, raw value kept: %v", strings.ToLower(key), err)
		} else {
			w.add("%s: cannot decode: %v", strings.ToLower(key), err)
		}
		v = h.Get(key)
	}
	return oneLine(v)
}

// oneLine replaces line breaks and tabs by spaces, collapses runs of spaces
// and trims the result.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.Fields(s), " ")
}

// decodeAddressList parses the address list in the header field key. A list
// that does not parse as a whole is split on commas and each piece is parsed
// on its own; a piece that still fails keeps whatever looks like an address.
func decodeAddressList(h message.Header, key string, w *warnings) []Address {
	v := h.Get(key)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	name := strings.ToLower(key)
	list, err := mail.ParseAddressList(v)
	if err == nil {
		out := make([]Address, 0, len(list))
		for _, a := range list {
			out = append(out, Address{Name: oneLine(a.Name), Addr: strings.TrimSpace(a.Address)})
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

// angleAddr matches an angle-bracketed address without "@", or "<>".
var angleAddr = regexp.MustCompile(`<([^<>@]*)>`)

// lenientAddress parses one address, falling back to the first thing that
// looks like an addr-spec and the words around it as the display name.
func lenientAddress(piece string) (Address, bool) {
	piece = strings.TrimSpace(piece)
	if piece == "" {
		return Address{}, false
	}
	if a, err := mail.ParseAddress(piece); err == nil {
		return Address{Name: oneLine(a.Name), Addr: strings.TrimSpace(a.Address)}, true
	}
	loc := addrSpec.FindStringIndex(piece)
	if loc == nil {
		loc = angleAddr.FindStringSubmatchIndex(piece)
		if loc == nil {
			return Address{Name: oneLine(strings.Trim(piece, `"' `))}, true
		}
		// "Mail Delivery Subsystem <MAILER-DAEMON>", "MAILER-DAEMON <>"
		addr := strings.TrimSpace(piece[loc[2]:loc[3]])
		name := oneLine(strings.Trim(oneLine(piece[:loc[0]]+" "+piece[loc[1]:]), `"' `))
		return Address{Name: name, Addr: addr}, true
	}
	addr := piece[loc[0]:loc[1]]
	rest := piece[:loc[0]] + " " + piece[loc[1]:]
	rest = strings.NewReplacer("<", " ", ">", " ", "[mailto:", " ", "]", " ").Replace(rest)
	name := oneLine(strings.Trim(oneLine(rest), `"' `))
	if dec, err := decodeWords(name); err == nil {
		name = dec
	}
	return Address{Name: name, Addr: addr}, true
}

// decodeWords decodes RFC 2047 encoded words in s.
func decodeWords(s string) (string, error) {
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	v, err := dec.DecodeHeader(s)
	return oneLine(v), err
}

// msgIDRE matches one bracketed message ID.
var msgIDRE = regexp.MustCompile(`<([^<>\s]+)>`)

// msgIDs extracts message IDs, without angle brackets, from a Message-ID,
// In-Reply-To or References value. Real-world values are often malformed, so
// bare tokens with an "@" are accepted when nothing is bracketed.
func msgIDs(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var ids []string
	for _, m := range msgIDRE.FindAllStringSubmatch(v, -1) {
		ids = append(ids, m[1])
	}
	if len(ids) > 0 {
		return ids
	}
	for _, f := range strings.Fields(v) {
		f = strings.Trim(f, "<>,;\"'")
		if strings.Contains(f, "@") {
			ids = append(ids, f)
		}
	}
	return ids
}
