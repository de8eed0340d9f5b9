package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/web"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
	assets "github.com/kabinet-billing/kabinet/web"
)

// An employee logs in with their e-mail, sees the organisation's points
// and balance, lets a colleague in (a bad login named beside its field)
// and out; a subscriber never reaches the cabinet.
func TestCompanyCabinet(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	svc := company.New(e.DB, e.Clock, e.Biller, e.Dir)
	cli := operator.Actor{Login: "cli"}
	o, err := svc.Create(ctx, cli, company.Details{FullName: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.AttachPoint(ctx, cli, o.ID, e.IDs["bob"], "Склад на Советской"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddEmployee(ctx, cli, o.ID, "buh@romashka.example", "Бухгалтер", webtest.Password); err != nil {
		t.Fatal(err)
	}
	c := e.Client()
	c.Get("/login")
	r := c.Post("/login", url.Values{"login": {"Buh@Romashka.example"}, "password": {"wrong-password"}})
	webtest.Must(t, r, http.StatusUnauthorized, "Неверный логин или пароль.")
	r = c.Post("/login", url.Values{"login": {"Buh@Romashka.example"}, "password": {webtest.Password}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/company" {
		t.Fatalf("employee login: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := c.Get("/"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/company" {
		t.Errorf("an employee at the subscriber's home: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := c.Get("/payments"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Errorf("an employee on a subscriber's page: %d %s", r.Status, r.Header.Get("Location"))
	}
	webtest.Must(t, c.Get("/company"), http.StatusOK, "ООО «Ромашка»", "Склад на Советской", "bob", `id="documents"`, "buh@romashka.example")
	r = c.Post("/company/employees", url.Values{"login": {"director"}, "password": {"secret-pass"}})
	webtest.Must(t, r, http.StatusUnprocessableEntity, `aria-describedby="login-error"`, "Логин сотрудника — его адрес эл. почты.")
	r = c.Post("/company/employees", url.Values{"login": {"director@romashka.example"}, "name": {"Директор"}, "password": {"secret-pass"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("add a colleague: %d %s", r.Status, webtest.Snippet(r.Body))
	}
	list, _ := svc.Employees(ctx, o.ID)
	if len(list) != 2 {
		t.Fatalf("employees %+v", list)
	}
	colleague := "/company/employees/" + strconv.FormatInt(list[1].ID, 10)
	if r := c.Post("/company/employees/"+strconv.FormatInt(list[0].ID, 10), url.Values{"active": {"0"}}); r.Status != http.StatusNotFound {
		t.Errorf("an employee turning themselves off: %d", r.Status)
	}
	if r := c.Post(colleague, url.Values{"active": {"0"}}); r.Status != http.StatusSeeOther {
		t.Errorf("turning a colleague off: %d", r.Status)
	}
	d := e.Client()
	d.Get("/login")
	if r := d.Post("/login", url.Values{"login": {"director@romashka.example"}, "password": {"secret-pass"}}); r.Status != http.StatusUnauthorized {
		t.Errorf("a colleague turned off logs in: %d", r.Status)
	}
	for _, lang := range platform.Langs {
		c.Post("/lang", url.Values{"lang": {lang}, "back": {"/company"}})
		if r := c.Get("/company"); r.Status != http.StatusOK {
			t.Errorf("/company (%s): %d", lang, r.Status)
		}
	}
	alice := e.Login("alice")
	// The point's own login is told whose contract pays for it; a
	// person's home says nothing of companies.
	b, _ := svc.Balance(ctx, o.ID)
	bobHome := e.Login("bob").Get("/")
	webtest.Must(t, bobHome, http.StatusOK, `data-testid="company-point">Точка подключения организации ООО «Ромашка»: абонентскую плату оплачивает организация, баланс договора — `+b.Total.Format("ru")+`.`,
		`data-testid="company-pays"`)
	if strings.Contains(bobHome.Body, `action="/payments/card"`) {
		t.Error("the point's home offers to pay by card what the company pays")
	}
	if r := alice.Get("/"); strings.Contains(r.Body, `data-testid="company-point"`) {
		t.Error("a person's home names a company")
	}
	if r := alice.Get("/company"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Errorf("a subscriber at /company: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := alice.Post(colleague, url.Values{"active": {"1"}}); r.Status != http.StatusSeeOther || strings.Contains(r.Header.Get("Location"), "company") {
		t.Errorf("a subscriber turning an employee on: %d %s", r.Status, r.Header.Get("Location"))
	}
	if m := e.Srv.Platform.I18n.Missing(); len(m) > 0 {
		t.Errorf("untranslated: %v", m)
	}
}

// The cabinet lists the organisation's documents and downloads its own;
// another organisation's document is not found.
func TestCompanyDocuments(t *testing.T) {
	db := storetest.SQLite(t)
	var svc *company.Service
	var docs *documents.Service
	e := webtest.NewWith(t, db, func(e *webtest.Env, d *web.Deps) {
		svc = company.New(e.DB, e.Clock, e.Biller, e.Dir)
		fonts, err := contract.LoadFonts(assets.FS)
		if err != nil {
			t.Fatal(err)
		}
		if docs, err = documents.New(e.DB, e.Clock, documents.Companies{C: svc}, fonts, documents.Options{Provider: config.Default().Provider.WithDemoDetails()}); err != nil {
			t.Fatal(err)
		}
		d.Company, d.Documents = svc, docs
	})
	ctx := context.Background()
	cli := operator.Actor{Login: "cli"}
	var orgs []company.Organisation
	for i, inn := range []string{"7707083893", "7736050003"} {
		o, err := svc.Create(ctx, cli, company.Details{FullName: "ООО «Организация " + strconv.Itoa(i+1) + "»", INN: inn})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.AttachPoint(ctx, cli, o.ID, e.IDs[[]string{"alice", "bob"}[i]], ""); err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, o)
	}
	if _, err := svc.AddEmployee(ctx, cli, orgs[0].ID, "buh@romashka.example", "Бухгалтер", webtest.Password); err != nil {
		t.Fatal(err)
	}
	res, err := docs.Run(ctx, "2026-04")
	if err != nil || res.Invoices != 2 {
		t.Fatalf("run: %+v %v", res, err)
	}
	c := e.Client()
	c.Get("/login")
	c.Post("/login", url.Values{"login": {"buh@romashka.example"}, "password": {webtest.Password}})
	mine, theirs := res.Issued[0], res.Issued[1]
	webtest.Must(t, c.Get("/company"), http.StatusOK, "Счёт № "+mine.Number, "ждёт оплаты", "/company/documents/"+strconv.FormatInt(mine.ID, 10))
	if r := c.Get("/company/documents/" + strconv.FormatInt(mine.ID, 10)); r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "%PDF-") {
		t.Errorf("own document: %d", r.Status)
	}
	if r := c.Get("/company/documents/" + strconv.FormatInt(theirs.ID, 10)); r.Status != http.StatusNotFound {
		t.Errorf("another organisation's document: %d", r.Status)
	}
}
