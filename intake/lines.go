package intake

import "bytes"

// readableLines returns raw in a shape go-message reads: lone CR line
// endings (classic Mac OS) become CRLF, and blank or white-space-only lines
// before the header are dropped. raw itself is never modified; it is
// copied only when it has to change. Each change is a warning.
func readableLines(raw []byte, w *warnings) []byte {
	if crOnly(raw) {
		w.add("classic mac line endings (cr) read as crlf")
		raw = crToCRLF(raw)
	}
	skipped := 0
	rest := raw
	for len(rest) > 0 {
		line, next := cutLine(rest)
		if len(bytes.TrimSpace(line)) > 0 {
			break
		}
		skipped++
		rest = next
	}
	if skipped == 0 || len(rest) == 0 || !isHeaderLine(bytes.TrimRight(firstLine(rest), "\r\n")) {
		return raw
	}
	w.add("%d blank lines before the header skipped", skipped)
	return rest
}

// crOnly reports whether raw's first line break is a lone CR, as in mail
// written on classic Mac OS.
func crOnly(raw []byte) bool {
	i := bytes.IndexAny(raw, "\r\n")
	return i >= 0 && raw[i] == '\r' && (i+1 == len(raw) || raw[i+1] != '\n')
}

// crToCRLF returns a copy of raw with every lone CR turned into CRLF.
func crToCRLF(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+bytes.Count(raw, []byte{'\r'}))
	for i, c := range raw {
		out = append(out, c)
		if c == '\r' && (i+1 == len(raw) || raw[i+1] != '\n') {
			out = append(out, '\n')
		}
	}
	return out
}

// firstLine returns the first line of b with its line ending.
func firstLine(b []byte) []byte {
	line, _ := cutLine(b)
	return line
}
