package auth

import (
	"strings"
	"unicode/utf8"
)

// maxSpamReason bounds the header value quoted in a spam reason:
// X-Spam-Status may list dozens of rules.
const maxSpamReason = 80

// spamVerdict looks for a spam filter's positive verdict in the header:
// SpamAssassin's "X-Spam-Flag: YES" and "X-Spam-Status: Yes, ...", and
// rspamd's "X-Spam-Action" of reject, add header, rewrite subject or soft
// reject. Only positive verdicts count, so a field forged by the sender can
// only move its own mail to spam; one saying "no" changes nothing. The
// reason is the first such field, its value cut short.
func spamVerdict(fields []field) (bool, string) {
	for _, f := range fields {
		value := strings.TrimSpace(f.value)
		var spam bool
		switch {
		case f.is("X-Spam-Flag"):
			spam = strings.EqualFold(value, "yes")
		case f.is("X-Spam-Status"):
			word, _, _ := strings.Cut(value, ",")
			if i := strings.IndexAny(word, " \t"); i >= 0 {
				word = word[:i]
			}
			spam = strings.EqualFold(word, "yes")
		case f.is("X-Spam-Action"):
			switch strings.ToLower(strings.Join(strings.Fields(value), " ")) {
			case "reject", "add header", "rewrite subject", "soft reject":
				spam = true
			}
		}
		if spam {
			if len(value) > maxSpamReason {
				cut := maxSpamReason
				for cut > 0 && !utf8.RuneStart(value[cut]) {
					cut--
				}
				value = strings.TrimSpace(value[:cut]) + "…"
			}
			return true, f.name + ": " + value
		}
	}
	return false, ""
}
