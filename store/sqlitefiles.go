package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// An SQLite database holds raw mail, transcripts and session hashes: its
// files are for the daemon's user alone. SQLite gives the -wal, -shm and
// -journal files the mode of the database file, so creating that file
// 0600 before SQLite opens it keeps all of them private.

// sqliteSidecars are the suffixes of the database file and of the files
// SQLite keeps beside it.
var sqliteSidecars = []string{"", "-wal", "-shm", "-journal"}

// secureSQLiteFiles creates the database file at path with mode 0600 when
// it does not exist, and takes the group's and others' permissions away
// from the database and its sidecar files when they have any, logging
// each change. A file it may not change (another user's) is logged, not
// fatal, so that a read-only copy still opens.
func secureSQLiteFiles(path string, log *slog.Logger) error {
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("create sqlite database %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create sqlite database %s: %w", path, err)
	}
	for _, suffix := range sqliteSidecars {
		name := path + suffix
		st, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite database file %s: %w", name, err)
		}
		from := st.Mode().Perm()
		if from&0o077 == 0 {
			continue
		}
		to := from & 0o700
		if err := os.Chmod(name, to); err != nil {
			log.Warn("sqlite database file is readable by others and could not be made private",
				"file", name, "mode", from.String(), "err", err)
			continue
		}
		log.Warn("sqlite database file was readable by others: made private",
			"file", name, "from", from.String(), "to", to.String())
	}
	return nil
}
