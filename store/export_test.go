package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
)

// SetBeforeCommit installs a hook that runs inside Receive's transaction
// after every insert and before the commit, for crash tests.
func SetBeforeCommit(s *Store, f func()) { s.beforeCommit = f }

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

// CompetitorReportedPlan explains, on PostgreSQL, the plan of
// CompetitorReported's query for the values given.
func CompetitorReportedPlan(ctx context.Context, s *Store, competitor string, from, to time.Time, exceptItem int64) (string, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `prepare competitor_reported as `+s.rebind(competitorReportedQuery)); err != nil {
		return "", err
	}
	var lines []string
	if err := tx.SelectContext(ctx, &lines, fmt.Sprintf(`explain execute competitor_reported (%s, %d, %s, %s)`,
		pq.QuoteLiteral(competitor), exceptItem, pq.QuoteLiteral(from.Format(time.RFC3339Nano)),
		pq.QuoteLiteral(to.Format(time.RFC3339Nano)))); err != nil {
		return "", err
	}
	// A prepared statement outlives the transaction on its connection.
	if _, err := tx.ExecContext(ctx, `deallocate competitor_reported`); err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}
