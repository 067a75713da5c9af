package intake

import (
	"fmt"
	"strings"
)

// maxWarnings bounds the warnings kept for one message, so a message made of
// thousands of broken parts cannot produce an unbounded list.
const maxWarnings = 64

// warnings collects parse problems, lowercase and without duplicates.
type warnings struct {
	list    []string
	seen    map[string]bool
	omitted int
}

// add records one problem. Values quoted into the text are shortened so a
// warning never carries a whole header or body.
func (w *warnings) add(format string, args ...any) {
	s := strings.Join(strings.Fields(strings.ToLower(fmt.Sprintf(format, args...))), " ")
	if w.seen[s] {
		return
	}
	if len(w.list) >= maxWarnings {
		w.omitted++
		return
	}
	if w.seen == nil {
		w.seen = make(map[string]bool)
	}
	w.seen[s] = true
	w.list = append(w.list, s)
}

// result returns the collected warnings, with a closing note when some were
// left out.
func (w *warnings) result() []string {
	if w.omitted > 0 {
		return append(w.list, fmt.Sprintf("%d more warnings omitted", w.omitted))
	}
	return w.list
}

// excerpt shortens s for quoting in a warning.
func excerpt(s string) string {
	const max = 60
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// isRuneStart reports whether b can start a UTF-8 encoded rune.
func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
