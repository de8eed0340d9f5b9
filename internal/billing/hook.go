package billing

import (
	"context"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// PaymentHook is told, inside the transaction that credits or reverses a
// payment, what moved, so that what must follow a payment (its fiscal
// receipt) commits with it or not at all. A hook only writes rows in tx:
// anything slow (a call to an outside service) happens later, from those
// rows, so that crediting never waits for it.
type PaymentHook interface {
	PaymentsCredited(ctx context.Context, tx *store.Tx, pays []CreditedPayment) error
	PaymentReversed(ctx context.Context, tx *store.Tx, r ReversedPayment) error
}

// CreditedPayment is a payment newly credited, with its ledger transaction.
type CreditedPayment struct {
	Payment
	TxnID int64
}

// ReversedPayment is a payment taken back (an operator's reversal, a
// processor's refund), whole or in part.
type ReversedPayment struct {
	AccountID     int64
	Channel       string
	ExternalID    string
	Amount        money.Amount // what was taken back, positive
	TxnID         int64        // the payment's own ledger transaction
	ReversalTxnID int64        // the transaction that took it back
	At            time.Time
}

// PaymentReversed tells the hook, if any, that a payment was taken back in
// tx. Whoever reverses or refunds a payment calls it in the same
// transaction.
func (b *Biller) PaymentReversed(ctx context.Context, tx *store.Tx, r ReversedPayment) error {
	if b.Hook == nil {
		return nil
	}
	return b.Hook.PaymentReversed(ctx, tx, r)
}
