package store_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// The named operations differ by database as their comments say.
func TestDialectOperations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		pg := db.Dialect == store.Postgres
		if db.Shared() != pg {
			t.Errorf("Shared() = %v", db.Shared())
		}
		err := db.Write(context.Background(), func(tx *store.Tx) error {
			if got, want := tx.ForUpdate(), map[bool]string{true: " FOR UPDATE", false: ""}[pg]; got != want {
				t.Errorf("ForUpdate() = %q, want %q", got, want)
			}
			if got, want := tx.OrFail(), map[bool]string{true: "", false: " OR FAIL"}[pg]; got != want {
				t.Errorf("OrFail() = %q, want %q", got, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// LOWER folds Cyrillic on both databases, so that searches and sorts
// ignore case in Russian as in English.
func TestLowerFoldsCyrillic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var got string
		var null *string
		if err := db.QueryRow(context.Background(), `SELECT LOWER('ИВАНОВ Пётр Ёлкин, ул. Мира 5'), LOWER(NULL)`).Scan(&got, &null); err != nil {
			t.Fatal(err)
		}
		if got != "иванов пётр ёлкин, ул. мира 5" || null != nil {
			t.Errorf("LOWER: %q, %v", got, null)
		}
		var n int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) WHERE LOWER('Иванов') LIKE LOWER(?)`, "%ИВАН%").Scan(&n); err != nil || n != 1 {
			t.Errorf("LIKE with LOWER: %d, %v", n, err)
		}
	})
}

// Only the store asks which database it runs on: the rest of the code uses
// its named operations (Shared, ForUpdate, OrFail, Backup…).
func TestDialectChecksStayInStore(t *testing.T) {
	check := regexp.MustCompile(`\.Dialect\b\s*(==|!=)|\.Dialect\(\)|store\.(Postgres|SQLite)\b`)
	for _, root := range []string{"../../cmd", "../../internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && filepath.Base(path) == "store" && filepath.Dir(path) == filepath.Clean("../../internal") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if check.MatchString(line) {
					t.Errorf("%s:%d asks for the dialect: %s", path, i+1, strings.TrimSpace(line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
