package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

func TestWriteIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var delivered []store.Event
		db.Subscribe(func(e store.Event) { delivered = append(delivered, e) })
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO cities (code, name) VALUES (?, ?)`, "a", "A"); err != nil {
				return err
			}
			if err := tx.Emit(ctx, store.Event{Kind: "test"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var n int64
		db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM cities) + (SELECT COUNT(*) FROM events)`).Scan(&n)
		if n != 0 || len(delivered) != 0 {
			t.Errorf("rolled-back transaction left %d rows and delivered %d events", n, len(delivered))
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			return tx.Emit(ctx, store.Event{Kind: "test", AccountID: 0, Data: map[string]string{"k": "v"}})
		})
		if err != nil || len(delivered) != 1 || delivered[0].ID == 0 {
			t.Fatalf("committed event: %v %+v", err, delivered)
		}
		got, err := db.Events(ctx, 0, 10)
		if err != nil || len(got) != 1 || got[0].Data["k"] != "v" {
			t.Errorf("events table: %+v %v", got, err)
		}
		if !store.IsUniqueViolation(db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO cities (code, name) VALUES ('x', 'X')`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO cities (code, name) VALUES ('x', 'X')`)
			return err
		})) {
			t.Error("duplicate code not reported as a unique violation")
		}
	})
}

func TestTryLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		release, ok, err := db.TryLock(ctx, "billing")
		if err != nil || !ok {
			t.Fatalf("first lock: %v %v", ok, err)
		}
		if _, ok, _ := db.TryLock(ctx, "billing"); ok {
			t.Error("second holder got the lock")
		}
		if r, ok, _ := db.TryLock(ctx, "other"); !ok {
			t.Error("a different lock was refused")
		} else {
			r()
		}
		release()
		r, ok, err := db.TryLock(ctx, "billing")
		if err != nil || !ok {
			t.Errorf("after release: %v %v", ok, err)
		} else {
			r()
		}
	})
}

func TestOpenRefusesBadDSN(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "sqlite:", "sqlite::memory:", "sqlite:/no/such/dir/x.db", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"} {
		if db, err := store.Open(context.Background(), dsn); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

// An event committed through one handle (another instance, the CLI) reaches
// the subscribers of another handle that follows the table, once; a
// handle's own events are not delivered twice.
func TestFollowDeliversOtherProcessesEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, a *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b, err := store.Open(ctx, a.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		got := make(chan store.Event, 10)
		b.Subscribe(func(e store.Event) { got <- e })
		done := make(chan struct{})
		go func() { b.Follow(ctx, 5*time.Millisecond); close(done) }()
		time.Sleep(50 * time.Millisecond) // let Follow read its starting point
		for _, db := range []*store.DB{a, b} {
			if err := db.Write(ctx, func(tx *store.Tx) error {
				return tx.Emit(ctx, store.Event{Kind: "test", AccountID: 0, At: time.Now(), Data: map[string]string{"by": string(db.Dialect)}})
			}); err != nil {
				t.Fatal(err)
			}
		}
		var kinds []int64
		timeout := time.After(5 * time.Second)
		for len(kinds) < 2 {
			select {
			case e := <-got:
				kinds = append(kinds, e.ID)
			case <-timeout:
				t.Fatalf("delivered %v, want both events", kinds)
			}
		}
		select {
		case e := <-got:
			t.Errorf("delivered twice: %+v", e)
		case <-time.After(100 * time.Millisecond):
		}
		cancel()
		<-done
	})
}

