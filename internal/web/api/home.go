package api

import (
	"context"
	"time"

	"github.com/kabinet-billing/kabinet/internal/content"
)

type SpeedOut struct {
	DownKbps    int64      `json:"down_kbps"`
	UpKbps      int64      `json:"up_kbps"`
	Limited     bool       `json:"limited" doc:"At the limit rate for debt"`
	Boosted     bool       `json:"boosted"`
	BoostEndsAt *time.Time `json:"boost_ends_at,omitempty"`
}

type HomeOut struct {
	Body struct {
		Account      Identity          `json:"account"`
		Status       string            `json:"status"`
		Balance      Money             `json:"balance"`
		Debt         Money             `json:"debt"`
		Recommended  Money             `json:"recommended_payment"`
		NextChargeAt time.Time         `json:"next_charge_at"`
		NextCharge   Money             `json:"next_charge"`
		Tariff       TariffOut         `json:"tariff"`
		NextTariff   *TariffOut        `json:"next_tariff,omitempty"`
		Speed        SpeedOut          `json:"speed"`
		LimitKbps    int64             `json:"limit_kbps"`
		Packages     []SubscriptionOut `json:"packages"`
		Promise      *PromiseOut       `json:"promise,omitempty" doc:"The promised payment in force, if any"`
		Suspension   *SuspensionOut    `json:"suspension,omitempty" doc:"The voluntary suspension scheduled or running, if any"`
	}
}

func (a *API) home(ctx context.Context, _ *Empty) (*HomeOut, error) {
	acct, l := account(ctx), lang(ctx)
	s, err := a.d.Biller.Summary(ctx, acct.ID)
	if err != nil {
		return nil, a.fail(ctx, "home", err)
	}
	o := &HomeOut{}
	b := &o.Body
	b.Account = Identity{ID: acct.ID, Login: acct.Login, ContractNo: acct.ContractNo, Name: acct.Name}
	b.Status, b.Balance, b.Debt, b.Recommended = s.Status, m(s.Balance), m(s.Debt), m(s.Recommended)
	b.NextChargeAt, b.NextCharge, b.LimitKbps = s.NextChargeAt, m(s.NextChargeAmount), s.LimitKbps
	b.Tariff = tariffOut(l, s.Tariff, s.Tariff.ID)
	if s.NextTariff != nil {
		t := tariffOut(l, *s.NextTariff, s.Tariff.ID)
		b.NextTariff = &t
	}
	b.Speed = SpeedOut{DownKbps: s.Speed.DownKbps, UpKbps: s.Speed.UpKbps, Limited: s.Speed.Limited, Boosted: s.Speed.Boosted}
	if s.Speed.Boosted && !s.Speed.BoostEndsAt.IsZero() {
		b.Speed.BoostEndsAt = &s.Speed.BoostEndsAt
	}
	b.Packages = []SubscriptionOut{}
	for _, p := range s.Packages {
		b.Packages = append(b.Packages, subOut(l, p))
	}
	if !s.PromisedUntil.IsZero() && a.d.Promises != nil {
		p, err := a.d.Promises.Current(ctx, acct.ID)
		if err != nil {
			return nil, a.fail(ctx, "home", err)
		}
		if p != nil {
			b.Promise = promiseOut(*p)
		}
	}
	if a.d.Suspensions != nil {
		u, err := a.d.Suspensions.Current(ctx, acct.ID)
		if err != nil {
			return nil, a.fail(ctx, "home", err)
		}
		if u != nil {
			b.Suspension = suspensionOut(*u)
		}
	}
	return o, nil
}

type NewsOut struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind" enum:"news,promo"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	PublishedAt time.Time `json:"published_at"`
}

func (a *API) news(ctx context.Context, _ *Empty) (*ListOut[NewsOut], error) {
	items, err := content.Current(ctx, a.d.DB, account(ctx).CityID, "", a.clock.Now(), 30)
	if err != nil {
		return nil, a.fail(ctx, "news", err)
	}
	out := make([]NewsOut, len(items))
	for i, it := range items {
		out[i] = NewsOut{ID: it.ID, Kind: it.Kind, Title: it.TitleIn(lang(ctx)), Body: it.BodyIn(lang(ctx)), PublishedAt: it.PublishedAt}
	}
	return list(out), nil
}

// --- profile ---
