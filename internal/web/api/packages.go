package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
)

type PackageOut struct {
	Code          string `json:"code"`
	Kind          string `json:"kind" enum:"tv,antivirus,static_ip,boost,other"`
	Name          string `json:"name"`
	Description   string `json:"description,omitempty"`
	Price         Money  `json:"price"`
	Pricing       string `json:"pricing" enum:"monthly,once,duration"`
	DurationHours int    `json:"duration_hours,omitempty"`
	SpeedPercent  int    `json:"speed_percent,omitempty"`
}

func packageOut(l string, p billing.Package) PackageOut {
	return PackageOut{Code: p.Code, Kind: p.Kind, Name: pick(l, p.Name, p.NameEn), Description: p.Description, Price: m(p.Price),
		Pricing: p.Pricing, DurationHours: p.DurationHours, SpeedPercent: p.SpeedPercent}
}

type SubscriptionOut struct {
	ID         int64      `json:"id"`
	Package    PackageOut `json:"package"`
	StartedAt  time.Time  `json:"started_at"`
	EndsAt     *time.Time `json:"ends_at,omitempty"`
	LicenseKey string     `json:"license_key,omitempty"`
	StaticIP   string     `json:"static_ip,omitempty"`
}

func subOut(l string, s billing.Subscription) SubscriptionOut {
	o := SubscriptionOut{ID: s.ID, Package: packageOut(l, s.Package), StartedAt: s.StartedAt, LicenseKey: s.LicenseKey, StaticIP: s.StaticIP}
	if !s.EndsAt.IsZero() {
		o.EndsAt = &s.EndsAt
	}
	return o
}

type PackagesOut struct {
	Body struct {
		Offered   []PackageOut      `json:"offered"`
		Connected []SubscriptionOut `json:"connected"`
	}
}

func (a *API) packages(ctx context.Context, _ *Empty) (*PackagesOut, error) {
	acct, l := account(ctx), lang(ctx)
	ps, err := billing.Packages(ctx, a.d.DB, acct.CityID, true)
	if err != nil {
		return nil, a.fail(ctx, "packages", err)
	}
	subs, err := a.d.Biller.Subscriptions(ctx, a.d.DB, acct.ID, false)
	if err != nil {
		return nil, a.fail(ctx, "packages", err)
	}
	o := &PackagesOut{}
	o.Body.Offered, o.Body.Connected = []PackageOut{}, []SubscriptionOut{}
	for _, p := range ps {
		o.Body.Offered = append(o.Body.Offered, packageOut(l, p))
	}
	for _, s := range subs {
		o.Body.Connected = append(o.Body.Connected, subOut(l, s))
	}
	return o, nil
}

type SubOut struct{ Body SubscriptionOut }

func (a *API) connect(ctx context.Context, in *CodePath) (*SubOut, error) {
	s, err := a.d.Biller.Connect(ctx, account(ctx).ID, in.Code)
	if err != nil {
		return nil, a.refused(ctx, "connect", err)
	}
	return &SubOut{Body: subOut(lang(ctx), s)}, nil
}

type BoostIn struct {
	Body *struct {
		Code string `json:"code,omitempty" doc:"A boost package's code; empty: the first one offered"`
	} `required:"false"`
}

func (a *API) boost(ctx context.Context, in *BoostIn) (*SubOut, error) {
	code := ""
	if in.Body != nil {
		code = in.Body.Code
	}
	ps, err := billing.Packages(ctx, a.d.DB, account(ctx).CityID, true)
	if err != nil {
		return nil, a.fail(ctx, "boost", err)
	}
	i := slices.IndexFunc(ps, func(p billing.Package) bool {
		return p.Kind == billing.PackageBoost && (code == "" || p.Code == code)
	})
	if i < 0 {
		return nil, a.problem(ctx, http.StatusNotFound, "api.error.no_boost")
	}
	return a.connect(ctx, &CodePath{Code: ps[i].Code})
}

func (a *API) disconnect(ctx context.Context, in *IDPath) (*Empty, error) {
	if err := a.d.Biller.Disconnect(ctx, account(ctx).ID, in.ID); err != nil {
		return nil, a.refused(ctx, "disconnect", err)
	}
	return nil, nil
}

// --- money ---
