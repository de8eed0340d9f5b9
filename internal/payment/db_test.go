package payment

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

var testNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// addAccount makes a subscriber with contract number contract (also its
// login, with an "l" in front) and the given status.
func addAccount(t testing.TB, db *store.DB, contract, status string) int64 {
	return storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "l" + contract, Contract: contract, Status: status, At: testNow})
}

func balance(t testing.TB, db *store.DB, accountID int64) money.Amount {
	t.Helper()
	var b int64
	if err := db.QueryRow(context.Background(), `SELECT l.balance FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id WHERE a.id = ?`, accountID).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return money.Amount(b)
}

func verifyBooks(t testing.TB, db *store.DB) {
	t.Helper()
	problems, err := ledger.Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error("ledger:", p)
	}
}

func testService(t testing.TB, procs ...Processor) (*Service, *store.DB, *clock.Fake) {
	t.Helper()
	db := storetest.SQLite(t)
	svc, clk := testServiceOn(t, db, procs...)
	return svc, db, clk
}

func testServiceOn(t testing.TB, db *store.DB, procs ...Processor) (*Service, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(testNow)
	return NewService(db, clk, billing.New(db, clk, billing.DefaultRules()), procs, Options{PublicURL: "https://isp.example/", BonusPercentBP: 100}), clk
}
