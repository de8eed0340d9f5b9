package main

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/web"
	"github.com/kabinet-billing/kabinet/internal/web/admin"
	"github.com/kabinet-billing/kabinet/internal/web/public"
	assets "github.com/kabinet-billing/kabinet/web"
)

// handler is every HTTP route: the portal, back office, public site, the
// payment protocols and health.
func (a *app) handler() (http.Handler, error) {
	routes, err := a.pay.Routes(a.paySetup.OSMP)
	if err != nil {
		return nil, err
	}
	srv, err := web.New(web.Deps{DB: a.e.db, Clock: a.e.clock, Config: a.e.cfg, Log: a.log,
		Biller: a.biller, Subscribers: a.subs, Payments: a.pay, Processor: a.paySetup.Default,
		PaymentRoutes: routes, Traffic: a.traffic})
	if err != nil {
		return nil, err
	}
	office, err := backoffice.New(a.e.db, a.e.clock, a.e.cfg, a.biller, a.subs, a.pay, a.mail, assets.FS)
	if err != nil {
		return nil, err
	}
	var site public.Config
	if err := a.e.cfg.Section("site", &site); err != nil {
		return nil, err
	}
	bo := web.BackOffice{Office: office, RedirectFrom: site.RedirectFrom}
	if a.radius != nil {
		bo.Network = admin.RadiusNetwork{S: a.radius}
	}
	if err := srv.MountBackOffice(bo); err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}
