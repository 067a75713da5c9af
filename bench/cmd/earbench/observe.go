package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// observer reads earshot's database: progress counts while a run goes,
// and the facts the invariants are checked against. It is read-only.
type observer struct {
	db *sql.DB
}

// observerApp is the application_name of earbench's own connections, by
// which their backends are told apart from the daemon's.
const observerApp = "earbench-observer"

// openObserver connects to the database at url.
func openObserver(ctx context.Context, url string) (*observer, error) {
	db, err := sql.Open("postgres", withApp(url, observerApp))
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	db.SetMaxOpenConns(2)
	db.SetConnMaxIdleTime(5 * time.Second)
	return &observer{db: db}, nil
}

// withApp adds an application_name to a lib/pq URL.
func withApp(url, app string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "application_name=" + app
}

// backendPIDs lists the server processes of every earbench connection
// to the cluster (not only this database's): their CPU is the
// measurement's, not the daemon's.
func (o *observer) backendPIDs() []int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := o.db.QueryContext(ctx, `select pid from pg_stat_activity where application_name = $1`, observerApp)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			out = append(out, pid)
		}
	}
	return out
}

// Close closes the connection pool.
func (o *observer) Close() error { return o.db.Close() }

// snapshot is earshot's progress at one moment.
type snapshot struct {
	At          time.Time
	Receipts    int64
	Items       int64
	Processed   int64
	Quarantined int64
	AckRows     int64 // outbox acks in any state
	AcksSent    int64
	AcksSupp    int64
	Pending     int64 // outbox rows of any kind still pending
	Sent        int64 // outbox rows of any kind sent
	Failed      int64
	SearchQueue int64 // items waiting for their search vector
}

// Snapshot counts receipts, items by state and outbox rows by state. An
// unreachable database (a restart in progress) returns the error.
func (o *observer) Snapshot(ctx context.Context) (snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s := snapshot{At: time.Now()}
	err := o.db.QueryRowContext(ctx, `select
		(select count(*) from receipts),
		(select count(*) from items),
		(select count(*) from items where state = 'processed'),
		(select count(*) from items where state = 'quarantined'),
		(select count(*) from outbox where kind = 'ack'),
		(select count(*) from outbox where kind = 'ack' and state = 'sent'),
		(select count(*) from outbox where kind = 'ack' and state = 'suppressed'),
		(select count(*) from outbox where state = 'pending'),
		(select count(*) from outbox where state = 'sent'),
		(select count(*) from outbox where state = 'failed'),
		(select count(*) from search_queue)`).Scan(
		&s.Receipts, &s.Items, &s.Processed, &s.Quarantined, &s.AckRows, &s.AcksSent, &s.AcksSupp,
		&s.Pending, &s.Sent, &s.Failed, &s.SearchQueue)
	if err != nil {
		return s, fmt.Errorf("observe: snapshot: %w", err)
	}
	return s, nil
}

// sourceRow is one source's lease and cursor.
type sourceRow struct {
	Name        string
	Holder      string
	LeaseUntil  sql.NullTime
	UIDValidity uint32
	LastUID     uint32
}

// Sources lists the sources with their lease holder and IMAP cursor.
func (o *observer) Sources(ctx context.Context) ([]sourceRow, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rows, err := o.db.QueryContext(ctx, `select name, lease_holder, lease_until, cursor::text from sources order by name`)
	if err != nil {
		return nil, fmt.Errorf("observe: sources: %w", err)
	}
	defer rows.Close()
	var out []sourceRow
	for rows.Next() {
		var r sourceRow
		var cursor string
		if err := rows.Scan(&r.Name, &r.Holder, &r.LeaseUntil, &cursor); err != nil {
			return nil, fmt.Errorf("observe: sources: %w", err)
		}
		var c struct {
			UIDValidity uint32 `json:"uidvalidity"`
			LastUID     uint32 `json:"last_uid"`
		}
		_ = json.Unmarshal([]byte(cursor), &c)
		r.UIDValidity, r.LastUID = c.UIDValidity, c.LastUID
		out = append(out, r)
	}
	return out, rows.Err()
}

// count runs a query that returns one number.
func (o *observer) count(ctx context.Context, q string, args ...any) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var n int64
	if err := o.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("observe: %w", err)
	}
	return n, nil
}

// strings runs a query that returns one text column.
func (o *observer) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rows, err := o.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("observe: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// waitPaced is waitUntil with an interval, from the end of one snapshot
// to the start of the next, that pace chooses from the last two
// snapshots (prev is zero before the second), anew every pacingTick: a long measurement polls rarely,
// since each snapshot counts whole tables on a backend that competes for
// the cores the measured work runs on, and often once pace sees the end
// near, so the end is still timed closely.
func (o *observer) waitPaced(ctx context.Context, timeout time.Duration, pace func(prev, last snapshot) time.Duration,
	done func(snapshot) bool) (snapshot, error) {
	deadline := time.Now().Add(timeout)
	var prev, last snapshot
	var lastErr error
	tick := time.NewTicker(pacingTick)
	defer tick.Stop()
	for {
		s, err := o.Snapshot(ctx)
		polled := time.Now()
		if err == nil {
			prev, last, lastErr = last, s, nil
			if done(s) {
				return s, nil
			}
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				return last, fmt.Errorf("not done after %s: %w", timeout, lastErr)
			}
			return last, fmt.Errorf("not done after %s: %+v", timeout, last)
		}
		for time.Since(polled) < pace(prev, last) {
			select {
			case <-ctx.Done():
				return last, ctx.Err()
			case <-tick.C:
			}
		}
	}
}

// pacingTick is how often waitPaced asks its pace again.
const pacingTick = 10 * time.Millisecond

// waitUntil polls the database every interval until done accepts a
// snapshot, or the timeout passes. Database errors (a restart) are
// retried. It returns the last snapshot.
func (o *observer) waitUntil(ctx context.Context, timeout, interval time.Duration, done func(snapshot) bool) (snapshot, error) {
	return o.waitPaced(ctx, timeout, func(_, _ snapshot) time.Duration { return interval }, done)
}
