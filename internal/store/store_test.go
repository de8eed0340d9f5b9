package store_test

import (
	"context"
	"errors"
	"testing"

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
