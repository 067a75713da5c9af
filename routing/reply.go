package routing

import "regexp"

// replyPrefix matches the prefixes mail programs put before a quoted thread's subject: Re, Fwd and Fw, and
// their translations (AW and WG in German, SV in Scandinavian, Antw in Dutch, TR in French, RIF and R in Italian,
// RES and ENC in Portuguese), with an optional counter such as "Re[2]:" and repeated as in "RE: Fwd:".
var replyPrefix = regexp.MustCompile(`(?i)^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rif|r|res|enc)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+`)

// replySubject reports whether subject is a reply's or forward's: the text after the prefix was written in the
// quoted thread, not by the rep.
func replySubject(subject string) bool {
	return replyPrefix.MatchString(subject)
}

// dropQuotedSubject removes the competitor mentions found only in a reply's subject. Such a subject repeats the
// thread being answered, so a competitor named there alone ("Re: Acme comparison deck?" answered with "sent it
// over") is not the rep's intel; named again in the rep's text, a forward or a transcript, it counts, and the
// subject stays among its evidence. Products and topics in such a subject still count: they say what the reply is
// about.
func dropQuotedSubject(ms []mention) []mention {
	elsewhere := make(map[uint64]bool)
	for _, m := range ms {
		if m.field != scanSubject {
			elsewhere[m.key] = true
		}
	}
	out := ms[:0]
	for _, m := range ms {
		if kind, _ := keyEntity(m.key); m.field == scanSubject && kind == entityCompetitor && !elsewhere[m.key] {
			continue
		}
		out = append(out, m)
	}
	return out
}
