package backoffice

import (
	"context"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Receipts is a page of the fiscal receipts for the back office, and how
// many match: by default (f.Status "") the unfinished and the failed ones,
// those an operator must watch; "all" for every receipt.
func (o *Office) Receipts(ctx context.Context, f fiscal.Filter) ([]fiscal.Receipt, int, error) {
	if o.Fiscal == nil {
		return nil, 0, nil
	}
	switch f.Status {
	case "":
		f.Status = "attention"
	case "all":
		f.Status = ""
	}
	return o.Fiscal.Page(ctx, f)
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
