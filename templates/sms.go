package templates

import (
	"strings"
	"unicode"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// SMS encodings.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet; each character is one septet.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension holds the characters that take an escape and a septet.
const gsmExtension = "\f^{}\\[~]|€"

// Segments describes how an SMS text is sent.
type Segments struct {
	// Encoding is GSM7 when every character is in the GSM alphabet, else UCS2.
	Encoding string
	// Units are septets for GSM-7 (extension characters count two) or
	// UTF-16 code units for UCS-2.
	Units int
	// Count is the number of segments: one up to 160 septets (70 UCS-2
	// units), then 153 (67) per segment of a concatenated message.
	Count int
}

// CountSegments reports the encoding and the number of segments of s. A
// concatenated message never splits an escape sequence or a surrogate
// pair, so a segment may carry one unit less than its maximum.
func CountSegments(s string) Segments {
	if s == "" {
		return Segments{Encoding: GSM7}
	}
	var units []int // the size of each character, in units
	enc := GSM7
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			units = append(units, 1)
		case strings.ContainsRune(gsmExtension, r):
			units = append(units, 2)
		default:
			enc = UCS2
		}
		if enc == UCS2 {
			break
		}
	}
	single, multi := 160, 153
	if enc == UCS2 {
		units = units[:0]
		for _, r := range s {
			units = append(units, utf16.RuneLen(r))
		}
		single, multi = 70, 67
	}
	total := 0
	for _, u := range units {
		total += u
	}
	if total <= single {
		return Segments{Encoding: enc, Units: total, Count: 1}
	}
	count, used := 1, 0
	for _, u := range units {
		if used+u > multi {
			count, used = count+1, 0
		}
		used += u
	}
	return Segments{Encoding: enc, Units: total, Count: count}
}

// ToGSM replaces characters outside the GSM alphabet with the nearest GSM
// text where one exists: typographic quotes and dashes, ellipses, unusual
// spaces, and accented letters (by dropping the accent). Anything else is
// kept, and CountSegments then counts the text as UCS-2.
func ToGSM(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsmBasic, r) || strings.ContainsRune(gsmExtension, r):
			b.WriteRune(r)
		case strings.ContainsRune("‘’‚‛′`´", r):
			b.WriteByte('\'')
		case strings.ContainsRune("“”„‟″«»", r):
			b.WriteByte('"')
		case strings.ContainsRune("‐‑‒–—―−•·", r):
			b.WriteByte('-')
		case r == '…':
			b.WriteString("...")
		case r == '\t' || unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteString(stripAccent(r))
		}
	}
	return b.String()
}

// stripAccent returns r without its combining marks when the rest is GSM
// text ("á" → "a"), else r unchanged.
func stripAccent(r rune) string {
	var b strings.Builder
	for _, d := range norm.NFD.String(string(r)) {
		if !unicode.Is(unicode.Mn, d) {
			b.WriteRune(d)
		}
	}
	if out := b.String(); out != "" && CountSegments(out).Encoding == GSM7 {
		return out
	}
	return string(r)
}

// FitSMS converts s with ToGSM and, when it needs more than maxSegments
// segments, cuts it at a word boundary and ends it with "...".
func FitSMS(s string, maxSegments int) string {
	s = ToGSM(strings.TrimSpace(s))
	if CountSegments(s).Count <= maxSegments {
		return s
	}
	words := strings.Fields(s)
	for n := len(words) - 1; n > 0; n-- {
		cut := strings.Join(words[:n], " ") + "..."
		if CountSegments(cut).Count <= maxSegments {
			return cut
		}
	}
	r := []rune(s)
	for n := len(r) - 1; n > 0; n-- {
		if cut := string(r[:n]) + "..."; CountSegments(cut).Count <= maxSegments {
			return cut
		}
	}
	return ""
}
