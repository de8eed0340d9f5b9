package billing

import (
	"context"
	"fmt"
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
	if amount <= 0 {
		return ledger.Result{}, fmt.Errorf("payment %s/%s: amount must be positive: %w", channel, externalID, ErrInvalid)
	}
	if channel == "" || externalID == "" {
		return ledger.Result{}, fmt.Errorf("payment: channel and external id are required: %w", ErrInvalid)
	}
	s, err := loadState(ctx, tx, accountID)
	if err != nil {
		return ledger.Result{}, err
	}
	r, err := b.post(ctx, tx, s, ledger.Txn{Key: PaymentKey(channel, externalID), Kind: ledger.TxnPayment, Amount: amount,
		Service: channel, Memo: memo, EffectiveAt: at}, ledger.CashCode(channel), ledger.KindCash, at)
	if err != nil {
		return r, fmt.Errorf("payment %s/%s: %w", channel, externalID, err)
	}
	if !r.Duplicate {
		err = tx.Emit(ctx, store.Event{Kind: store.EventPaymentReceived, AccountID: accountID, At: at,
			Data: map[string]string{"channel": channel, "amount": amount.Decimal(), "txn": fmt.Sprint(r.TxnID)}})
	}
	return r, err
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
