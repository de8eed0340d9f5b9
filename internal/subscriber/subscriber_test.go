package subscriber_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// TestLoginErrorsNameNoLogin: what was typed into the login field may be
// the password; the errors of a login (which the portal and the API log
// when they are not a plain refusal) never carry it.
func TestLoginErrorsNameNoLogin(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	dir := subscriber.New(db, clk, sealer, billing.New(db, clk, billing.DefaultRules()))
	const typed = "Very-Secret-1"
	if _, err := dir.Authenticate(ctx, typed, "x"); !errors.Is(err, subscriber.ErrBadPassword) {
		t.Fatalf("unknown login: %v", err)
	}
	_, err := dir.ByLogin(ctx, typed)
	if !errors.Is(err, derrors.NotFound) || strings.Contains(strings.ToLower(err.Error()), strings.ToLower(typed)) {
		t.Errorf("not found: %v", err)
	}
	db.Close()
	for name, err := range map[string]error{
		"Authenticate": func() error { _, err := dir.Authenticate(ctx, typed, "x"); return err }(),
		"ByLogin":      func() error { _, err := dir.ByLogin(ctx, typed); return err }(),
	} {
		if err == nil || strings.Contains(strings.ToLower(err.Error()), strings.ToLower(typed)) {
			t.Errorf("%s with the database closed: %v", name, err)
		}
	}
}
