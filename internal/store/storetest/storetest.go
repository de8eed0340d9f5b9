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
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kabinet-billing/kabinet/internal/ledger"
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

// Subscriber is a minimal account for tests of capabilities that only need
// one to exist: no password to check, no first charge.
type Subscriber struct {
	Login    string
	Contract string // default: the login
	Status   string // default: active
	At       time.Time
}

// AddSubscriber inserts s on the tariff "base" (500.00 a month, 100/50
// Mbit/s, made on first use) with its own ledger account, and returns its id.
func AddSubscriber(t testing.TB, db *store.DB, s Subscriber) int64 {
	t.Helper()
	if s.Contract == "" {
		s.Contract = s.Login
	}
	if s.Status == "" {
		s.Status = "active"
	}
	ctx := context.Background()
	var id int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		var tariff int64
		if err := tx.QueryRow(ctx, `SELECT id FROM tariffs WHERE code = 'base'`).Scan(&tariff); err != nil {
			if err := tx.QueryRow(ctx, `INSERT INTO tariffs (code, name, fee, down_kbps, up_kbps, created_at) VALUES ('base', 'Base', 50000, 100000, 50000, ?) RETURNING id`, s.At.UTC()).Scan(&tariff); err != nil {
				return err
			}
		}
		lid, err := ledger.Account(ctx, tx, "subscriber:"+s.Contract, ledger.KindSubscriber)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO accounts (login, contract_no, contract_date, password_hash, password_enc, tariff_id, status, ledger_id, created_at, updated_at)
			VALUES (?, ?, '2026-01-01', 'x', 'x', ?, ?, ?, ?, ?) RETURNING id`, s.Login, s.Contract, tariff, s.Status, lid, s.At.UTC(), s.At.UTC()).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
