package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// Verify names the account whose balance drifted and the transaction that
// does not sum to zero; idempotency and reversal keep the books whole.
func TestPostVerifyReverse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
		var sub, cash int64
		var first ledger.Result
		err := db.Write(ctx, func(tx *store.Tx) error {
			var err error
			if sub, err = ledger.Account(ctx, tx, "subscriber:test", ledger.KindSubscriber); err != nil {
				return err
			}
			if cash, err = ledger.Account(ctx, tx, ledger.CashCode("cash"), ledger.KindCash); err != nil {
				return err
			}
			first, err = ledger.Post(ctx, tx, ledger.Txn{Key: "pay:cash:1", Kind: ledger.TxnPayment, Amount: 500,
				Postings: []ledger.Posting{{LedgerAccountID: sub, Amount: 500}, {LedgerAccountID: cash, Amount: -500}}}, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			txn  ledger.Txn
			err  error
			dup  bool
		}{
			{"same key again", ledger.Txn{Key: "pay:cash:1", Kind: ledger.TxnPayment, Postings: []ledger.Posting{{LedgerAccountID: sub, Amount: 500}, {LedgerAccountID: cash, Amount: -500}}}, nil, true},
			{"no key", ledger.Txn{Kind: ledger.TxnPayment, Postings: []ledger.Posting{{LedgerAccountID: sub, Amount: 1}, {LedgerAccountID: cash, Amount: -1}}}, ledger.ErrNoKey, false},
			{"unbalanced", ledger.Txn{Key: "u", Postings: []ledger.Posting{{LedgerAccountID: sub, Amount: 1}, {LedgerAccountID: cash, Amount: -2}}}, ledger.ErrUnbalanced, false},
			{"one posting", ledger.Txn{Key: "o", Postings: []ledger.Posting{{LedgerAccountID: sub, Amount: 0}}}, ledger.ErrUnbalanced, false},
		}
		for _, tt := range tests {
			var r ledger.Result
			err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				r, err = ledger.Post(ctx, tx, tt.txn, now)
				return err
			})
			if !errors.Is(err, tt.err) || r.Duplicate != tt.dup {
				t.Errorf("%s: %+v %v", tt.name, r, err)
			}
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			r, err := ledger.Reverse(ctx, tx, first.TxnID, "reverse:1", "wrong account", now)
			if err != nil || r.Duplicate {
				return err
			}
			again, err := ledger.Reverse(ctx, tx, first.TxnID, "reverse:1b", "twice", now)
			if err == nil && !again.Duplicate {
				t.Error("reversed twice")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := ledger.Balance(ctx, db, sub); b != 0 {
			t.Errorf("after reversal: %v", b)
		}
		if p, err := ledger.Verify(ctx, db); err != nil || len(p) != 0 {
			t.Fatalf("clean books: %v %v", p, err)
		}
		// Tamper: a balance edited by hand, and a posting removed.
		db.Writer().Exec(db.Rebind(`UPDATE ledger_accounts SET balance = balance + 1 WHERE id = ?`), sub)
		db.Writer().Exec(db.Rebind(`INSERT INTO ledger_txns (key, kind, amount, effective_at, created_at) VALUES ('lonely', 'test', 0, ?, ?)`), now, now)
		problems, err := ledger.Verify(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var text []string
		for _, p := range problems {
			text = append(text, p.Message)
		}
		all := strings.Join(text, "\n")
		if !strings.Contains(all, "subscriber:test") || !strings.Contains(all, "lonely") {
			t.Errorf("verify did not name the account and the transaction:\n%s", all)
		}
	})
}

// PostMany posts hundreds of transactions in chunks: each key once (a key
// posted before, or twice in the call, is a duplicate that moves nothing),
// and it returns the balances after the move.
func TestPostMany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
		const subs = 7
		err := db.Write(ctx, func(tx *store.Tx) error {
			cash, err := ledger.Account(ctx, tx, ledger.CashCode("bank"), ledger.KindCash)
			if err != nil {
				return err
			}
			var ids [subs]int64
			for i := range ids {
				if ids[i], err = ledger.Account(ctx, tx, fmt.Sprintf("subscriber:m%d", i), ledger.KindSubscriber); err != nil {
					return err
				}
			}
			pay := func(key string, i int) ledger.Txn {
				return ledger.Txn{Key: key, Kind: ledger.TxnPayment, Amount: 100, Postings: []ledger.Posting{
					{LedgerAccountID: ids[i%subs], Amount: 100}, {LedgerAccountID: cash, Amount: -100}}}
			}
			if _, err := ledger.Post(ctx, tx, pay("pay:bank:old", 0), now); err != nil {
				return err
			}
			// 301 = 9 chunks of 32 and one of 13; repeats across chunks, one old key.
			var txns []ledger.Txn
			for i := range 298 {
				txns = append(txns, pay(fmt.Sprintf("pay:bank:%d", i), i))
			}
			txns = append(txns, pay("pay:bank:5", 5), pay("pay:bank:old", 0), pay("pay:bank:297", 297))
			rs, balances, err := ledger.PostMany(ctx, tx, txns, now)
			if err != nil {
				return err
			}
			for i, r := range rs {
				if dup := i >= 298; r.Duplicate != dup || r.TxnID == 0 {
					t.Errorf("txn %d %s: %+v", i, txns[i].Key, r)
				}
			}
			if rs[298].TxnID != rs[5].TxnID || rs[300].TxnID != rs[297].TxnID {
				t.Error("a repeated key did not return its first transaction")
			}
			if got, want := balances[cash], money.Amount(-299*100); got != want {
				t.Errorf("cash balance returned %v, want %v", got, want)
			}
			if got, want := balances[ids[0]], money.Amount((1+43)*100); got != want {
				t.Errorf("subscriber 0 balance returned %v, want %v", got, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := ledger.Verify(ctx, db); err != nil || len(p) != 0 {
			t.Fatalf("books after PostMany: %v %v", p, err)
		}
	})
}
