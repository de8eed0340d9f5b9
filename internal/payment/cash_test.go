package payment

import (
	"context"
	"errors"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

func TestCashCorrectionReversal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := testServiceOn(t, db)
		acct := addAccount(t, db, "100045", "active")

		p, err := svc.CashPayment(ctx, CashIn{AccountID: acct, Amount: 100000, Operator: "cashier1", Receipt: "R-1"})
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.CashPayment(ctx, CashIn{AccountID: acct, Amount: 100000, Operator: "cashier1", Receipt: "R-1"})
		if err != nil || again.ID != p.ID {
			t.Fatalf("repeated receipt: %+v %v", again, err)
		}
		if _, err := svc.CashPayment(ctx, CashIn{AccountID: acct, Amount: 1, Operator: "cashier1", Receipt: "R-1"}); err == nil {
			t.Error("receipt reused for another sum was accepted")
		}
		if _, err := svc.CashPayment(ctx, CashIn{AccountID: acct, Amount: 1, Receipt: "R-2"}); !errors.Is(err, ErrOperatorRequired) {
			t.Errorf("no operator: %v", err)
		}
		if b := balance(t, db, acct); b != 100000 {
			t.Fatalf("balance %s", b)
		}
		if pts, _ := svc.BonusBalance(ctx, acct); pts != 1000 {
			t.Errorf("bonus %s, want 1%% of 1000.00", pts)
		}

		if _, err := svc.Correct(ctx, Correction{AccountID: acct, Amount: -5000, Operator: "admin", Key: "k1"}); !errors.Is(err, ErrReasonRequired) {
			t.Errorf("correction without a reason: %v", err)
		}
		cid, err := svc.Correct(ctx, Correction{AccountID: acct, Amount: -5000, Reason: "double entry on 01.12", Operator: "admin", Key: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := svc.Correct(ctx, Correction{AccountID: acct, Amount: -5000, Reason: "double entry on 01.12", Operator: "admin", Key: "k1"}); again != cid {
			t.Errorf("repeated correction posted again: %d vs %d", again, cid)
		}
		if b := balance(t, db, acct); b != 95000 {
			t.Fatalf("balance after correction %s", b)
		}
		if _, err := svc.Reverse(ctx, cid, "", "admin"); !errors.Is(err, ErrReasonRequired) {
			t.Errorf("reversal without a reason: %v", err)
		}
		if _, err := svc.Reverse(ctx, cid, "wrong account", "admin"); err != nil {
			t.Fatal(err)
		}
		if b := balance(t, db, acct); b != 100000 {
			t.Fatalf("balance after reversing the correction %s", b)
		}

		// Spend some points, then reverse the cash payment: the rest of its
		// points go back, never below zero.
		if err := svc.SpendBonus(ctx, acct, 600, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reverse(ctx, p.LedgerTxnID, "counterfeit banknote", "admin"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Reverse(ctx, p.LedgerTxnID, "counterfeit banknote", "admin"); err != nil {
			t.Fatal("reversing twice:", err)
		}
		got, _ := svc.Get(ctx, acct, p.ID)
		if got.Status != StatusReversed {
			t.Errorf("payment %s after reversal", got.Status)
		}
		if b := balance(t, db, acct); b != 600 {
			t.Errorf("balance %s, want the 6.00 from points", b)
		}
		if pts, _ := svc.BonusBalance(ctx, acct); pts != 0 {
			t.Errorf("points %s after reversal", pts)
		}
		verifyBooks(t, db)
	})
}

func TestBonusNeverNegative(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := testServiceOn(t, db)
		acct := addAccount(t, db, "100045", "active")
		if _, err := svc.CashPayment(ctx, CashIn{AccountID: acct, Amount: 50000, Operator: "c", Receipt: "1"}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			points money.Amount
			key    string
			err    error
			left   money.Amount
		}{
			{600, "a", ErrInsufficientBonus, 500},
			{0, "b", ErrBadAmount, 500},
			{300, "c", nil, 200},
			{300, "c", nil, 200}, // repeated key: nothing more
			{201, "d", ErrInsufficientBonus, 200},
			{200, "e", nil, 0},
			{1, "f", ErrInsufficientBonus, 0},
		}
		for i, tt := range tests {
			err := svc.SpendBonus(ctx, acct, tt.points, tt.key)
			if !errors.Is(err, tt.err) {
				t.Errorf("step %d: %v, want %v", i, err, tt.err)
			}
			if pts, _ := svc.BonusBalance(ctx, acct); pts != tt.left {
				t.Errorf("step %d: %s points left, want %s", i, pts, tt.left)
			}
		}
		if b := balance(t, db, acct); b != 50500 {
			t.Errorf("balance %s: the 5.00 of points should be money now", b)
		}
		verifyBooks(t, db)
	})
}

