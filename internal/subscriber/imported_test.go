package subscriber

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestImportedPasswordHashedAtFirstLogin: an account moved in without a
// portal hash logs in with its sealed password, which makes the hash;
// a wrong password neither logs in nor makes one.
func TestImportedPasswordHashedAtFirstLogin(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC))
	sealer, err := NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	d := New(db, clk, sealer, billing.New(db, clk, billing.DefaultRules()))
	id := storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "olduser", At: clk.Now()})
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = '', password_enc = ? WHERE id = ?`, sealer.Seal("olduser", "abc12"), id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hash := func() string {
		var h string
		if err := db.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE id = ?`, id).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	for _, pw := range []string{"abc1", "abc12 ", ""} {
		if _, err := d.Authenticate(ctx, "olduser", pw); !errors.Is(err, ErrBadPassword) {
			t.Errorf("password %q: %v, want ErrBadPassword", pw, err)
		}
	}
	if h := hash(); h != "" {
		t.Fatalf("a wrong password made the hash %q", h)
	}
	if _, err := d.Authenticate(ctx, "olduser", "abc12"); err != nil {
		t.Fatalf("the imported password: %v", err)
	}
	if h := hash(); !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("after the first login the hash is %q", h)
	}
	if _, err := d.Authenticate(ctx, "olduser", "abc12"); err != nil {
		t.Errorf("second login, by the hash: %v", err)
	}
	if _, err := d.Authenticate(ctx, "olduser", "abc13"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("wrong password after the hash: %v", err)
	}
}
