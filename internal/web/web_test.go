package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/web"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
	assets "github.com/kabinet-billing/kabinet/web"
)

// TestBackOfficeBesidePortal assembles the whole surface with the back
// office, as cmd/kabinet does, and checks that one browser can use the
// portal and the back office side by side, and that the machine routes are
// there.
func TestBackOfficeBesidePortal(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	cfg := config.Default()
	mail, err := notify.FromConfig(e.DB, e.Clock, e.Biller, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fonts, err := contract.LoadFonts(assets.FS)
	if err != nil {
		t.Fatal(err)
	}
	office, err := backoffice.New(e.DB, e.Clock, cfg, e.Biller, e.Dir, e.Pay, mail, fonts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Site.RedirectFrom = []string{"/cabinet/"}
	srv, err := web.New(web.Deps{DB: e.DB, Clock: e.Clock, Config: cfg, Biller: e.Biller, Subscribers: e.Dir, Payments: e.Pay,
		Processor: "sandbox", Support: e.Support, Fonts: fonts, Office: office, Metrics: metrics.New()})
	if err != nil {
		t.Fatal(err)
	}
	e.TS.Config.Handler = srv.Handler()
	for _, p := range []string{"GET /readyz", "GET /metrics", "GET /healthz", "GET /admin/login", "GET /site/{$}", "POST /api/v1/login", "GET /speedtest"} {
		if !slices.Contains(srv.Patterns(), p) {
			t.Errorf("%q is not mounted", p)
		}
	}
	if _, err := office.Operators.Add(ctx, operator.Actor{}, operator.NewOperator{Login: "root", Role: operator.RoleAdmin, Password: "operator-password"}); err != nil {
		t.Fatal(err)
	}
	c := e.Login("alice")
	webtest.Must(t, c.Get("/admin/"), http.StatusSeeOther)
	webtest.Must(t, c.Get("/admin/login"), http.StatusOK, `action="/admin/login"`)
	webtest.Must(t, c.Post("/admin/login", url.Values{"login": {"root"}, "password": {"operator-password"}}), http.StatusSeeOther)
	webtest.Must(t, c.Get("/admin/subscribers?q=alice"), http.StatusOK, "alice")
	webtest.Must(t, c.Get("/"), http.StatusOK) // the subscriber's portal session still works
	webtest.Must(t, c.Get("/site/?city=tver"), http.StatusOK, "Домашний 100")
	webtest.Must(t, c.Get("/cabinet/"), http.StatusMovedPermanently)
	webtest.Must(t, c.Get("/readyz"), http.StatusOK)
	webtest.Must(t, c.Get("/metrics"), http.StatusOK, "kabinet_http_requests_total")
}

// TestHealthAndHeaders: /healthz is mounted beside the portal, whose pages
// carry the platform's security headers.
func TestHealthAndHeaders(t *testing.T) {
	e := webtest.New(t)
	c := e.Client()
	webtest.Must(t, c.Get("/healthz"), http.StatusOK, "ok")
	r := c.Get("/login")
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		if r.Header.Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
	webtest.Must(t, c.Get("/static/htmx.min.js"), http.StatusOK)
}
