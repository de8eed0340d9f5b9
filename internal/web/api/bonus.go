package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
)

// --- bonus points ---

// BonusOut is the bonus account: one point is one kopeck of services.
type BonusOut struct {
	Body struct {
		Points int64 `json:"points" minimum:"0" doc:"Points on the bonus account; never negative"`
		Worth  Money `json:"worth" doc:"What the points pay for: one point is one kopeck"`
	}
}

type SpendBonusIn struct {
	Key  string `header:"Idempotency-Key" required:"true" minLength:"8" maxLength:"100" doc:"A key the app makes once per spend (a UUID); a repeat with the same key spends nothing more and answers as the first time"`
	Body struct {
		Points int64 `json:"points" minimum:"1" doc:"Whole points to spend, at most what the account has"`
	}
}

type SpendBonusOut struct {
	Body struct {
		Credited Money `json:"credited" doc:"Added to the balance"`
		Points   int64 `json:"points" doc:"Points left"`
		Worth    Money `json:"worth"`
	}
}

func (a *API) bonusPoints(ctx context.Context) (money.Amount, error) {
	if a.d.Payments == nil {
		return 0, nil
	}
	return a.d.Payments.BonusBalance(ctx, account(ctx).ID)
}

func (a *API) bonus(ctx context.Context, _ *Empty) (*BonusOut, error) {
	pts, err := a.bonusPoints(ctx)
	if err != nil {
		return nil, a.fail(ctx, "bonus", err)
	}
	o := &BonusOut{}
	o.Body.Points, o.Body.Worth = int64(pts), m(pts)
	return o, nil
}

// spendBonus turns points into money on the balance (payment.SpendBonus).
// The key is scoped to the account by SpendBonus, so another subscriber's
// key cannot collide with this one.
func (a *API) spendBonus(ctx context.Context, in *SpendBonusIn) (*SpendBonusOut, error) {
	if a.d.Payments == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	pts := money.Amount(in.Body.Points)
	if pts <= 0 {
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.bonus_amount")
	}
	err := a.d.Payments.SpendBonus(ctx, account(ctx).ID, pts, in.Key)
	switch {
	case errors.Is(err, payment.ErrInsufficientBonus):
		return nil, a.problem(ctx, http.StatusConflict, "api.error.bonus_insufficient")
	case errors.Is(err, payment.ErrBadAmount):
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.bonus_amount")
	case errors.Is(err, billing.ErrAccountInactive):
		return nil, a.problem(ctx, http.StatusConflict, "api.error.inactive")
	case err != nil:
		return nil, a.fail(ctx, "spend bonus", err)
	}
	left, err := a.bonusPoints(ctx)
	if err != nil {
		return nil, a.fail(ctx, "bonus", err)
	}
	o := &SpendBonusOut{}
	o.Body.Credited, o.Body.Points, o.Body.Worth = m(pts), int64(left), m(left)
	return o, nil
}
