package store

import (
	"errors"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrConflict means a write lost a race with another transaction: on a
// unique key (two items of one rep both claiming the month's first-intel
// bonus, say), or for a competitor's first report. Doing the work again
// at once sees the winner's rows.
var ErrConflict = errors.New("conflicting concurrent write")

// conflict wraps err with ErrConflict when it is a unique violation.
func conflict(err error) error {
	if err == nil {
		return nil
	}
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		return errors.Join(ErrConflict, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return errors.Join(ErrConflict, err)
	}
	return err
}
