package apitoken

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)

func addAccount(t *testing.T, db *store.DB, login string) int64 {
	return storetest.AddSubscriber(t, db, storetest.Subscriber{Login: login, At: t0})
}

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		s := New(db, clk)
		alice, bob := addAccount(t, db, "alice"), addAccount(t, db, "bob")
		secret, tok, err := s.Issue(ctx, alice, "  Pixel 9  ")
		if err != nil {
			t.Fatal(err)
		}
		_, bobTok, _ := s.Issue(ctx, bob, "iPhone")
		got, err := s.Check(ctx, secret)
		if err != nil || got.ID != tok.ID || got.AccountID != alice || got.Name != "Pixel 9" {
			t.Fatalf("check: %+v %v", got, err)
		}
		for _, bad := range []string{"", "kbt_", secret + "x", secret[4:], "Bearer " + secret} {
			if _, err := s.Check(ctx, bad); !errors.Is(err, ErrBadToken) {
				t.Errorf("%q: %v", bad, err)
			}
		}
		clk.Advance(2 * time.Minute)
		got, _ = s.Check(ctx, secret)
		if !got.LastUsedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Errorf("last use %s", got.LastUsedAt)
		}
		if err := s.Revoke(ctx, alice, bobTok.ID); !errors.Is(err, derrors.NotFound) {
			t.Errorf("alice revokes bob's token: %v", err)
		}
		if ls, _ := s.List(ctx, alice); len(ls) != 1 || ls[0].ID != tok.ID {
			t.Errorf("alice's list: %+v", ls)
		}
		if err := s.Revoke(ctx, alice, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(ctx, secret); !errors.Is(err, ErrBadToken) {
			t.Errorf("revoked token checks: %v", err)
		}
		if err := s.Revoke(ctx, alice, tok.ID); !errors.Is(err, derrors.NotFound) {
			t.Errorf("second revoke: %v", err)
		}
		if ls, _ := s.List(ctx, alice); len(ls) != 0 {
			t.Errorf("revoked token listed: %+v", ls)
		}
	})
}
