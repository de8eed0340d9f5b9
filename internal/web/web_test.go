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
	assets "github.com/kabinet-billing/kabinet/web"
)

// TestBackOfficeBesidePortal assembles the whole surface with the back
// office, as cmd/kabinet does, and checks that one browser can use the
// portal and the back office side by side, and that the machine routes are
// there.
func TestBackOfficeBesidePortal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cfg := config.Default()
	mail, err := notify.FromConfig(e.db, e.clk, e.biller, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fonts, err := contract.LoadFonts(assets.FS)
	if err != nil {
		t.Fatal(err)
	}
	office, err := backoffice.New(e.db, e.clk, cfg, e.biller, e.dir, e.pay, mail, fonts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Site.RedirectFrom = []string{"/cabinet/"}
	srv, err := web.New(web.Deps{DB: e.db, Clock: e.clk, Config: cfg, Biller: e.biller, Subscribers: e.dir, Payments: e.pay,
		Processor: "sandbox", Support: e.support, Fonts: fonts, Office: office, Metrics: metrics.New()})
	if err != nil {
		t.Fatal(err)
	}
	e.ts.Config.Handler = srv.Handler()
	for _, p := range []string{"GET /readyz", "GET /metrics", "GET /healthz", "GET /admin/login", "GET /site/{$}", "POST /api/v1/login", "GET /speedtest"} {
		if !slices.Contains(srv.Patterns(), p) {
			t.Errorf("%q is not mounted", p)
		}
	}
	if _, err := office.Operators.Add(ctx, operator.Actor{}, operator.NewOperator{Login: "root", Role: operator.RoleAdmin, Password: "operator-password"}); err != nil {
		t.Fatal(err)
	}
	c := e.login("alice")
	must(t, c.get("/admin/"), http.StatusSeeOther)
	must(t, c.get("/admin/login"), http.StatusOK, `action="/admin/login"`)
	must(t, c.post("/admin/login", url.Values{"login": {"root"}, "password": {"operator-password"}}), http.StatusSeeOther)
	must(t, c.get("/admin/subscribers?q=alice"), http.StatusOK, "alice")
	must(t, c.get("/"), http.StatusOK) // the subscriber's portal session still works
	must(t, c.get("/site/?city=tver"), http.StatusOK, "Домашний 100")
	must(t, c.get("/cabinet/"), http.StatusMovedPermanently)
	must(t, c.get("/readyz"), http.StatusOK)
	must(t, c.get("/metrics"), http.StatusOK, "kabinet_http_requests_total")
}