// A relaxed write is still all-or-nothing and leaves the writer durable for
// the next ordinary write.
func TestWriteRelaxed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		if err := db.WriteRelaxed(ctx, func(tx *store.Tx) error {
			tx.Exec(ctx, `INSERT INTO cities (code, name) VALUES ('r1', 'R')`)
			return boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if err := db.WriteRelaxed(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO cities (code, name) VALUES ('r2', 'R')`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var n int64
		db.QueryRow(ctx, `SELECT COUNT(*) FROM cities WHERE code IN ('r1', 'r2')`).Scan(&n)
		if n != 1 {
			t.Errorf("cities %d, want only r2", n)
		}
		if db.Dialect == store.SQLite {
			// Every durable write flushes, whatever ran before it; runs of
			// relaxed ones do not.
			sync := func(write func(context.Context, func(*store.Tx) error) error) (n int) {
				write(ctx, func(tx *store.Tx) error { return tx.QueryRow(ctx, `PRAGMA synchronous`).Scan(&n) })
				return n
			}
			for i, tt := range []struct {
				write func(context.Context, func(*store.Tx) error) error
				want  int
			}{{db.WriteRelaxed, 1}, {db.WriteRelaxed, 1}, {db.Write, 2}, {db.WriteRelaxed, 1}, {db.Write, 2}, {db.Write, 2}} {
				if got := sync(tt.write); got != tt.want {
					t.Errorf("write %d ran at synchronous=%d, want %d", i, got, tt.want)
				}
			}
		}
	})
}

// A path with the characters a file: URI treats specially opens that file.
func TestSQLitePathIsEscaped(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := store.Open(ctx, "sqlite:"+dir+"/a#1?x=%20.db")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(ctx, "sqlite:"+dir+"/a.db")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var n int64
	b.QueryRow(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'accounts'`).Scan(&n)
	if n != 0 {
		t.Error("a path with '#' opened a.db")
	}
	if _, err := os.Stat(dir + "/a#1?x=%20.db"); err != nil {
		t.Errorf("file not created under its own name: %v", err)
	}
}

// On SQLite every connection gets the pragmas: WAL and foreign keys on each,
// the writer a 64 MB page cache and each of the many readers 16 MB.
func TestSQLiteConnectionSettings(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	read := func(q string) (v string) {
		t.Helper()
		if err := db.QueryRow(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	var writerCache string
	if err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, "PRAGMA cache_size").Scan(&writerCache)
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"journal_mode", read("PRAGMA journal_mode"), "wal"},
		{"foreign_keys", read("PRAGMA foreign_keys"), "1"},
		{"reader cache_size", read("PRAGMA cache_size"), "-16384"},
		{"writer cache_size", writerCache, "-65536"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
		}
	}
}

// Repeated write queries run from the writer's statement cache on SQLite,
// with the same results as unprepared ones, in durable and relaxed,
// committed and rolled-back, concurrent transactions.
func TestWriteStatementsArePrepared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				write := db.Write
				if i%3 == 0 {
					write = db.WriteRelaxed
				}
				errs <- write(ctx, func(tx *store.Tx) error {
					code := fmt.Sprintf("p%d", i)
					var id int64
					if err := tx.QueryRow(ctx, `INSERT INTO cities (code, name) VALUES (?, ?::text) RETURNING id`, code, "P").Scan(&id); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, `UPDATE cities SET name = name || ? WHERE id = ?`, "!", id); err != nil {
						return err
					}
					rows, err := tx.Query(ctx, `SELECT name FROM cities WHERE id = ?`, id)
					if err != nil {
						return err
					}
					defer rows.Close()
					for rows.Next() {
						var name string
						if err := rows.Scan(&name); err != nil || name != "P!" {
							return fmt.Errorf("name %q in the transaction: %v", name, err)
						}
					}
					if i%5 == 0 {
						return boom
					}
					return rows.Err()
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, boom) {
				t.Fatal(err)
			}
		}
		var n int64
		db.QueryRow(ctx, `SELECT COUNT(*) FROM cities WHERE code LIKE 'p%' AND name = 'P!'`).Scan(&n)
		if n != 32 {
			t.Errorf("%d cities committed, want 32 (40 less 8 rolled back)", n)
		}
		if db.Dialect == store.SQLite && db.WriterStatements() < 3 {
			t.Errorf("%d statements prepared on the writer, want the 3 repeated ones", db.WriterStatements())
		}
	})
}
