package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// SetBeforeCommit installs a hook that runs inside Receive's transaction
// after every insert and before the commit, for crash tests.
func SetBeforeCommit(s *Store, f func()) { s.beforeCommit = f }

// QueueSearch queues items for the search indexer in tx, as completion
// does.
func QueueSearch(ctx context.Context, s *Store, tx *sqlx.Tx, ids ...int64) error {
	return s.queueSearch(ctx, tx, ids...)
}

// TsvectorOf, TsqueryOf and SearchText are the search's builders.
var (
	TsvectorOf = tsvectorOf
	TsqueryOf  = tsqueryOf
	SearchText = searchText
)

// MigrateDownTo rolls the schema back to version v.
func MigrateDownTo(ctx context.Context, s *Store, v int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, v)
	return err
}

// ClaimPlans explains, on PostgreSQL, the generic plans of the claims of
// items and of outbox messages: the plans PostgreSQL may settle on for
// their prepared statements.
func ClaimPlans(ctx context.Context, s *Store) (map[string]string, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `set local plan_cache_mode = force_generic_plan`); err != nil {
		return nil, err
	}
	plans := map[string]string{}
	for _, c := range []struct {
		table string
		state claimState
		cols  string
		args  string
	}{
		{"items", claimReceived, claimItemCols, "('w', now(), now(), 20, 1000)"},
		{"outbox", claimPending, outboxCols, "('w', now(), now(), 20)"},
	} {
		if _, err := tx.ExecContext(ctx, `prepare claim_`+c.table+` as `+s.rebind(claimQuery(c.table, c.state, c.cols))); err != nil {
			return nil, err
		}
		var lines []string
		if err := tx.SelectContext(ctx, &lines, `explain execute claim_`+c.table+c.args); err != nil {
			return nil, err
		}
		plans[c.table] = strings.Join(lines, "\n")
		// A prepared statement outlives the transaction on its connection.
		if _, err := tx.ExecContext(ctx, `deallocate claim_`+c.table); err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// ReportPlans explains, on PostgreSQL, the plans of the first-report
// check's query for the values given ("one"), and of the batch's query
// asking it n times ("batch").
func ReportPlans(ctx context.Context, s *Store, competitor string, from, to time.Time, exceptItem int64, n int) (map[string]string, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	lit := func(t time.Time) string { return pq.QuoteLiteral(t.Format(time.RFC3339Nano)) }
	plans := map[string]string{}
	for name, c := range map[string]struct{ prepare, args string }{
		"one": {s.rebind(competitorReportedQuery), fmt.Sprintf("%s, %s, %s, %d",
			pq.QuoteLiteral(competitor), lit(from), lit(to), exceptItem)},
		"batch": {reportsQuery, fmt.Sprintf("array_fill(%s::text, array[%d]), array_fill(%d::bigint, array[%d]), "+
			"array_fill(%s::timestamptz, array[%d]), array_fill(%s::timestamptz, array[%d])",
			pq.QuoteLiteral(competitor), n, exceptItem, n, lit(from), n, lit(to), n)},
	} {
		if _, err := tx.ExecContext(ctx, `prepare report_`+name+` as `+c.prepare); err != nil {
			return nil, err
		}
		var lines []string
		if err := tx.SelectContext(ctx, &lines, `explain execute report_`+name+` (`+c.args+`)`); err != nil {
			return nil, err
		}
		plans[name] = strings.Join(lines, "\n")
		// A prepared statement outlives the transaction on its connection.
		if _, err := tx.ExecContext(ctx, `deallocate report_`+name); err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// OriginalsHeld reports how many originals s keeps for its notices, and
// their bytes.
func OriginalsHeld(s *Store) (n, size int) { return s.originals.held() }

// held reports how many originals are kept and their bytes.
func (o *originals) held() (n, size int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.byItem), o.size
}

// TextArray is a text[] parameter in the binary array format.
func TextArray(a []string) any { return textArray(a) }
