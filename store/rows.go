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
		if _, err := tx.ExecContext(ctx, s.rebind(b.String()), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
