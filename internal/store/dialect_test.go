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

// The named operations differ by database as their comments say, and a
// sized statement is built once per database and row count.
func TestDialectOperations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		pg := db.Dialect == store.Postgres
		if db.Shared() != pg {
			t.Errorf("Shared() = %v", db.Shared())
		}
		builds := 0
		q := &store.Sized{Build: func(orFail string, rows int) string {
			builds++
			return "UPDATE" + orFail + " t SET n = n WHERE id IN (" + strings.Repeat("?, ", rows-1) + "?)"
		}}
		err := db.Write(context.Background(), func(tx *store.Tx) error {
			if got, want := tx.ForUpdate(), map[bool]string{true: " FOR UPDATE", false: ""}[pg]; got != want {
				t.Errorf("ForUpdate() = %q, want %q", got, want)
			}
			for range 3 {
				four := q.Text(tx, 4)
				if strings.Contains(four, "OR FAIL") == pg || strings.Count(four, "?") != 4 {
					t.Errorf("Text(4) = %q", four)
				}
				q.Text(tx, 8)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if builds != 2 {
			t.Errorf("%d builds for two row counts", builds)
		}
	})
}

// Only the store asks which database it runs on: the rest of the code uses
// its named operations (Shared, ForUpdate, Sized, Backup…).
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