// TestPaidDebtorUnlimited: a limited debtor whose payment clears the debt is
// active again, and the event that tells the NAS is committed with the credit.
func TestPaidDebtorUnlimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := testServiceOn(t, db)
		acct := addAccount(t, db, "100045", "active")
		err := db.Write(ctx, func(tx *store.Tx) error {
			if _, err := svc.biller.Charge(ctx, tx, acct, "fee:test", "tariff", "base", 50000, "", testNow); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE accounts SET status = 'limited', limited_since = ? WHERE id = ?`, testNow, acct)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		db.Subscribe(func(e store.Event) {
			if e.AccountID == acct {
				seen = append(seen, e.Kind)
			}
		})
		h, _ := NewOSMPHandler(testOSMPChannels(), svc, nil)
		status := func() string {
			var s string
			db.QueryRow(ctx, `SELECT status FROM accounts WHERE id = ?`, acct).Scan(&s)
			return s
		}
		osmpGet(t, h, "command=pay&txn_id=1&txn_date=20261201120000&account=100045&sum=200.00")
		if status() != "limited" || len(seen) != 1 {
			t.Fatalf("a partial payment: status %s, events %v", status(), seen)
		}
		osmpGet(t, h, "command=pay&txn_id=2&txn_date=20261201120000&account=100045&sum=300.00")
		if status() != "active" {
			t.Fatalf("paid debtor is %s", status())
		}
		want := []string{store.EventPaymentReceived, store.EventAccountUnlimited, store.EventPaymentReceived}
		if len(seen) != len(want) || seen[1] != want[1] || seen[2] != want[2] {
			t.Errorf("events %v, want %v", seen, want)
		}
		verifyBooks(t, db)
	})
}

// TestCashLimit: above the cashier's limit nothing is recorded without a
// manager's confirmation; a confirmed receipt sent again is a repeat.
func TestCashLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := testServiceOn(t, db)
		acct := addAccount(t, db, "100045", "active")
		take := func(in CashIn) (Payment, bool, error) {
			var p Payment
			var repeated bool
			err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				p, repeated, err = svc.CashPaymentTx(ctx, tx, in)
				return err
			})
			return p, repeated, err
		}
		limit := money.Rub(100000)
		in := CashIn{AccountID: acct, Amount: limit + 1, Operator: "cashier1", Receipt: "R-1", Limit: limit}
		if _, _, err := take(in); !errors.Is(err, ErrNeedsConfirmation) {
			t.Fatalf("above the limit: %v", err)
		}
		var rows int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM payments`).Scan(&rows)
		if b := balance(t, db, acct); b != 0 || rows != 0 {
			t.Fatalf("refused payment left balance %s, %d rows", b, rows)
		}
		in.ConfirmedBy = "manager1"
		first, repeated, err := take(in)
		if err != nil || repeated {
			t.Fatalf("confirmed: %v %v", repeated, err)
		}
		in.ConfirmedBy = ""
		again, repeated, err := take(in)
		if err != nil || !repeated || again.ID != first.ID {
			t.Errorf("repeat without confirmation: %+v %v %v", again, repeated, err)
		}
		in.Amount++
		if _, _, err := take(in); err == nil {
			t.Error("the receipt reused for another sum was accepted")
		}
		if b := balance(t, db, acct); b != limit+1 {
			t.Errorf("balance %s", b)
		}
		if _, err := CashLimits(map[string]string{"cashier": "ten"}); err == nil {
			t.Error("a bad limit was accepted")
		}
		if l, err := CashLimits(map[string]string{"cashier": "100000.00", "admin": "0", "manager": ""}); err != nil || len(l) != 1 || l["cashier"] != limit {
			t.Errorf("limits %v %v", l, err)
		}
	})
}
