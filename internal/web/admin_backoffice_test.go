package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/web"
	assets "github.com/kabinet-billing/kabinet/web"
)

// TestMountBackOffice wires /admin and /site/ next to the portal the way
// cmd/kabinet does, and checks that one browser can use the portal and the
// back office side by side.
func TestMountBackOffice(t *testing.T) {
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
	if err := e.srv.MountBackOffice(web.BackOffice{Office: office, Support: e.support, RedirectFrom: []string{"/cabinet/"}}); err != nil {
		t.Fatal(err)
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
}
