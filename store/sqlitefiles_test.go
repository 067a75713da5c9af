package store_test

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

// The SQLite database keeps raw mail and session hashes: the file and the
// -wal and -shm files beside it are private to the daemon's user, whether
// Earshot creates the database or finds it readable by others.
func TestSQLiteFilesArePrivate(t *testing.T) {
	cases := []struct {
		name string
		// before is the mode given to the database's files while another
		// connection holds them open; 0 creates a new database.
		before  fs.FileMode
		want    fs.FileMode
		logged  int
		logSays string
	}{
		{name: "a new database", want: 0o600},
		{name: "an existing database readable by all", before: 0o644, want: 0o600, logged: 3, logSays: "from=-rw-r--r--"},
		{name: "group write is taken away too", before: 0o660, want: 0o600, logged: 3, logSays: "from=-rw-rw----"},
		{name: "a private database is left as it is", before: 0o600, want: 0o600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "earshot.db")
			url := "sqlite:" + path
			if tc.before != 0 {
				// Another process has the database open in WAL mode,
				// so its -wal and -shm files exist.
				other := openQuiet(t, url, nil)
				write(t, other)
				for _, f := range []string{path, path + "-wal", path + "-shm"} {
					if err := os.Chmod(f, tc.before); err != nil {
						t.Fatal(err)
					}
				}
			}
			var log bytes.Buffer
			s := openQuiet(t, url, &log)
			write(t, s)
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				st, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				if got := st.Mode().Perm(); got != tc.want {
					t.Errorf("%s: mode %s, want %s", filepath.Base(f), got, tc.want)
				}
			}
			if n := strings.Count(log.String(), "made private"); n != tc.logged {
				t.Errorf("logged %d changes, want %d:\n%s", n, tc.logged, log.String())
			}
			if tc.logSays != "" && !strings.Contains(log.String(), tc.logSays) {
				t.Errorf("log does not say %q:\n%s", tc.logSays, log.String())
			}
		})
	}
}

// openQuiet opens and migrates the database at url, logging to log (or
// nowhere).
func openQuiet(t *testing.T, url string, log *bytes.Buffer) *store.Store {
	t.Helper()
	h := slog.DiscardHandler
	if log != nil {
		h = slog.NewTextHandler(log, nil)
	}
	s, err := store.Open(context.Background(), url, &store.Options{Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// write stores a rep, so that the write-ahead log has something in it.
func write(t *testing.T, s *store.Store) {
	t.Helper()
	if _, err := s.ImportReps(context.Background(), []model.Rep{{Name: "Dana", Emails: []string{"dana@example.test"}, Line: 2}}); err != nil {
		t.Fatal(err)
	}
}
