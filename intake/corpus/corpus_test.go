package corpus

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestFiles(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared")
	if _, err := os.Stat(IndexFile(shared)); err != nil {
		t.Skipf("shared corpora not found at %s (%v): the corpus helpers need the shared folder beside the repository", shared, err)
	}
	files, err := Files(shared)
	if err != nil {
		t.Fatal(err)
	}
	index, err := Index(shared)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 || len(files) != len(index) {
		t.Fatalf("Files returned %d files, the index lists %d", len(files), len(index))
	}
	if !sort.StringsAreSorted(files) {
		t.Error("Files is not sorted")
	}
	for _, f := range files {
		if !filepath.IsAbs(f) {
			t.Errorf("%s is not absolute", f)
		}
		if _, listed := index[f]; !listed {
			t.Errorf("%s is not in the index", f)
		}
		if base := strings.ToUpper(filepath.Base(f)); strings.Contains(base, "LICENSE") || strings.HasPrefix(base, "README") {
			t.Errorf("%s is not mail", f)
		}
	}
}

func TestIsMail(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"sample04.eml", true},
		{"simple_dsn.raw", true},
		{"part-empty.golden", true},
		{"LICENSE", false},
		{"LICENSE.MPL-2.0", false},
		{"MIT-LICENSE", false},
		{"README.md", false},
		{".gitattributes", false},
		{"EMAIL_INDEX.tsv", false},
	}
	for _, tt := range tests {
		if got := isMail(tt.name); got != tt.want {
			t.Errorf("isMail(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFilesMissingDir(t *testing.T) {
	if _, err := Files(t.TempDir()); err == nil {
		t.Error("Files on a folder without corpora returned no error")
	}
}
