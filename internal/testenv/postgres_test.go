package testenv

import (
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
)

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func schemaOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}

func TestPostgresDistinctSchemas(t *testing.T) {
	a, b := Postgres(t), Postgres(t)
	if schemaOf(t, a) == "" || schemaOf(t, a) == schemaOf(t, b) {
		t.Fatalf("schemas %q and %q are not distinct", schemaOf(t, a), schemaOf(t, b))
	}
	dbA, dbB := openDB(t, a), openDB(t, b)
	var current string
	if err := dbA.QueryRow("select current_schema()").Scan(&current); err != nil {
		t.Fatal(err)
	}
	if current != schemaOf(t, a) {
		t.Fatalf("current_schema() = %q, want %q", current, schemaOf(t, a))
	}
	if _, err := dbA.Exec("create table items (id int primary key)"); err != nil {
		t.Fatal(err)
	}
	if _, err := dbA.Exec("insert into items values (1)"); err != nil {
		t.Fatal(err)
	}
	// The same unqualified name in the other schema is a different, empty table.
	if _, err := dbB.Exec("create table items (id int primary key)"); err != nil {
		t.Fatalf("create table in second schema: %v", err)
	}
	var n int
	if err := dbB.QueryRow("select count(*) from items").Scan(&n); err != nil || n != 0 {
		t.Fatalf("second schema sees %d rows (err %v), want 0", n, err)
	}
}

func TestPostgresDropsSchemaAtCleanup(t *testing.T) {
	if os.Getenv(EnvPostgres) == "" {
		Need(t, "postgres", EnvPostgres+" is not set")
	}
	var dsn string
	t.Run("user", func(t *testing.T) {
		dsn = Postgres(t)
		if _, err := openDB(t, dsn).Exec("create table leftovers (id int)"); err != nil {
			t.Fatal(err)
		}
	})
	if t.Failed() {
		return
	}
	if dsn == "" {
		t.Skip("postgres unavailable in the subtest")
	}
	var exists bool
	err := openDB(t, os.Getenv(EnvPostgres)).QueryRow(
		"select exists (select 1 from information_schema.schemata where schema_name = $1)", schemaOf(t, dsn)).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("schema %s still exists after the test's cleanup", schemaOf(t, dsn))
	}
}

func TestSchemaName(t *testing.T) {
	long := strings.Repeat("TestVeryLong/Sub-Test name", 10)
	a, err := schemaName(long)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := schemaName(long)
	if a == b {
		t.Fatalf("two schemas for one test share the name %q", a)
	}
	if len(a) > 63 {
		t.Fatalf("schema name %q is longer than 63 bytes", a)
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			t.Fatalf("schema name %q has character %q", a, r)
		}
	}
	if !strings.HasPrefix(a, "t_testverylong_sub_test_name") {
		t.Fatalf("schema name %q does not start from the test name", a)
	}
}
