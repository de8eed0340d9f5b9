package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/promise"
)

// --- promised payment ---

// PromiseOut is a promised payment.
type PromiseOut struct {
	ID     int64     `json:"id"`
	Amount Money     `json:"amount" doc:"What the subscriber promised to pay"`
	Fee    Money     `json:"fee"`
	Until  time.Time `json:"until" doc:"The line runs without the debt limit until then"`
}

func promiseOut(p promise.Promise) *PromiseOut {
	return &PromiseOut{ID: p.ID, Amount: m(p.Amount), Fee: m(p.Fee), Until: p.EndsAt}
}

type PromiseOfferOut struct {
	Body struct {
		Open      *PromiseOut `json:"open,omitempty" doc:"The promise in force now"`
		Available bool        `json:"available" doc:"A promise may be taken now"`
		Reason    string      `json:"reason,omitempty" doc:"Why not, in the client's language"`
		Amount    Money       `json:"amount" doc:"The suggested amount"`
		MaxAmount Money       `json:"max_amount"`
		Fee       Money       `json:"fee" doc:"Charged when the promise is taken"`
		Days      int         `json:"days" doc:"How long a promise lasts"`
		Until     time.Time   `json:"until" doc:"When a promise taken now ends"`
		NextAt    *time.Time  `json:"next_at,omitempty" doc:"When the next promise may be taken"`
	}
}

type PromiseIn struct {
	Body struct {
		Amount string `json:"amount" example:"1500.00" doc:"Roubles promised, up to max_amount of GET /promise"`
	}
}

type PromiseOne struct{ Body *PromiseOut }

func (a *API) promiseRefused(ctx context.Context, o promise.Offer, err error) string {
	id := "api.error.promise." + derrors.Code(err)
	if derrors.Code(err) == "" || !a.p.I18n.Has(id) {
		return ""
	}
	l := lang(ctx)
	return a.p.I18n.T(l, id, o.Figures(l, a.p.Zone))
}

func (a *API) promiseOffer(ctx context.Context, _ *Empty) (*PromiseOfferOut, error) {
	if a.d.Promises == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	o, err := a.d.Promises.Offer(ctx, account(ctx).ID)
	if err != nil {
		return nil, a.fail(ctx, "promise offer", err)
	}
	out := &PromiseOfferOut{}
	b := &out.Body
	if o.Open != nil {
		b.Open = promiseOut(*o.Open)
	}
	b.Available, b.Amount, b.MaxAmount, b.Fee, b.Days, b.Until = o.Available, m(o.Amount), m(o.MaxAmount), m(o.Fee), o.Days, o.EndsAt
	if o.Refusal != nil {
		b.Reason = a.promiseRefused(ctx, o, o.Refusal)
	}
	if !o.NextAt.IsZero() {
		b.NextAt = &o.NextAt
	}
	return out, nil
}

func (a *API) takePromise(ctx context.Context, in *PromiseIn) (*PromiseOne, error) {
	if a.d.Promises == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	acct := account(ctx)
	amount, err := money.Parse(strings.ReplaceAll(strings.TrimSpace(in.Body.Amount), " ", ""))
	if err != nil {
		amount = 0 // refused by the rules as the amount's
	}
	p, err := a.d.Promises.Take(ctx, promise.Request{AccountID: acct.ID, Amount: amount, Channel: promise.ChannelAPI})
	if err == nil {
		return &PromiseOne{Body: promiseOut(p)}, nil
	}
	status, _ := a.p.I18n.Refusal(err, "api.error.promise.")
	if status == 0 {
		return nil, a.fail(ctx, "promise", err)
	}
	o, oerr := a.d.Promises.Offer(ctx, acct.ID)
	if oerr != nil {
		return nil, a.fail(ctx, "promise", oerr)
	}
	l := lang(ctx)
	detail := a.promiseRefused(ctx, o, err)
	if detail == "" {
		detail = a.t(l, "api.error.invalid")
	}
	e := &huma.ErrorModel{Status: status, Title: statusTitle(a.p, l, status), Detail: detail}
	if f := derrors.Field(err); f != "" {
		e.Errors = []*huma.ErrorDetail{{Message: detail, Location: "body." + f, Value: in.Body.Amount}}
	}
	return nil, e
}
