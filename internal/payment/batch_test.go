package payment

import (
	"context"
	"errors"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// One batch of bank payments in one transaction gives what paying them one
// by one would: repeats inside the batch and of earlier payments credit
// nothing and get the first id, a reused id with another account is
// refused, refusals do not fail the others, and a debtor paid twice is
// unlimited once.
func TestPayBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _ := testServiceOn(t, db)
		active := addAccount(t, db, "200001", "active")
		debtor := addAccount(t, db, "200002", "limited")
		addAccount(t, db, "200003", "closed")
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := svc.biller.Charge(ctx, tx, debtor, "test:debt", "tariff", "base", 300_00, "", testNow)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var unlimited, received int
		db.Subscribe(func(e store.Event) {
			switch {
			case e.Kind == store.EventAccountUnlimited && e.AccountID == debtor:
				unlimited++
			case e.Kind == store.EventPaymentReceived:
				received++
			}
		})
		ch := OSMPChannelName("sber")
		old := &bankPay{channel: ch, txn: "old", account: "200001", sum: 10_00, source: SourceOnline}
		if err := svc.payAll(ctx, []*bankPay{old}); err != nil || old.err != nil || !old.credited {
			t.Fatalf("earlier payment: %+v %v", old, err)
		}
		batch := []*bankPay{
			{txn: "1", account: "200001", sum: 100_00},
			{txn: "2", account: "200002", sum: 100_00},
			{txn: "1", account: "200001", sum: 100_00}, // repeated in the batch
			{txn: "3", account: "200002", sum: 250_00},
			{txn: "old", account: "200001", sum: 10_00}, // repeat of an earlier one
			{txn: "2", account: "200001", sum: 100_00},  // the id again, another account
			{txn: "4", account: "999999", sum: 1_00},
			{txn: "5", account: "200003", sum: 1_00},
			{txn: "6", account: "l200001", sum: 5_00}, // by login
		}
		for _, p := range batch {
			p.channel, p.source = ch, SourceOnline
		}
		if err := svc.payAll(ctx, batch); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			credited bool
			err      error
			firstID  int64
		}{
			{credited: true},
			{credited: true},
			{firstID: batch[0].id},
			{credited: true},
			{firstID: old.id},
			{err: errTxnConflict},
			{err: errAccountNotFound},
			{err: errAccountInactive},
			{credited: true},
		}
		for i, tt := range tests {
			p := batch[i]
			if p.credited != tt.credited || !errors.Is(p.err, tt.err) || (tt.err == nil && p.id == 0) || (tt.firstID != 0 && p.id != tt.firstID) {
				t.Errorf("payment %d (txn %s): credited %v, id %d, err %v; want %+v", i, p.txn, p.credited, p.id, p.err, tt)
			}
		}
		if b := balance(t, db, active); b != 115_00 {
			t.Errorf("active balance %s, want 115.00", b)
		}
		if b := balance(t, db, debtor); b != 50_00 {
			t.Errorf("debtor balance %s, want 50.00", b)
		}
		var status string
		var debtSince *string
		db.QueryRow(ctx, `SELECT status, debt_since FROM accounts WHERE id = ?`, debtor).Scan(&status, &debtSince)
		if status != "active" || debtSince != nil || unlimited != 1 {
			t.Errorf("debtor after paying: %s, debt since %v, unlimited %d times", status, debtSince, unlimited)
		}
		if received != 5 {
			t.Errorf("%d payment events, want 5 (4 in the batch and the earlier one)", received)
		}
		if pts, err := svc.BonusBalance(ctx, active); err != nil || pts != money.Amount(115) {
			t.Errorf("bonus points %s %v, want 1%% of 115.00", pts, err)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM payments WHERE ledger_txn_id IS NOT NULL`).Scan(&n)
		if n != 5 {
			t.Errorf("%d payments with their ledger transaction, want 5", n)
		}
		verifyBooks(t, db)
	})
}

// A bank names an account by contract number or login; the number wins
// when one account's login is another's number, and a closed contract may
// not be paid.
func TestFindPayable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		byNumber := addAccount(t, db, "300001", "active")
		loginLikeNumber := storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "300001", Contract: "300002", At: testNow})
		closed := addAccount(t, db, "300003", "closed")
		tests := []struct {
			name string
			id   int64
			err  error
		}{
			{"300001", byNumber, nil},
			{"l300001", byNumber, nil},
			{"300002", loginLikeNumber, nil},
			{"300003", closed, errAccountInactive},
			{"300004", 0, errAccountNotFound},
			{"", 0, errAccountNotFound},
		}
		var names []string
		for _, tt := range tests {
			id, err := findPayable(ctx, db, tt.name)
			if id != tt.id || !errors.Is(err, tt.err) {
				t.Errorf("%q: %d %v, want %d %v", tt.name, id, err, tt.id, tt.err)
			}
			names = append(names, tt.name)
		}
		// All at once, as a batch looks them up.
		names = append(names, "300001")
		found, err := findPayables(ctx, db, names)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			if got := found[tt.name]; got.id != tt.id || !errors.Is(got.err, tt.err) {
				t.Errorf("batch %q: %d %v, want %d %v", tt.name, got.id, got.err, tt.id, tt.err)
			}
		}
	})
}
