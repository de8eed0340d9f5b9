package portal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestBrowserCompanyCabinet logs an employee in through the form and looks
// at the cabinet at 360 and 1280 px: it does not scroll sideways, passes
// axe-core's WCAG 2.1 A and AA rules (skipped without axe-core), and a
// wrong colleague's login is announced beside its field.
func TestBrowserCompanyCabinet(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := browsertest.Context(t, 180*time.Second)
	axe := ""
	t.Run("axe", func(t *testing.T) { axe = browsertest.Axe(t) })
	shots := browsertest.Shots(t)
	e := webtest.New(t)
	bg := context.Background()
	svc := company.New(e.DB, e.Clock, e.Biller, e.Dir)
	cli := operator.Actor{Login: "cli"}
	o, err := svc.Create(bg, cli, company.Details{FullName: "Общество с ограниченной ответственностью «Аптека Здоровье»", ShortName: "ООО «Аптека Здоровье»",
		INN: "6950555555", KPP: "695001001"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ id int64 }{{e.IDs["alice"]}, {e.IDs["bob"]}} {
		if err := svc.AttachPoint(bg, cli, o.ID, p.id, "Аптека на Советской, 21 (круглосуточная)"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.AddEmployee(bg, cli, o.ID, "buh@apteka-zdorovie.example", "Новикова Мария Алексеевна", webtest.Password); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, browsertest.BypassCSP()); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.TS.URL+"/login"),
		chromedp.SendKeys(`input[name=login]`, "buh@apteka-zdorovie.example"),
		chromedp.SendKeys(`input[name=password]`, webtest.Password),
		chromedp.Click(`form[action="/login"] button`),
		chromedp.WaitVisible(`#company-points`),
	)
	if err != nil {
		t.Fatalf("employee login: %v", err)
	}
	for _, width := range []int{360, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 800), chromedp.Navigate(e.TS.URL+"/company"), chromedp.WaitVisible(`main`)); err != nil {
			t.Fatal(err)
		}
		if w, err := chromedp.Run(ctx, browsertest.PageWidth()); err != nil || w > width {
			t.Errorf("/company at %d px: the page is %d px wide (%v)", width, w, err)
		}
		if axe != "" {
			v, err := chromedp.Run(ctx, browsertest.Violations(axe))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range v {
				t.Errorf("/company at %d px: WCAG 2.1 AA: %s", width, line)
			}
		}
		if err := chromedp.Do(ctx, browsertest.Screenshot(shots, fmt.Sprintf("portal-company-%d", width))); err != nil {
			t.Fatal(err)
		}
	}
	// The browser's own check would stop "director@"; the server's is
	// the one under test.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('form[action="/company/employees"]').noValidate = true`)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`form[action="/company/employees"] input[name=login]`, "director@"),
		chromedp.SendKeys(`form[action="/company/employees"] input[name=password]`, "secret-pass"),
		chromedp.Click(`form[action="/company/employees"] button`),
		chromedp.WaitVisible(`#login-error`),
	)
	if err != nil {
		t.Fatalf("a wrong login: %v", err)
	}
	invalid, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('form[action="/company/employees"] input[name=login]').getAttribute('aria-invalid')`))
	if err != nil || invalid != "true" {
		t.Errorf("the wrong login is not marked invalid: %q %v", invalid, err)
	}
	if err := chromedp.Do(ctx, browsertest.Screenshot(shots, "portal-company-error-360")); err != nil {
		t.Fatal(err)
	}
}
