package main

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/web"
)

// handler is every HTTP route: the pages, the payment protocols and health.
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
	return srv.Handler(), nil
}
