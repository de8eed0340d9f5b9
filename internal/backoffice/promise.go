package backoffice

import (
	"context"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// GrantPromise gives the subscriber a promised payment on their behalf (a
// call to the office): the same rules as the subscriber's own, the promise
// and its audit entry in one transaction.
func (o *Office) GrantPromise(ctx context.Context, w Who, accountID int64, amount money.Amount, note string) (promise.Promise, error) {
	if err := w.must(operator.EditSubscribers); err != nil {
		return promise.Promise{}, err
	}
	var p promise.Promise
	err := o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		var err error
		p, err = o.Promises.TakeTx(ctx, tx, promise.Request{AccountID: accountID, Amount: amount, Channel: promise.ChannelOffice, Operator: w.Op.Login})
		if err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "promise.grant", Object: accountObject(accountID), Note: note,
			After: map[string]any{"promise": p.ID, "amount": p.Amount.Decimal(), "fee": p.Fee.Decimal(), "until": p.EndsAt.UTC()}}, nil
	})
	return p, err
}
