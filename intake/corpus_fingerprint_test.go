package intake

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/intake/corpus"
)

// No two different messages of the shared corpora share a fingerprint, so
// none shares an item: files that do are byte for byte the same, or the
// same message by a reference parser (corpus.SameMessage: the same header
// fields but trace fields, the same body but line endings).
func TestCorpusFingerprints(t *testing.T) {
	msgs := normalizeCorpus(t)
	groups := map[string][]corpusMessage{}
	for _, c := range msgs {
		_, h := Fingerprint(c.raw)
		groups[h] = append(groups[h], c)
	}
	var identical int
	var pairs []string
	for _, g := range groups {
		for _, c := range g[1:] {
			if bytes.Equal(c.raw, g[0].raw) {
				identical++
				continue
			}
			why, same := corpus.SameMessage(g[0].raw, c.raw)
			if !same {
				t.Errorf("%s and %s share a fingerprint but are different messages: %s", g[0].rel, c.rel, why)
				continue
			}
			pairs = append(pairs, g[0].rel+" = "+c.rel+" ("+why+")")
		}
	}
	sort.Strings(pairs)
	t.Logf("%d files, %d fingerprints; %d files repeat another byte for byte; %d are the same message in other bytes:\n%s",
		len(msgs), len(groups), identical, len(pairs), strings.Join(pairs, "\n"))
}
