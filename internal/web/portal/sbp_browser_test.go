package portal_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestBrowserPayBySBP: in Chromium at phone width the subscriber chooses
// SBP, sees the QR code Kabinet drew and the bank-app button, confirms in
// the sandbox's bank app (a second tab, as the phone would), and the payment
// page, polling by itself, shows the success without a reload and before
// the processor's callback. Then the receipt, sent to the fiscal data
// operator's look-alike, shows in the payment history with its fiscal sign
// and the check link.
func TestBrowserPayBySBP(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := browsertest.Context(t, 120*time.Second)
	e := webtest.New(t)

	var appLink, qrWidth, result string
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(360, 780),
		chromedp.Navigate(e.TS.URL+"/login"),
		chromedp.WaitVisible(`input[name=login]`),
		chromedp.SendKeys(`input[name=login]`, "alice"),
		chromedp.SendKeys(`input[name=password]`, webtest.Password),
		chromedp.Click(`form[action="/login"] button`),
		chromedp.WaitVisible(`[data-testid=balance]`),
		chromedp.Navigate(e.TS.URL+"/payments"),
		chromedp.WaitVisible(`[data-testid=pay-sbp]`),
		chromedp.SetValue(`#pay-amount`, "300"),
		chromedp.Click(`[data-testid=pay-sbp]`),
		chromedp.WaitVisible(`[data-testid=sbp-qr]`),
		chromedp.WaitVisible(`[data-testid=sbp-app]`), // a phone-width page offers the bank's app
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			// The QR code is an image Kabinet drew; it has loaded.
			for range 50 {
				if qrWidth, err = chromedp.Evaluate[string](`String(document.querySelector('[data-testid=sbp-qr]').naturalWidth)`)(ctx, t); err != nil || qrWidth != "0" {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				return err
			}
			appLink, err = chromedp.Evaluate[string](`document.querySelector('[data-testid=sbp-app]').href`)(ctx, t)
			return err
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if qrWidth == "0" || !strings.Contains(appLink, "/pay/sandbox/sbp?") {
		t.Fatalf("qr width %s, bank-app link %q", qrWidth, appLink)
	}

	// The phone: the bank's app confirms the payment.
	bank, cancelBank := chromedp.NewContext(ctx)
	defer cancelBank()
	var done string
	if err := chromedp.Do(bank,
		chromedp.Navigate(appLink),
		chromedp.WaitVisible(`button[value=paid]`),
		chromedp.Click(`button[value=paid]`),
		chromedp.WaitVisible(`p[role=status]`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			done, err = chromedp.Text(`p[role=status]`)(ctx, t)
			return err
		}),
	); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(done, "Вернитесь на страницу оплаты") {
		t.Errorf("bank app says %q", done)
	}
	e.Clock.Advance(5 * time.Second) // past the interval between questions to the processor

	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`[data-testid=payment-result]`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			result, err = chromedp.Text(`[data-testid=payment-result]`)(ctx, t)
			return err
		}),
	); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, "Платёж зачислен") {
		t.Errorf("result %q", result)
	}
	h, _ := e.Pay.History(context.Background(), e.IDs["alice"], 0, 1)
	if len(h) != 1 || h[0].Status != payment.StatusSucceeded {
		t.Errorf("payment %+v", h)
	}

	// The receipt: the payment queued it when it was credited; a worker
	// sends it to an ATOL Online look-alike, and the payment history shows
	// its fiscal sign (ФН, ФД, ФП) and the check link, which opens the
	// receipt.
	atol := &fiscal.Sandbox{Login: "shop", Password: "pass", GroupCode: "group", Clock: e.Clock}
	ts := httptest.NewServer(atol)
	defer ts.Close()
	atol.CheckBase = ts.URL
	set, err := fiscal.SettingsFrom(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	worker := fiscal.New(e.DB, e.Clock, set, &fiscal.ATOL{URL: ts.URL + "/possystem/v5", Login: "shop", Password: "pass", GroupCode: "group", Clock: e.Clock}, nil)
	for range 3 { // register, then (after the poll delay) the report
		if _, err := worker.Process(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(3 * time.Second)
	}
	// alice's cash payment at signing has its receipt too: the SBP one is
	// the card channel's.
	var card fiscal.Receipt
	rs, _ := e.Fiscal.List(context.Background(), fiscal.Filter{AccountID: e.IDs["alice"]})
	for _, r := range rs {
		if r.Channel == "card:sandbox" {
			card = r
		}
	}
	if card.Status != fiscal.StatusDone || card.CheckURL == "" {
		t.Fatalf("the SBP payment's receipt %+v", card)
	}
	link := `a[href="` + card.CheckURL + `"]`
	var row, receipt string
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.TS.URL+"/payments"),
		chromedp.WaitVisible(link),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			row, err = chromedp.Evaluate[string](`document.querySelector('`+link+`').closest('tr').innerText`)(ctx, t)
			return err
		}),
		chromedp.Navigate(card.CheckURL),
		chromedp.WaitVisible(`pre`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			receipt, err = chromedp.Text(`pre`)(ctx, t)
			return err
		}),
	); err != nil {
		t.Fatal(err)
	}
	sign := "ФН " + card.FNNumber + ", ФД " + strconv.FormatInt(card.FiscalDocumentNumber, 10) + ", ФП " + card.FiscalDocumentAttribute
	if !strings.Contains(row, "Чек прихода") || !strings.Contains(row, sign) || !strings.Contains(row, "Проверить чек") || !strings.Contains(row, "300") {
		t.Errorf("payment history row %q, want the receipt's %q", row, sign)
	}
	if !strings.Contains(receipt, "Приход") || !strings.Contains(receipt, "300") {
		t.Errorf("check page %q", receipt)
	}
	if accepted, _, _ := atol.Counts(); accepted != 2 { // alice's cash payment and the SBP one
		t.Errorf("%d documents at the fiscal data operator", accepted)
	}
}
