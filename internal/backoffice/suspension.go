package backoffice

import (
	"context"

	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

// Suspend schedules (or starts, from today) a voluntary suspension on the
// subscriber's behalf: the same rules as the subscriber's own, the
// suspension and its audit entry in one transaction.
func (o *Office) Suspend(ctx context.Context, w Who, r suspension.Request, note string) (suspension.Suspension, error) {
	if err := w.must(operator.EditSubscribers); err != nil {
		return suspension.Suspension{}, err
	}
	var u suspension.Suspension
	err := o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		r.Channel, r.Operator = suspension.ChannelOffice, w.Op.Login
		var err error
		if u, err = o.Suspensions.StartTx(ctx, tx, r); err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "suspension.start", Object: accountObject(r.AccountID), Note: note,
			After: map[string]any{"suspension": u.ID, "from": u.StartsAt.UTC(), "until": u.EndsAt.UTC(), "days": u.Days,
				"fee": u.Fee.Decimal(), "state": u.State}}, nil
	})
	return u, err
}

// ExtendSuspension lengthens the subscriber's suspension (to r.Days in
// all or to the last day r.Last), by the subscriber's own rules, audited.
func (o *Office) ExtendSuspension(ctx context.Context, w Who, r suspension.Request, note string) (suspension.Suspension, error) {
	if err := w.must(operator.EditSubscribers); err != nil {
		return suspension.Suspension{}, err
	}
	var u suspension.Suspension
	err := o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		r.Channel, r.Operator = suspension.ChannelOffice, w.Op.Login
		var err error
		if u, err = o.Suspensions.ExtendTx(ctx, tx, r); err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "suspension.extend", Object: accountObject(r.AccountID), Note: note,
			After: map[string]any{"suspension": u.ID, "until": u.EndsAt.UTC(), "days": u.Days, "fee": u.Fee.Decimal()}}, nil
	})
	return u, err
}

// ResumeSuspension ends the subscriber's suspension now (a scheduled one
// is called off), audited.
func (o *Office) ResumeSuspension(ctx context.Context, w Who, accountID int64, note string) (suspension.Suspension, error) {
	if err := w.must(operator.EditSubscribers); err != nil {
		return suspension.Suspension{}, err
	}
	var u suspension.Suspension
	err := o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		var err error
		if u, err = o.Suspensions.ResumeTx(ctx, tx, accountID, suspension.ChannelOffice, w.Op.Login); err != nil {
			return operator.Entry{}, err
		}
		return operator.Entry{Action: "suspension.resume", Object: accountObject(accountID), Note: note,
			Before: map[string]any{"suspension": u.ID, "from": u.StartsAt.UTC(), "until": u.PlannedEnd.UTC()},
			After:  map[string]any{"state": u.State, "end_reason": u.EndReason, "resumed_at": u.EndsAt.UTC()}}, nil
	})
	return u, err
}
