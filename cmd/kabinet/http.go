package main

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
	"github.com/kabinet-billing/kabinet/internal/web"
	"github.com/kabinet-billing/kabinet/internal/web/admin"
	"github.com/kabinet-billing/kabinet/internal/web/api"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	assets "github.com/kabinet-billing/kabinet/web"
)

// handler is every HTTP route: the portal, back office, public site, the
// payment protocols and health.
func (a *app) handler() (http.Handler, error) {
	h, _, err := a.routeTable()
	return h, err
}

// routeTable builds the handler and lists every pattern registered on it:
// the security test (security_test.go) walks this list, so a route added
// anywhere must be classified there.
func (a *app) routeTable() (http.Handler, []string, error) {
	// [web] trusted_proxies: the platform takes the client's address from
	// X-Forwarded-For only from these; the OSMP allow lists get the same.
	proxies, err := platform.TrustedProxies(a.e.cfg)
	if err != nil {
		return nil, nil, err
	}
	routes, err := a.pay.Routes(a.paySetup.OSMP, proxies)
	if err != nil {
		return nil, nil, err
	}
	routes = paymentMetrics(metrics.Default, routes)
	// Contracts and statements print with the same fonts, read once.
	fonts, err := contract.LoadFonts(assets.FS)
	if err != nil {
		return nil, nil, err
	}
	srv, err := web.New(web.Deps{DB: a.e.db, Clock: a.e.clock, Config: a.e.cfg, Log: a.log,
		Biller: a.biller, Subscribers: a.subs, Payments: a.pay, Processor: a.paySetup.Default,
		PaymentRoutes: routes, Traffic: a.traffic, Fonts: fonts})
	if err != nil {
		return nil, nil, err
	}
	tests := speedtest.New(a.e.db, a.e.clock, a.biller)
	// /api/v1, /api/docs and the speed-test backend; the portal's speed-test
	// and traffic-by-class pages.
	api.Register(srv.Platform, api.Deps{DB: a.e.db, Biller: a.biller, Subscribers: a.subs,
		Payments: a.pay, Processor: a.paySetup.Default, Traffic: a.traffic,
		SpeedTests: tests, Statements: srv.Statements, AppSchemes: a.e.cfg.API.AppSchemes})
	srv.Portal.RegisterMeasure(tests)
	office, err := backoffice.New(a.e.db, a.e.clock, a.e.cfg, a.biller, a.subs, a.pay, a.mail, fonts)
	if err != nil {
		return nil, nil, err
	}
	bo := web.BackOffice{Office: office, RedirectFrom: a.e.cfg.Site.RedirectFrom, Sandbox: a.paySetup.Sandbox}
	if a.radius != nil {
		bo.Network = admin.RadiusNetwork{S: a.radius}
	}
	if err := srv.MountBackOffice(bo); err != nil {
		return nil, nil, err
	}
	mux := platform.NewRouter()
	mux.Handle("GET /metrics", metrics.Handler())
	mux.Handle("GET /readyz", metrics.Ready(a.e.db))
	mux.ServeMux.Handle("/", srv.Handler()) // the platform's routes, listed below
	list := append(mux.Patterns(), srv.Platform.Mux.Patterns()...)
	return metrics.Middleware(mux), list, nil
}
