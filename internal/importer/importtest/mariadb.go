package importtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// fixtures holds the source schemas as Ubilling and ABillS ship them (see
// its README).
var fixtures = func() string {
	if d := os.Getenv("KABINET_IMPORT_FIXTURES"); d != "" {
		return d
	}
	// Tests run on a developer's machine where the fixtures sit in a
	// "shared" directory above the checkout; elsewhere set the variable.
	_, file, _, _ := runtime.Caller(0)
	for d := filepath.Dir(file); d != filepath.Dir(d); d = filepath.Dir(d) {
		f := filepath.Join(d, "shared", "fixtures", "migrate-from")
		if _, err := os.Stat(filepath.Join(f, "ubilling", "stargazer.sql")); err == nil {
			return f
		}
	}
	return ""
}()

// MariaAddr is the test MariaDB server.
const MariaAddr = "127.0.0.1:3306"

// MariaRoot connects to the test MariaDB as root with multi-statements, or
// skips the test, saying so.
func MariaRoot(t testing.TB, dbName string) *sql.DB {
	t.Helper()
	c := mysql.NewConfig()
	c.Net, c.Addr, c.User, c.DBName = "tcp", MariaAddr, "root", dbName
	c.MultiStatements = true
	c.Timeout = 3 * time.Second
	c.Apply(mysql.Charset("utf8mb4", ""))
	conn, err := mysql.NewConnector(c)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	if err := db.Ping(); err != nil {
		db.Close()
		t.Skipf("import tests skipped: no MariaDB at %s (root, empty password): %v", MariaAddr, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// SourceDB creates a database of its own with the named fixture files
// loaded and returns its DSN as kabinet import takes it and a connection
// to fill it.
func SourceDB(t testing.TB, files ...string) (string, *sql.DB) {
	t.Helper()
	if fixtures == "" {
		t.Skip("import tests skipped: the source schemas (fixtures/migrate-from) are not here; set KABINET_IMPORT_FIXTURES")
	}
	root := MariaRoot(t, "")
	var b [5]byte
	rand.Read(b[:])
	name := "kbt_" + hex.EncodeToString(b[:])
	if _, err := root.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Exec("DROP DATABASE " + name) })
	db := MariaRoot(t, name)
	db.SetMaxOpenConns(1) // session settings (sql_mode) hold for every statement
	if err := LoadSchema(db, files...); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("SET SESSION sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("mysql://root@%s/%s", MariaAddr, name), db
}

// LoadSchema runs the named fixture files (paths under fixtures/migrate-from)
// on db, a connection with multi-statements on.
func LoadSchema(db *sql.DB, files ...string) error {
	if fixtures == "" {
		return fmt.Errorf("the source schemas (fixtures/migrate-from) are not here; set KABINET_IMPORT_FIXTURES")
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(fixtures, f))
		if err != nil {
			return err
		}
		var kept []string
		for _, line := range strings.Split(string(b), "\n") {
			// stargazer.sql names its own database; the caller's is already in use.
			if u := strings.ToUpper(strings.TrimSpace(line)); strings.HasPrefix(u, "CREATE DATABASE") || strings.HasPrefix(u, "USE ") {
				continue
			}
			kept = append(kept, line)
		}
		if _, err := db.Exec(strings.Join(kept, "\n")); err != nil {
			return fmt.Errorf("load %s: %w", f, err)
		}
	}
	return nil
}

// MustExec runs q or fails the test.
func MustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
