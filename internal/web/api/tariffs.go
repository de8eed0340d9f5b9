package api

import (
	"context"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
)

type TariffOut struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Fee         Money  `json:"fee"`
	DownKbps    int64  `json:"down_kbps"`
	UpKbps      int64  `json:"up_kbps"`
	Current     bool   `json:"current"`
}

func tariffOut(l string, t billing.Tariff, current int64) TariffOut {
	return TariffOut{Code: t.Code, Name: pick(l, t.Name, t.NameEn), Description: t.Description, Fee: m(t.Fee),
		DownKbps: t.DownKbps, UpKbps: t.UpKbps, Current: t.ID == current}
}

func (a *API) tariffs(ctx context.Context, _ *Empty) (*ListOut[TariffOut], error) {
	acct := account(ctx)
	ts, err := billing.Tariffs(ctx, a.d.DB, acct.CityID, true)
	if err != nil {
		return nil, a.fail(ctx, "tariffs", err)
	}
	out := make([]TariffOut, 0, len(ts))
	for _, t := range ts {
		out = append(out, tariffOut(lang(ctx), t, acct.TariffID))
	}
	return list(out), nil
}

type QuoteOut struct {
	Body struct {
		From        TariffOut `json:"from"`
		To          TariffOut `json:"to"`
		Immediate   bool      `json:"immediate" doc:"Prorated now; otherwise from the next 1st"`
		EffectiveAt time.Time `json:"effective_at"`
		DaysLeft    int       `json:"days_left"`
		Refund      Money     `json:"refund"`
		Charge      Money     `json:"charge"`
		Net         Money     `json:"net" doc:"What the balance moves by now"`
		Debt        Money     `json:"debt" doc:"The account's debt; when not zero the change waits for the next 1st, with no refund of the unused days into the debt"`
	}
}

func (a *API) quoteOut(ctx context.Context, q billing.TariffChange) *QuoteOut {
	o := &QuoteOut{}
	l, cur := lang(ctx), account(ctx).TariffID
	o.Body.From, o.Body.To = tariffOut(l, q.From, cur), tariffOut(l, q.To, cur)
	o.Body.Immediate, o.Body.EffectiveAt, o.Body.DaysLeft = q.Immediate, q.EffectiveAt, q.DaysLeft
	o.Body.Refund, o.Body.Charge, o.Body.Net, o.Body.Debt = m(q.Refund), m(q.Charge), m(q.Net), m(q.Debt)
	return o
}

func (a *API) quote(ctx context.Context, in *CodePath) (*QuoteOut, error) {
	q, err := a.d.Biller.QuoteTariffChange(ctx, account(ctx).ID, in.Code)
	if err != nil {
		return nil, a.refused(ctx, "quote", err)
	}
	return a.quoteOut(ctx, q), nil
}

func (a *API) changeTariff(ctx context.Context, in *CodePath) (*QuoteOut, error) {
	q, err := a.d.Biller.ChangeTariff(ctx, account(ctx).ID, in.Code)
	if err != nil {
		return nil, a.refused(ctx, "change tariff", err)
	}
	return a.quoteOut(ctx, q), nil
}
