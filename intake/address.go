package intake

import "strings"

// FoldAddress returns addr lowercased, trimmed and without a "+tag" in its
// local part, for matching senders to reps: "Bob.Rep+Feedback@Example.com"
// becomes "bob.rep@example.com". Angle brackets around addr are removed.
// A local part that is nothing but a tag is left as it is.
func FoldAddress(addr string) string {
	a := strings.ToLower(strings.TrimSpace(addr))
	a = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(a, "<"), ">"))
	at := strings.LastIndexByte(a, '@')
	local, domain := a, ""
	if at >= 0 {
		local, domain = a[:at], a[at:]
	}
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	return local + domain
}

// SenderAddress returns the folded address (FoldAddress) of raw's From, as
// Normalize reads it, from the header alone; "" when there is none. It
// lets a batch look up its senders at once before normalizing each
// message. Header fields in raw 8-bit bytes are read without the charset
// the text parts declare, which Normalize learns from the body: a sender
// address that needs it may come out differently here, so callers use
// this answer only for the address it names.
func SenderAddress(raw []byte) string {
	var w warnings
	o := (*Options)(nil).withDefaults()
	ent, _ := readEntity(readableLines(raw, &w), o, &w)
	if ent == nil {
		return ""
	}
	from := decodeAddressList(ent.Header, "From", "", &w)
	if len(from) == 0 {
		return ""
	}
	return FoldAddress(from[0].Addr)
}
