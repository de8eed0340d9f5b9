package backoffice

import (
	"context"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Receipts lists the fiscal receipts for the back office: by default the
// unfinished and the failed ones, those an operator must watch.
func (o *Office) Receipts(ctx context.Context, status string) ([]fiscal.Receipt, error) {
	if o.Fiscal == nil {
		return nil, nil
	}
	if status == "" {
		un, err := o.Fiscal.List(ctx, fiscal.Filter{Status: "unfinished"})
		if err != nil {
			return nil, err
		}
		failed, err := o.Fiscal.List(ctx, fiscal.Filter{Status: fiscal.StatusFailed})
		return append(failed, un...), err
	}
	if status == "all" {
		status = ""
	}
	return o.Fiscal.List(ctx, fiscal.Filter{Status: status})
}

// ResendReceipt sends a fiscal receipt again now; the resend and its audit
// entry commit together. A failed receipt goes under a new key (the fiscal
// data operator made none), an unfinished one under its own (so that it
// never makes a second).
func (o *Office) ResendReceipt(ctx context.Context, w Who, id int64) error {
	if err := w.must(operator.TakeCash); err != nil {
		return err
	}
	if o.Fiscal == nil {
		return fmt.Errorf("receipt %d: fiscal receipts are off: %w", id, derrors.NotFound)
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		r, err := o.Fiscal.ResendTx(ctx, tx, id)
		if err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "receipt.resend", Object: fmt.Sprintf("receipt:%d", id),
			Before: map[string]any{"status": r.Status, "external_id": r.ExternalID, "error": r.LastError, "account": r.AccountID}}, nil
	})
}
