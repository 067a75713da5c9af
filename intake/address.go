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
