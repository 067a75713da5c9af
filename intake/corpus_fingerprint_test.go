package intake

import (
	"bytes"
	"io"
	netmail "net/mail"
	"sort"
	"strings"
	"testing"
)

// No two different messages of the shared corpora share a fingerprint, so
// none shares an item: files that do are byte for byte the same, or the
// same message by a reference parser (net/mail): the same header fields
// but trace fields, and the same body but line endings.
func TestCorpusFingerprints(t *testing.T) {
	msgs := normalizeCorpus(t)
	groups := map[string][]corpusMessage{}
	for _, c := range msgs {
		_, h := Fingerprint(c.raw)
		groups[h] = append(groups[h], c)
	}
	var identical, same int
	var pairs []string
	for _, g := range groups {
		for _, c := range g[1:] {
			if bytes.Equal(c.raw, g[0].raw) {
				identical++
				continue
			}
			why, ok := sameMessage(g[0].raw, c.raw)
			if !ok {
				t.Errorf("%s and %s share a fingerprint but are different messages: %s", g[0].rel, c.rel, why)
				continue
			}
			same++
			pairs = append(pairs, g[0].rel+" = "+c.rel+" ("+why+")")
		}
	}
	sort.Strings(pairs)
	t.Logf("%d files, %d fingerprints; %d files repeat another byte for byte; %d are the same message in other bytes:\n%s",
		len(msgs), len(groups), identical, same, strings.Join(pairs, "\n"))
}

// sameMessage reports whether a and b are the same message by net/mail:
// equal header fields once trace fields are left out, and equal bodies once
// line endings are. It says how they differ, or why they are the same.
func sameMessage(a, b []byte) (string, bool) {
	ma, errA := netmail.ReadMessage(bytes.NewReader(a))
	mb, errB := netmail.ReadMessage(bytes.NewReader(b))
	if errA != nil || errB != nil {
		return "net/mail cannot read them and their bytes differ", false
	}
	ha, hb := withoutTrace(ma.Header), withoutTrace(mb.Header)
	for k, v := range ha {
		if strings.Join(v, "\n") != strings.Join(hb[k], "\n") {
			return "header " + k + " differs", false
		}
	}
	for k := range hb {
		if _, ok := ha[k]; !ok {
			return "header " + k + " only in one", false
		}
	}
	ba, _ := io.ReadAll(ma.Body)
	bb, _ := io.ReadAll(mb.Body)
	if !bytes.Equal(lfTrimmed(ba), lfTrimmed(bb)) {
		return "bodies differ", false
	}
	var why []string
	if headerLines(ma.Header) != headerLines(mb.Header) {
		why = append(why, "trace fields differ")
	}
	if bytes.Contains(a, []byte("\r\n")) != bytes.Contains(b, []byte("\r\n")) {
		why = append(why, "line endings differ")
	}
	if len(why) == 0 {
		why = append(why, "line breaks at the end differ")
	}
	return strings.Join(why, ", "), true
}

// withoutTrace returns h without its trace fields.
func withoutTrace(h netmail.Header) netmail.Header {
	out := netmail.Header{}
	for k, v := range h {
		if !isTraceField(strings.ToLower(k)) {
			out[k] = v
		}
	}
	return out
}

// headerLines returns h as sorted "key: values" lines.
func headerLines(h netmail.Header) string {
	var lines []string
	for k, v := range h {
		lines = append(lines, k+": "+strings.Join(v, "\n"))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// lfTrimmed returns b with CRLF and lone CR line endings as LF and no line
// breaks at the end.
func lfTrimmed(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	b = bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	return bytes.TrimRight(b, "\n")
}
