package portal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestBrowserSuspension: in a phone-sized window alice opens the
// suspension from the home page, asks for a quote for 14 days from today,
// confirms it (the page says the contract is suspended) and comes back at
// once with "resume now".
func TestBrowserSuspension(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := browsertest.Context(t, 120*time.Second)
	shots := browsertest.Shots(t)
	e := webtest.New(t)
	var state, flash string
	text := func(sel string, dst *string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			*dst, err = chromedp.Text(sel)(ctx, t)
			return err
		})
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(360, 800),
		chromedp.Navigate(e.TS.URL+"/login"),
		chromedp.SendKeys(`input[name=login]`, "alice"),
		chromedp.SendKeys(`input[name=password]`, webtest.Password),
		chromedp.Click(`form[action="/login"] button`),
		chromedp.WaitVisible(`[data-testid=balance]`),
		chromedp.Click(`[data-testid=suspension-link]`),
		chromedp.WaitVisible(`input[name=days]`),
		chromedp.SetValue(`input[name=days]`, "14"),
		chromedp.Click(`[data-testid=suspension-quote-button]`),
		chromedp.WaitVisible(`[data-testid=suspension-quote]`),
		browsertest.Screenshot(shots, "portal-suspension-quote-360"),
		chromedp.Click(`[data-testid=suspension-confirm]`),
		chromedp.WaitVisible(`[data-testid=suspension-state]`),
		text(`[data-testid=suspension-state]`, &state),
		browsertest.Screenshot(shots, "portal-suspension-active-360"),
		chromedp.Click(`[data-testid=suspension-resume]`),
		// The page that confirmed the start had its own p.notice.ok: wait
		// for the resumed page, not for any notice.
		chromedp.WaitNotPresent(`[data-testid=suspension-resume]`),
		chromedp.WaitVisible(`p.notice.ok`),
		text(`p.notice.ok`, &flash),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(state, "15.03.2026") || !strings.Contains(state, "29.03.2026") {
		t.Errorf("the state says %q, want from 15.03.2026, back on 29.03.2026", state)
	}
	if !strings.Contains(flash, "С возвращением") {
		t.Errorf("after resume: %q", flash)
	}
}
