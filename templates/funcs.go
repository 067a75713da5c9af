package templates

import (
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"
)

// textFuncs are the functions text templates may call.
func textFuncs() texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"bytes":    byteSize,
		"plural":   plural,
		"signed":   signed,
		"values":   values,
		"join":     strings.Join,
		"truncate": truncate,
		"date":     date,
		"hours":    hours,
		"quote":    quoteLines,
		"add":      add,
	}
}

// htmlFuncs are the functions HTML templates may call.
func htmlFuncs() htmltemplate.FuncMap {
	return htmltemplate.FuncMap{
		"bytes":    byteSize,
		"plural":   plural,
		"signed":   signed,
		"values":   values,
		"join":     strings.Join,
		"truncate": truncate,
		"date":     date,
		"hours":    hours,
		"add":      add,
	}
}

// byteSize writes a size for people: "512 bytes", "340 KB", "25.3 MB".
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1000*1000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	default:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
}

// add sums two numbers, e.g. to number a list from 1.
func add(a, b int) int { return a + b }

// plural writes n with the singular or plural word: "1 point", "3 points".
func plural(n int, one, many string) string {
	if n == 1 || n == -1 {
		return strconv.Itoa(n) + " " + one
	}
	return strconv.Itoa(n) + " " + many
}

// signed writes n with its sign: "+3", "-2", "0".
func signed(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// values joins tag values: "Acme, Globex".
func values(tags []Tag) string {
	vs := make([]string, len(tags))
	for i, t := range tags {
		vs[i] = t.Value
	}
	return strings.Join(vs, ", ")
}

// truncate shortens s to at most n characters (n >= 0), ending with
// "...". It reads s only as far as the cut: a notice quotes the first
// few thousand characters of texts that may be far longer. An invalid
// UTF-8 byte counts as one character and is written as U+FFFD.
func truncate(n int, s string) string {
	s = strings.TrimSpace(s)
	keep := max(0, n-3)
	cut, chars := len(s), 0
	for i := range s {
		if chars == keep {
			cut = i
		}
		if chars >= n {
			return strings.TrimRight(validUTF8(s[:cut]), " ") + "..."
		}
		chars++
	}
	return validUTF8(s)
}

// validUTF8 is s with each byte that is not UTF-8 written as U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}

// date writes a time as "Mon 2 Mar 2026 15:04".
func date(t time.Time) string { return t.Format("Mon 2 Jan 2006 15:04") }

// hours writes a duration in whole hours: "26h".
func hours(d time.Duration) string { return strconv.Itoa(int(d.Hours())) + "h" }

// quoteLines prefixes every line with "> ".
func quoteLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+l, " ")
	}
	return strings.Join(lines, "\n")
}
