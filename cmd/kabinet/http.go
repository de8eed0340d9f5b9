package main

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/web"
	"github.com/kabinet-billing/kabinet/internal/web/admin"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	assets "github.com/kabinet-billing/kabinet/web"
)

// handler is every HTTP route, as internal/web assembles them.
func (a *app) handler() (http.Handler, error) {
	h, _, err := a.routeTable()
	return h, err
}

// routeTable hands the capabilities to web.New and returns its handler and
// every pattern registered on it: the security test (security_test.go)
// walks this list, so a route added anywhere must be classified there.
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
	// Contracts and statements print with the same fonts, read once.
	fonts, err := contract.LoadFonts(assets.FS)
	if err != nil {
		return nil, nil, err
	}
	office, err := backoffice.New(a.e.db, a.e.clock, a.e.cfg, a.biller, a.subs, a.pay, a.mail, fonts)
	if err != nil {
		return nil, nil, err
	}
	office.Promises = a.promises
	office.Suspensions = a.suspends
	office.Fiscal = a.e.receipts
	office.Documents = a.docs
	office.Autopay = a.autopay
	d := web.Deps{Promises: a.promises, Suspensions: a.suspends, DB: a.e.db, Clock: a.e.clock, Config: a.e.cfg, Log: a.log,
		Biller: a.biller, Subscribers: a.subs, Payments: a.pay, Processor: a.paySetup.Default,
		PaymentRoutes: paymentMetrics(metrics.Default, routes), Traffic: a.traffic,
		Fonts: fonts, Office: office, Sandbox: a.paySetup.Sandbox, Metrics: metrics.Default, Autopay: a.autopay, Receipts: a.e.receipts, Company: a.company,
		Push: a.push}
	d.TelegramLinks = a.tgLinks
	if a.bot != nil {
		d.Telegram = a.bot
		if a.tgWebhook != "" {
			d.TelegramWebhook = a.bot.Webhook(a.tgSecret)
		}
	}
	if a.radius != nil {
		d.Network = admin.RadiusNetwork{S: a.radius}
	}
	srv, err := web.New(d)
	if err != nil {
		return nil, nil, err
	}
	return srv.Handler(), srv.Patterns(), nil
}
