package intake

import (
	"bytes"
	"os"
	"testing"

	"github.com/earshot-dev/earshot/intake/corpus"
)

// loadCorpus reads every corpus file for a benchmark.
func loadCorpus(b *testing.B) ([][]byte, int64) {
	b.Helper()
	files, err := corpus.Files(sharedDir(b))
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([][]byte, 0, len(files))
	var total int64
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		total += int64(len(raw))
	}
	return msgs, total
}

// BenchmarkNormalizeCorpus normalizes the whole shared mail corpus per
// iteration and reports messages/s and MB/s.
func BenchmarkNormalizeCorpus(b *testing.B) {
	msgs, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, raw := range msgs {
			if _, err := Normalize(bytes.NewReader(raw), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkFingerprint fingerprints the whole shared mail corpus per
// iteration.
func BenchmarkFingerprint(b *testing.B) {
	msgs, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, raw := range msgs {
			Fingerprint(raw)
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "msgs/s")
}
