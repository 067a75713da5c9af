package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
)

// maxSchemaPrefix keeps schema names under PostgreSQL's 63-byte identifier limit.
const maxSchemaPrefix = 40

// Postgres returns a DSN for a fresh, empty schema (created for this test,
// dropped in t.Cleanup) on the shared server from EARSHOT_TEST_POSTGRES, with
// search_path set to that schema (lib/pq passes search_path to the server as a
// connection parameter). Parallel tests get distinct schemas.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		Need(t, "postgres", EnvPostgres+" is not set")
	}
	schema, err := schemaName(t.Name())
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := execAdmin(ctx, base, "create schema "+pq.QuoteIdentifier(schema)); err != nil {
		Need(t, "postgres", err.Error())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := execAdmin(ctx, base, "set lock_timeout = '10s'; drop schema "+pq.QuoteIdentifier(schema)+" cascade")
		if err != nil {
			t.Errorf("postgres: drop test schema (a connection or transaction left open?): %v", err)
		}
	})
	dsn, err := withParam(base, "search_path", schema)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	return dsn
}

// execAdmin runs statements on a short-lived connection to dsn.
func execAdmin(ctx context.Context, dsn, stmt string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return fmt.Errorf("open %s: %w", redact(dsn), err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s on %s: %w", strings.Fields(stmt)[0], redact(dsn), err)
	}
	return nil
}

// schemaName derives a unique lowercase schema name from a test name.
func schemaName(testName string) (string, error) {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= maxSchemaPrefix {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", fmt.Errorf("random schema suffix: %w", err)
	}
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(suffix[:]))
	return b.String(), nil
}

// withParam sets one query parameter in a URL-form DSN.
func withParam(dsn, key, value string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvPostgres, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redact hides a password in a URL-form DSN for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable dsn)"
	}
	return u.Redacted()
}
