package store

import (
	"errors"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/earshot-dev/earshot/model"
)

// ErrConflict is model.ErrConflict.
var ErrConflict = model.ErrConflict

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

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23503" {
		return true
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
