package store

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"
)

// maxRowsPerInsert bounds a multi-row insert well inside both databases'
// limits on bound parameters (SQLite 32,766, PostgreSQL 65,535).
const maxRowsPerInsert = 500

// insertRows inserts rows into table in as few statements as the
// parameter limits allow: one round trip for the usual handful of rows,
// where one statement per row cost a round trip and an executor start
// each. suffix follows the VALUES list (an ON CONFLICT clause).
func (s *Store) insertRows(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any, suffix string) error {
	return s.insertRowsReturning(ctx, tx, table, cols, rows, suffix, nil)
}

// insertRowsReturning is insertRows whose suffix ends in a RETURNING
// clause: scan reads each row returned. A nil scan returns nothing.
func (s *Store) insertRowsReturning(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any,
	suffix string, scan func(*sqlx.Rows) error) error {
	for len(rows) > 0 {
		n := min(len(rows), maxRowsPerInsert)
		var b strings.Builder
		b.WriteString("insert into ")
		b.WriteString(table)
		b.WriteString(" (")
		b.WriteString(strings.Join(cols, ", "))
		b.WriteString(") values ")
		group := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		args := make([]any, 0, n*len(cols))
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(group)
			args = append(args, r...)
		}
		if suffix != "" {
			b.WriteString(" ")
			b.WriteString(suffix)
		}
		if scan == nil {
			if _, err := tx.ExecContext(ctx, s.rebind(b.String()), args...); err != nil {
				return err
			}
		} else if err := queryEach(ctx, tx, s.rebind(b.String()), args, scan); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// queryEach runs q and calls scan on each row it returns.
func queryEach(ctx context.Context, tx *sqlx.Tx, q string, args []any, scan func(*sqlx.Rows) error) error {
	rows, err := tx.QueryxContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
