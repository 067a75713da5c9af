// Package corpus lists the real-world mail files of the shared test corpora,
// for tests and benchmarks that run every message through a stage.
package corpus

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MailDir returns the mail corpus directory under sharedDir.
func MailDir(sharedDir string) string {
	return filepath.Join(sharedDir, "corpora", "mail")
}

// IndexFile returns the path of the corpus index, EMAIL_INDEX.tsv.
func IndexFile(sharedDir string) string {
	return filepath.Join(MailDir(sharedDir), "EMAIL_INDEX.tsv")
}

// Files returns the absolute path of every mail file of the corpus under
// sharedDir (the shared folder that holds corpora/mail), sorted. Licence
// files, READMEs, dot files and the index itself are not mail and are left
// out.
func Files(sharedDir string) ([]string, error) {
	root, err := filepath.Abs(MailDir(sharedDir))
	if err != nil {
		return nil, fmt.Errorf("corpus: resolve %s: %w", sharedDir, err)
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isMail(d.Name()) {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("corpus: walk %s: %w", root, err)
	}
	sort.Strings(files)
	return files, nil
}

// isMail reports whether a file in the corpus tree is a mail file rather
// than a licence, a README, a dot file or the index.
func isMail(name string) bool {
	if strings.HasPrefix(name, ".") || name == "EMAIL_INDEX.tsv" {
		return false
	}
	upper := strings.ToUpper(name)
	for _, prefix := range []string{"LICENSE", "MIT-LICENSE", "README", "COPYING"} {
		if strings.HasPrefix(upper, prefix) {
			return false
		}
	}
	return true
}

// Index reads EMAIL_INDEX.tsv and returns its rows keyed by absolute path;
// each row maps column names to values.
func Index(sharedDir string) (map[string]map[string]string, error) {
	b, err := os.ReadFile(IndexFile(sharedDir))
	if err != nil {
		return nil, fmt.Errorf("corpus: read index: %w", err)
	}
	root, err := filepath.Abs(MailDir(sharedDir))
	if err != nil {
		return nil, fmt.Errorf("corpus: resolve %s: %w", sharedDir, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) == 0 {
		return nil, fmt.Errorf("corpus: empty index")
	}
	cols := strings.Split(lines[0], "\t")
	rows := make(map[string]map[string]string, len(lines)-1)
	for n, l := range lines[1:] {
		vals := strings.Split(l, "\t")
		if len(vals) != len(cols) {
			return nil, fmt.Errorf("corpus: index line %d: %d columns, want %d", n+2, len(vals), len(cols))
		}
		row := make(map[string]string, len(cols))
		for i, c := range cols {
			row[c] = vals[i]
		}
		rows[filepath.Join(root, filepath.FromSlash(row["path"]))] = row
	}
	return rows, nil
}
