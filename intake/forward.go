package intake

import (
	"regexp"
	"strings"
)

var (
	// forwardMarker matches the line that opens an inline forward: Gmail's
	// "---------- Forwarded message ---------", Thunderbird's
	// "-------- Forwarded Message --------", Apple Mail's "Begin forwarded
	// message:" and their translations.
	forwardMarker = regexp.MustCompile(`(?i)^(?:-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada)\s*-{2,}|begin forwarded message\s?:|anfang der weitergeleiteten nachricht\s?:|début du message réexpédié\s?:|inicio del mensaje reenviado\s?:)$`)
	// forwardSubject matches a subject that says the message is a forward
	// (and not a reply to one: "Re: Fwd:" is a reply).
	forwardSubject = regexp.MustCompile(`(?i)^(?:fwd?|wg|tr|rv|enc|doorst|vs|vb)\s?:`)
	// forwardHeader matches one "Key: value" line of a forwarded message's
	// header block; the key is in group 1 and the value in group 2.
	forwardHeader = regexp.MustCompile(`(?i)^\*?(from|sent|date|to|cc|bcc|subject|reply-to|von|gesendet|datum|an|betreff|de|envoyé|date|à|objet|para|enviado|fecha|asunto|da|inviato|oggetto|a)\s?:\*?\s*(.*)$`)
)

// fieldNames maps the keys of forwarded header blocks to the field they
// stand for.
var fieldNames = map[string]string{
	"from": "from", "von": "from", "de": "from", "da": "from",
	"sent": "date", "date": "date", "gesendet": "date", "datum": "date", "envoyé": "date", "enviado": "date", "fecha": "date", "inviato": "date",
	"subject": "subject", "betreff": "subject", "objet": "subject", "asunto": "subject", "oggetto": "subject",
	"to": "to", "cc": "to", "bcc": "to", "reply-to": "to", "an": "to", "à": "to", "para": "to", "a": "to",
}

// maxForwardHeaderLines bounds the header block of an inline forward.
const maxForwardHeaderLines = 30

// isForwardSubject reports whether a subject marks its message as a forward
// ("Fwd:", "FW:", "WG:", "TR:" ...).
func isForwardSubject(subject string) bool {
	return forwardSubject.MatchString(strings.TrimSpace(subject))
}

// isForwardMarker reports whether line opens an inline forward.
func isForwardMarker(line string) bool {
	l := strings.TrimSpace(line)
	return l != "" && (l[0] == '-' || l[len(l)-1] == ':') && forwardMarker.MatchString(l)
}

// parseInlineForwards reads the inline forwards that start at lines[0],
// which is a forward marker or the first line of an Outlook header block.
// A later forward marker starts a new Forward.
func parseInlineForwards(lines []string) []Forward {
	var out []Forward
	for len(lines) > 0 {
		start := 0
		if l := strings.TrimSpace(lines[0]); isForwardMarker(l) || originalMessage.MatchString(l) || outlookRule.MatchString(l) {
			start = 1
		}
		fw, bodyStart := parseForwardHeader(lines, start)
		end := len(lines)
		for k := bodyStart; k < len(lines); k++ {
			if isForwardMarker(lines[k]) {
				end = k
				break
			}
		}
		fw.Text = strings.TrimSpace(unquoteAll(lines[bodyStart:end]))
		out = append(out, fw)
		lines = lines[end:]
	}
	return out
}

// parseForwardHeader parses the "From:", "Date:", "Subject:" ... block that
// starts at or after lines[i] (blank lines and one level of ">" quoting are
// skipped) and returns the forward and the index of its first body line.
func parseForwardHeader(lines []string, i int) (Forward, int) {
	var fw Forward
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	seen := 0
	last := ""
	k := i
	for ; k < len(lines) && k-i < maxForwardHeaderLines; k++ {
		l := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[k]), ">"))
		if l == "" {
			break
		}
		m := forwardHeader.FindStringSubmatch(l)
		if m == nil {
			if last == "to" && strings.Contains(l, "@") {
				continue // a wrapped To: or Cc: list
			}
			break
		}
		seen++
		last = fieldNames[strings.ToLower(m[1])]
		value := strings.TrimSpace(m[2])
		switch last {
		case "from":
			if a, ok := lenientAddress(strings.ReplaceAll(value, "*", "")); ok {
				fw.From = a
			}
		case "date":
			if t, ok := parseDate(value); ok {
				fw.Date = t
			}
		case "subject":
			fw.Subject = oneLine(value)
		}
	}
	if seen == 0 {
		return fw, i
	}
	return fw, k
}

// unquoteAll joins lines, removing one level of ">" quoting when every
// non-blank line carries it.
func unquoteAll(lines []string) string {
	quoted := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if !isQuotedLine(l) {
			return strings.Join(lines, "\n")
		}
		quoted = true
	}
	if !quoted {
		return strings.Join(lines, "\n")
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		l = strings.TrimLeft(l, " \t")
		l = strings.TrimPrefix(l, ">")
		out[i] = strings.TrimPrefix(l, " ")
	}
	return strings.Join(out, "\n")
}
