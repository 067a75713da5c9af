package intake

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDir returns the shared reference folder beside the repository, or
// skips the test when it is absent.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join("..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "corpora", "mail", "EMAIL_INDEX.tsv")); err != nil {
		tb.Skipf("shared corpora not found at %s (%v): corpus tests need the shared folder beside the repository", dir, err)
	}
	return dir
}

// readTestdata reads a file under testdata/.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read testdata: %v", err)
	}
	return b
}
