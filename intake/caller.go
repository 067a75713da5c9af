package intake

import (
	"regexp"
	"strings"
)

var (
	// labelledNumber matches a phone number after a label PBX systems use:
	// "Voicemail from +1 415 555 0100", "Caller: (415) 555-0100",
	// "Caller ID: 4155550100", "From: 415.555.0100".
	labelledNumber = regexp.MustCompile(`(?i)\b(?:caller(?:\s*id)?|calling\s+(?:number|party)|call(?:er)?\s+from|voice\s*mail\s+from|voicemail\s+from|message\s+from|from|number|phone|tel|anrufer|von|appelant|de)\s*(?:number|no\.?|#)?\s*[:#]?\s*(?:[^\s\d+(:]{1,40}\s+)?[\[<"]?(\+?\(?\d[\d \t().\-/]{5,22}\d)`)
	// bareNumber matches anything shaped like a phone number.
	bareNumber = regexp.MustCompile(`(?:^|[^\w+])(\+?\(?\d[\d \t().\-/]{5,22}\d)`)
	// dateLike matches digit runs that are dates or times, not numbers.
	dateLike = regexp.MustCompile(`^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$`)
)

// maxCallerScan bounds how much of the body is searched for a caller
// number; PBX notifications state it near the top.
const maxCallerScan = 8 << 10

// callerNumber finds the caller's number in the subject or body of a
// voicemail-to-email message, as written. A labelled number wins over a bare
// one and the subject wins over the body.
func callerNumber(subject, body string) string {
	if len(body) > maxCallerScan {
		body = body[:maxCallerScan]
	}
	for _, s := range []string{subject, body} {
		for _, m := range labelledNumber.FindAllStringSubmatch(s, 20) {
			if n := cleanNumber(m[1]); n != "" {
				return n
			}
		}
	}
	for _, s := range []string{subject, body} {
		for _, m := range bareNumber.FindAllStringSubmatch(s, 20) {
			if n := cleanNumber(m[1]); n != "" {
				return n
			}
		}
	}
	return ""
}

// cleanNumber trims a candidate number and returns it when it has as many
// digits as a phone number (7 to 15) and is not a date.
func cleanNumber(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, ".-/ ")
	if open := strings.LastIndexByte(s, '('); open > strings.LastIndexByte(s, ')') && open > 0 {
		s = strings.TrimRight(s[:open], ".-/ \t") // "+1 415 555 0100 (32 seconds"
	}
	if strings.Count(s, "(") != strings.Count(s, ")") {
		s = strings.TrimSpace(strings.TrimRight(strings.TrimLeft(s, "("), ")"))
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits < 7 || digits > 15 || dateLike.MatchString(s) {
		return ""
	}
	return s
}
