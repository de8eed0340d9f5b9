package platform

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestSessionCache: on SQLite sessions are answered from memory, and what
// is written or deleted is what is found next, never an older form; a
// session that expired is not found.
func TestSessionCache(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	s := NewSessionStore(db)
	if s.cache == nil {
		t.Fatal("no cache on SQLite")
	}
	find := func(token string) (string, bool) {
		t.Helper()
		b, ok, err := s.FindCtx(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), ok
	}
	later := time.Now().Add(time.Hour)
	if err := s.CommitCtx(ctx, "tok", []byte("one"), later); err != nil {
		t.Fatal(err)
	}
	if b, ok := find("tok"); !ok || b != "one" {
		t.Fatalf("after commit: %q %v", b, ok)
	}
	// Answered from memory: a row changed behind the store's back is not
	// seen (only this process writes sessions on SQLite).
	db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE web_sessions SET data = ? WHERE token = ?`, []byte("behind"), "tok")
		return err
	})
	if b, _ := find("tok"); b != "one" {
		t.Fatalf("not from memory: %q", b)
	}
	if err := s.CommitCtx(ctx, "tok", []byte("two"), later); err != nil {
		t.Fatal(err)
	}
	if b, _ := find("tok"); b != "two" {
		t.Fatalf("after the second commit: %q", b)
	}
	if err := s.DeleteCtx(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, ok := find("tok"); ok {
		t.Fatal("found after delete")
	}
	// A reader that missed does not store what it read once a change has
	// begun meanwhile.
	if err := s.CommitCtx(ctx, "tok2", []byte("old"), later); err != nil {
		t.Fatal(err)
	}
	s.cache.change("tok2", nil) // forget it, as after a restart
	_, _, epoch := s.cache.get("tok2")
	s.cache.change("tok2", nil) // a commit begins
	s.cache.fill("tok2", cachedSession{data: []byte("old"), expiry: later}, epoch)
	if _, ok, _ := s.cache.get("tok2"); ok {
		t.Fatal("a stale read was cached")
	}
	// Expired: not found, whether in memory or not.
	if err := s.CommitCtx(ctx, "gone", []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, ok := find("gone"); ok {
		t.Fatal("expired session found")
	}
	// PostgreSQL: several instances share the sessions, nothing is cached.
	if NewSessionStore(&store.DB{Dialect: store.Postgres}).cache != nil {
		t.Fatal("cache on PostgreSQL")
	}
}
