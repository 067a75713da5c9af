package intake

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/intake/corpus"
)

// FuzzNormalize checks that no input makes Normalize or Fingerprint panic
// or break the invariants of a Message. Seeds are the shared mail corpus
// (when present) and the hand-written testdata messages; crashers found
// earlier live in testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	if files, err := corpus.Files(filepath.Join("..", "..", "shared")); err == nil {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".eml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Normalize(bytes.NewReader(raw), &Options{MaxAudioBytes: 1 << 16})
		if err != nil {
			t.Fatalf("Normalize returned an error for in-memory input: %v", err)
		}
		for name, s := range map[string]string{"Subject": m.Subject, "Text": m.Text, "FullText": m.FullText, "Quoted": m.Quoted, "Signature": m.Signature} {
			if !utf8.ValidString(s) {
				t.Errorf("%s is not valid UTF-8: %q", name, s)
			}
		}
		for _, w := range m.Warnings {
			if w != strings.ToLower(w) || strings.ContainsAny(w, "\r\n") {
				t.Errorf("warning not lowercase on one line: %q", w)
			}
		}
		if len(m.Warnings) > maxWarnings+1 {
			t.Errorf("%d warnings, more than the cap", len(m.Warnings))
		}
		for _, a := range m.Attachments {
			if a.Data != nil && (!a.Audio || int64(len(a.Data)) != a.Size) {
				t.Errorf("attachment %q keeps %d bytes (audio %v, size %d)", a.Filename, len(a.Data), a.Audio, a.Size)
			}
		}
		id1, h1 := Fingerprint(raw)
		id2, h2 := Fingerprint(raw)
		if id1 != id2 || h1 != h2 || len(h1) != 64 {
			t.Errorf("Fingerprint not deterministic or malformed: %q %q / %q %q", id1, h1, id2, h2)
		}
	})
}
