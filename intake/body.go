package intake

import "strings"

// bodyParts is a body text split into the sender's own words and the rest.
type bodyParts struct {
	text, quoted, signature string
	forwards                []Forward
}

// splitBody separates the sender's own words in full from quoted replies,
// the signature and inline forwards. forwardSubject tells whether the
// message's subject marks it as a forward, which makes an Outlook
// "Original Message" or header block a forward rather than a quoted reply.
func splitBody(full string, forwardSubject bool) bodyParts {
	lines := strings.Split(full, "\n")
	var p bodyParts
	own := lines
	for i := range lines {
		if isForwardMarker(lines[i]) {
			own = lines[:i]
			p.forwards = parseInlineForwards(lines[i:])
			break
		}
		if kind := quoteHeaderAt(lines, i); kind != noQuote {
			own = lines[:i]
			if forwardSubject && kind == outlookQuote {
				p.forwards = parseInlineForwards(lines[i:])
			} else {
				p.quoted = strings.Join(lines[i:], "\n")
			}
			break
		}
	}

	var kept, quoted []string
	for _, l := range own {
		if isQuotedLine(l) {
			quoted = append(quoted, l)
		} else {
			kept = append(kept, l)
		}
	}
	if len(quoted) > 0 {
		q := strings.Join(quoted, "\n")
		if p.quoted != "" {
			q += "\n" + p.quoted
		}
		p.quoted = q
	}
	text, sig := splitSignature(kept)
	p.text = strings.TrimSpace(strings.Join(text, "\n"))
	p.signature = strings.TrimSpace(strings.Join(sig, "\n"))
	p.quoted = strings.TrimSpace(p.quoted)
	return p
}
