package intake

import (
	"regexp"
	"strings"
)

var (
	// attributionRE matches the line (or lines, joined; attributionAt bounds
	// their length) a mail client writes above a quoted reply: "On Mon, 5 Jan 2026, Bob <b@x.com> wrote:" and
	// its German, French, Spanish, Italian, Dutch and Portuguese forms.
	attributionRE = regexp.MustCompile(`(?i)^(?:on|am|le|el|il|op|em)\s.*\s(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu)\s?:$`)
	// originalMessage matches Outlook's "-----Original Message-----" line.
	originalMessage = regexp.MustCompile(`(?i)^-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|mensagem original)\s*-{2,}$`)
	// outlookRule matches the underscore rule Outlook draws above the header
	// block of the message it replies to or forwards.
	outlookRule = regexp.MustCompile(`^_{20,}$`)
	// outlookFrom, outlookSent and outlookTo match the lines of that header
	// block.
	outlookFrom = regexp.MustCompile(`(?i)^\*?(?:from|von|de|van|da)\s?:\*?\s*\S`)
	outlookSent = regexp.MustCompile(`(?i)^\*?(?:sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|data)\s?:`)
	outlookTo   = regexp.MustCompile(`(?i)^\*?(?:to|subject|an|betreff|à|a|objet|para|asunto|aan|onderwerp|oggetto|cc)\s?:`)
	// outlookOneLine matches that block when an HTML conversion put it on a
	// single line.
	outlookOneLine = regexp.MustCompile(`(?i)^\*?from\s?:.+\s(?:sent|date)\s?:.+\s(?:to|subject)\s?:`)
	// mobileSignature matches the one-line signatures mobile mail apps add.
	mobileSignature = regexp.MustCompile(`(?i)^(?:sent from my\s|sent from (?:mail|outlook|yahoo mail|gmail|aol mail|samsung)|get outlook for\s|sent (?:via|with|using)\s|von meinem .{1,30} gesendet|envoyé de mon\s|enviado desde mi\s|inviato da\s)`)
)

// quoteKind tells which kind of quote header starts a line.
type quoteKind int

const (
	noQuote          quoteKind = iota
	attributionQuote           // "On ... wrote:"
	outlookQuote               // "-----Original Message-----" or a From/Sent/To/Subject block
)

// quoteHeaderAt reports which quote header, if any, starts at lines[i]: an
// attribution line, Outlook's "Original Message" line or its header block.
func quoteHeaderAt(lines []string, i int) quoteKind {
	l := strings.TrimSpace(lines[i])
	switch {
	case l == "" || l[0] == '>':
		return noQuote
	case l[0] == '-':
		if originalMessage.MatchString(l) {
			return outlookQuote
		}
		return noQuote
	case l[0] == '_':
		if outlookRule.MatchString(l) && i+1 < len(lines) && outlookBlockAt(lines, i+1) {
			return outlookQuote
		}
		return noQuote
	case colonNear(l) && (outlookOneLine.MatchString(l) || outlookBlockAt(lines, i)):
		return outlookQuote
	case attributionAt(lines, i):
		return attributionQuote
	}
	return noQuote
}

// colonNear reports whether l has a colon within its first few bytes, as a
// "From:" or "Von:" line has.
func colonNear(l string) bool {
	i := strings.IndexByte(l, ':')
	return i > 0 && i < 14
}

// attributionAt reports whether an "On ... wrote:" attribution, possibly
// wrapped over up to three lines, starts at lines[i].
func attributionAt(lines []string, i int) bool {
	first := strings.TrimSpace(lines[i])
	if len(first) < 3 || len(first) > 300 {
		return false
	}
	ends := false
	for k := i; k < len(lines) && k < i+3 && !ends; k++ {
		ends = strings.HasSuffix(strings.TrimSpace(lines[k]), ":")
	}
	if !ends {
		return false
	}
	joined := first
	for k := i; k < len(lines) && k < i+3; k++ {
		if k > i {
			next := strings.TrimSpace(lines[k])
			if next == "" {
				return false
			}
			joined += " " + next
		}
		if strings.HasSuffix(joined, ":") && endsWithVerb(joined) && attributionRE.MatchString(joined) {
			return true
		}
	}
	return false
}

// attributionVerbs end the attributions that attributionRE matches.
var attributionVerbs = []string{"wrote", "schrieb", "écrit", "escribió", "scritto", "schreef", "escreveu"}

// endsWithVerb is a cheap test that l ends like an attribution, run before
// the regular expression.
func endsWithVerb(l string) bool {
	tail := l[max(0, len(l)-16):]
	tail = strings.ToLower(tail)
	for _, v := range attributionVerbs {
		if strings.Contains(tail, v) {
			return true
		}
	}
	return false
}

// outlookBlockAt reports whether an Outlook header block ("From: ...",
// "Sent: ...", "To: ...", "Subject: ...") starts at lines[i].
func outlookBlockAt(lines []string, i int) bool {
	if l := strings.TrimSpace(lines[i]); !colonNear(l) || !outlookFrom.MatchString(l) {
		return false
	}
	sent, to := false, false
	for k := i + 1; k < len(lines) && k <= i+6; k++ {
		l := strings.TrimSpace(lines[k])
		switch {
		case l == "":
			return sent && to
		case outlookSent.MatchString(l):
			sent = true
		case outlookTo.MatchString(l):
			to = true
		}
		if sent && to {
			return true
		}
	}
	return false
}

// isQuotedLine reports whether l is part of a ">"-quoted reply.
func isQuotedLine(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " \t"), ">")
}

// splitSignature splits the sender's signature off the end of own: from the
// last "-- " delimiter line, or from a mobile app's one-line signature near
// the end.
func splitSignature(own []string) (text, sig []string) {
	cut := -1
	for i := len(own) - 1; i >= 0; i-- {
		if strings.TrimRight(own[i], " \t") == "--" {
			cut = i
			break
		}
	}
	remaining := 0 // non-blank lines after i
	for i := len(own) - 1; i >= 0; i-- {
		l := strings.TrimSpace(own[i])
		if l == "" {
			continue
		}
		if remaining < 4 && mobileSignature.MatchString(l) && (cut < 0 || i < cut) {
			cut = i
		}
		remaining++
		if remaining >= 4 {
			break
		}
	}
	if cut < 0 {
		return own, nil
	}
	return own[:cut], own[cut:]
}
