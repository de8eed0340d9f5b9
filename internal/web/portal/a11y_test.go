package portal_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/content"
	site "github.com/kabinet-billing/kabinet/internal/web/public"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
	assets "github.com/kabinet-billing/kabinet/web"
)

// TestBrowserEveryPage opens every portal page a subscriber reaches, and
// the public site, at 360 and 1280 px: none scrolls sideways, each passes
// axe-core's WCAG 2.1 A and AA rules (skipped, saying so, without
// axe-core), and each is photographed for a person to look at.
func TestBrowserEveryPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := browsertest.Context(t, 420*time.Second)
	axe := ""
	t.Run("axe", func(t *testing.T) { axe = browsertest.Axe(t) })
	shots := browsertest.Shots(t)
	e := webtest.New(t)
	if _, err := content.Add(context.Background(), e.DB, content.Item{Kind: content.KindNews, Title: "Плановые работы",
		Body: "В ночь на 20 марта возможны перерывы связи до 15 минут.", PublishedAt: e.Clock.Now().Add(-time.Minute)}, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	public := []string{"/login", "/site/", "/site/?city=tver", "/site/apply", "/site/contacts"}
	portal := []string{"/", "/payments", "/payments/howto", "/tariffs", "/tariffs/home300", "/packages", "/packages/drweb", "/bonus", "/statement",
		"/traffic", "/traffic/classes", "/speedtest", "/requests", "/chat", "/profile",
		"/suspension", "/suspension?days=14&from=" + e.Clock.Now().In(e.Srv.Platform.Zone).Format("2006-01-02"), "/suspension?days=1&from=2000-01-01"}
	// The public site, as serve mounts it beside the portal.
	if _, err := site.Register(e.Srv.Platform, site.Deps{DB: e.DB, Support: e.Support, Files: assets.FS}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx, browsertest.BypassCSP())
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string, width int) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(e.TS.URL+path), chromedp.WaitVisible(`main`)); err != nil {
			t.Fatalf("%s at %d px: %v", path, width, err)
		}
		if w, err := chromedp.Run(ctx, browsertest.PageWidth()); err != nil || w > width {
			t.Errorf("%s at %d px: the page is %d px wide (%v)", path, width, w, err)
		}
		if axe != "" {
			v, err := chromedp.Run(ctx, browsertest.Violations(axe))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, line := range v {
				t.Errorf("%s at %d px: WCAG 2.1 AA: %s", path, width, line)
			}
		}
		name := strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(strings.Trim(path, "/"))
		if name == "" {
			name = "home"
		}
		if err := chromedp.Do(ctx, browsertest.Screenshot(shots, fmt.Sprintf("portal-%s-%d", name, width))); err != nil {
			t.Fatal(err)
		}
	}
	for _, width := range []int{360, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 800)); err != nil {
			t.Fatal(err)
		}
		for _, p := range public {
			check(p, width)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.TS.URL+"/login"),
		chromedp.SendKeys(`input[name=login]`, "alice"),
		chromedp.SendKeys(`input[name=password]`, webtest.Password),
		chromedp.Click(`form[action="/login"] button`),
		chromedp.WaitVisible(`[data-testid=balance]`),
	)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, width := range []int{360, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 800)); err != nil {
			t.Fatal(err)
		}
		for _, p := range portal {
			check(p, width)
		}
		// A refused form: the error beside its field, announced, and the
		// page still within the bar.
		err := chromedp.Do(ctx, chromedp.Navigate(e.TS.URL+"/profile"), chromedp.WaitVisible(`form[action="/profile"]`),
			chromedp.SetValue(`form[action="/profile"] input[name="email"]`, "not an address"),
			chromedp.Click(`form[action="/profile"] button`), chromedp.WaitVisible(`#email-error`))
		if err != nil {
			t.Fatalf("profile error at %d px: %v", width, err)
		}
		if axe != "" {
			v, err := chromedp.Run(ctx, browsertest.Violations(axe))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range v {
				t.Errorf("profile error at %d px: WCAG 2.1 AA: %s", width, line)
			}
		}
		if err := chromedp.Do(ctx, browsertest.Screenshot(shots, fmt.Sprintf("portal-profile-error-%d", width))); err != nil {
			t.Fatal(err)
		}
	}
}
