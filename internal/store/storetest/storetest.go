// Package storetest opens fresh migrated databases for tests: SQLite always,
// PostgreSQL when KABINET_TEST_POSTGRES names one (each test gets its own
// schema, dropped afterwards).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// SQLite opens a migrated database in a temporary directory.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// PostgresDSN makes a schema of its own on KABINET_TEST_POSTGRES and returns a
// DSN using it; it skips the test, saying so, when the variable is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("KABINET_TEST_POSTGRES")
	if base == "" {
		t.Skip("PostgreSQL tests skipped: KABINET_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test)")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema on %s: %v", base, err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a migrated database in a fresh schema, or skips.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// Each runs f against every engine available: the store conformance rule.
func Each(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			var db *store.DB
			if engine == "sqlite" {
				db = SQLite(t)
			} else {
				db = Postgres(t)
			}
			f(t, db)
		})
	}
}

// Name tells which engine a DB is, for messages.
func Name(db *store.DB) string { return strings.ToLower(string(db.Dialect)) }
