package billing

import (
	"context"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"slices"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// PaymentKey is the idempotency key of a payment: one per channel and the
// channel's own id of it.
func PaymentKey(channel, externalID string) string { return "pay:" + channel + ":" + externalID }

// Credit puts a payment of amount received through channel on the account,
// debiting the channel's cash account, under the key (channel, externalID).
// In the same transaction it settles the debt: a payment that clears it
// lifts the limit at once. A repeated (channel, externalID) changes nothing
// and returns the first transaction with Duplicate set.
func (b *Biller) Credit(ctx context.Context, tx *store.Tx, accountID int64, channel, externalID string, amount money.Amount, memo string, at time.Time) (ledger.Result, error) {
	rs, err := b.CreditMany(ctx, tx, []Payment{{AccountID: accountID, Channel: channel, ExternalID: externalID, Amount: amount, Memo: memo, At: at}}, at)
	if err != nil {
		return ledger.Result{}, err
	}
	return rs[0], nil
}

// Payment is one payment to credit.
type Payment struct {
	AccountID           int64
	Channel, ExternalID string
	Amount              money.Amount
	Memo                string
	At                  time.Time // when the money was paid: the ledger's effective date
}

// CreditMany is Credit for a batch of payments in one transaction, posted
// together (see ledger.PostMany); each account is settled once, after all
// of its payments, which gives what crediting them one by one would, since
// payments only raise a balance. A result per payment, in order.
func (b *Biller) CreditMany(ctx context.Context, tx *store.Tx, pays []Payment, now time.Time) ([]ledger.Result, error) {
	var ids []int64
	for _, p := range pays {
		if p.Amount <= 0 {
			return nil, fmt.Errorf("payment %s/%s: amount must be positive: %w", p.Channel, p.ExternalID, derrors.Invalid)
		}
		if p.Channel == "" || p.ExternalID == "" {
			return nil, fmt.Errorf("payment: channel and external id are required: %w", derrors.Invalid)
		}
		if !slices.Contains(ids, p.AccountID) {
			ids = append(ids, p.AccountID)
		}
	}
	states, err := loadStates(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	txns := make([]ledger.Txn, len(pays))
	for i, p := range pays {
		s := states[p.AccountID]
		cash, err := ledger.Account(ctx, tx, ledger.CashCode(p.Channel), ledger.KindCash)
		if err != nil {
			return nil, err
		}
		txns[i] = ledger.Txn{Key: PaymentKey(p.Channel, p.ExternalID), Kind: ledger.TxnPayment, AccountID: p.AccountID,
			Amount: p.Amount, Service: p.Channel, Memo: p.Memo, EffectiveAt: p.At,
			Postings: []ledger.Posting{{LedgerAccountID: s.LedgerID, Amount: p.Amount}, {LedgerAccountID: cash, Amount: -p.Amount}}}
	}
	rs, balances, err := ledger.PostMany(ctx, tx, txns, now)
	if err != nil {
		return nil, fmt.Errorf("payment %s/%s: %w", pays[0].Channel, pays[0].ExternalID, err)
	}
	// Settle each account once, then tell of the payments, in the order
	// Credit always had: the limit lifted, then the payment received.
	var moved []int64
	credited := map[int64]bool{}
	for i, p := range pays {
		if rs[i].Duplicate || credited[p.AccountID] {
			continue
		}
		credited[p.AccountID] = true
		moved = append(moved, p.AccountID)
		s := states[p.AccountID]
		s.Balance = balances[s.LedgerID]
	}
	for _, id := range moved {
		if err := b.settle(ctx, tx, *states[id], now); err != nil {
			return nil, err
		}
	}
	var events []store.Event
	for i, p := range pays {
		if !rs[i].Duplicate {
			events = append(events, store.Event{Kind: store.EventPaymentReceived, AccountID: p.AccountID, At: p.At,
				Data: map[string]string{"channel": p.Channel, "amount": p.Amount.Decimal(), "txn": strconv.FormatInt(rs[i].TxnID, 10)}})
		}
	}
	if err := tx.EmitMany(ctx, events); err != nil {
		return nil, err
	}
	if b.Hook != nil {
		var fresh []CreditedPayment
		for i, p := range pays {
			if !rs[i].Duplicate {
				fresh = append(fresh, CreditedPayment{Payment: p, TxnID: rs[i].TxnID})
			}
		}
		if len(fresh) > 0 {
			if err := b.Hook.PaymentsCredited(ctx, tx, fresh); err != nil {
				return nil, fmt.Errorf("payment %s/%s: %w", fresh[0].Channel, fresh[0].ExternalID, err)
			}
		}
	}
	return rs, nil
}

// PostAndSettle posts any subscriber transaction (bonus spending, operator
// corrections, reversals) whose other side is the system account code of kind,
// and settles debt and limit in the same transaction.
func (b *Biller) PostAndSettle(ctx context.Context, tx *store.Tx, accountID int64, t ledger.Txn, systemCode, systemKind string, now time.Time) (ledger.Result, error) {
	s, err := loadState(ctx, tx, accountID)
	if err != nil {
		return ledger.Result{}, err
	}
	return b.post(ctx, tx, s, t, systemCode, systemKind, now)
}
