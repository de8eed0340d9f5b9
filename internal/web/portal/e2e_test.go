package portal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestBrowser drives Debian's Chromium through the portal as a subscriber
// would: log in, read the balance, change tariff, connect the antivirus,
// download a PDF statement, file a request. Screenshots of home, tariffs and
// the statement at phone width go to $KABINET_ARTIFACTS (or a temp dir).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := webtest.New(t)
	// A news item for every city: its card carries the class "news", which
	// once also named the list's grid and split the card into three columns.
	if _, err := content.Add(context.Background(), e.DB, content.Item{Kind: content.KindNews, Title: "Плановые работы",
		Body: "В ночь на 20 марта возможны перерывы связи до 15 минут.", PublishedAt: e.Clock.Now().Add(-time.Minute)}, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	artifacts := os.Getenv("KABINET_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	downloads := t.TempDir()
	ctx := browsertest.Context(t, 90*time.Second, chromedp.WindowSize(390, 844))

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, t)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(artifacts, name+".png"), buf, 0o644)
		})
	}
	text := func(sel string, dst *string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			*dst, err = chromedp.Text(sel)(ctx, t)
			return err
		})
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	var balance, flash, license, reqTitle, answer, newsLayout string
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(360, 780), // the narrowest phone the layout is made for
		chromedp.Navigate(e.TS.URL+"/"),
		chromedp.WaitVisible(`input[name=login]`),
		shot("login"),
		chromedp.SendKeys(`input[name=login]`, "alice"),
		chromedp.SendKeys(`input[name=password]`, webtest.Password),
		chromedp.Click(`form[action="/login"] button`),
		chromedp.WaitVisible(`[data-testid=balance]`),
		text(`[data-testid=balance]`, &balance),
		shot("home"),
		chromedp.EmulateViewport(1280, 900),
		// Each news card stacks its date, title and text in one column.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			newsLayout, err = chromedp.Evaluate[string](`[...document.querySelectorAll('.news-list article')].map(a => getComputedStyle(a).display).join(',')`)(ctx, t)
			return err
		}),
		shot("home-1280"),
		chromedp.EmulateViewport(360, 780),
		chromedp.Navigate(e.TS.URL+"/tariffs"),
		chromedp.WaitVisible(`a[href="/tariffs/home300"]`),
		shot("tariffs"),
		chromedp.Click(`a[href="/tariffs/home300"]`),
		chromedp.WaitVisible(`[data-testid=confirm-tariff]`),
		chromedp.Click(`[data-testid=confirm-tariff]`),
		chromedp.WaitVisible(`.notice.ok`),
		text(`.notice.ok`, &flash),
		chromedp.Navigate(e.TS.URL+"/packages/drweb"),
		chromedp.WaitVisible(`[data-testid=confirm-package]`),
		chromedp.Click(`[data-testid=confirm-package]`),
		chromedp.WaitVisible(`[data-testid=license]`),
		text(`[data-testid=license]`, &license),
		shot("packages"),
		chromedp.Navigate(e.TS.URL+"/statement?from=2026-03-01&to=2026-03-31"),
		chromedp.WaitVisible(`[data-testid=pdf]`),
		shot("statement"),
		chromedp.Click(`[data-testid=pdf]`),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			// Wait for the file to land; the browser names it from
			// Content-Disposition.
			for range 100 {
				if m, _ := filepath.Glob(filepath.Join(downloads, "*.pdf")); len(m) > 0 {
					return nil
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(100 * time.Millisecond):
				}
			}
			return nil
		}),
		chromedp.Navigate(e.TS.URL+"/requests"),
		chromedp.WaitVisible(`form[action="/requests"]`),
		chromedp.SetValue(`select[name=kind]`, "question"),
		chromedp.SendKeys(`input[name=subject]`, "Как настроить роутер?"),
		chromedp.SendKeys(`textarea[name=body]`, "Купил новый роутер, подскажите настройки."),
		chromedp.Click(`form[action="/requests"] button`),
		chromedp.WaitVisible(`.thread`),
		text(`h1`, &reqTitle),
		// The chat updates without a reload: the subscriber's own message
		// through htmx, the consultant's answer through the poller.
		chromedp.Navigate(e.TS.URL+"/chat"),
		chromedp.WaitVisible(`input[name=body]`),
		chromedp.SendKeys(`input[name=body]`, "Здравствуйте!"),
		chromedp.Click(`[data-testid=chat-send]`),
		chromedp.WaitVisible(`#chat-log .msg.me`),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := e.Support.Respond(ctx, e.IDs["alice"], "oper", "Чем можем помочь?")
			return err
		}),
		chromedp.WaitVisible(`#chat-log .msg.them`),
		text(`#chat-log .msg.them p`, &answer),
		shot("chat"),
	)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := e.Biller.Summary(context.Background(), e.IDs["alice"])
	if newsLayout == "" || strings.Contains(newsLayout, "grid") {
		t.Errorf("news cards at 1280 px are laid out as %q, want block cards", newsLayout)
	}
	if !strings.Contains(balance, "₽") {
		t.Errorf("balance shown as %q", balance)
	}
	if s.Tariff.Code != "home300" || !strings.Contains(flash, "Тариф изменён") {
		t.Errorf("tariff %s, flash %q", s.Tariff.Code, flash)
	}
	if len(strings.TrimSpace(license)) < 8 {
		t.Errorf("licence key %q", license)
	}
	pdfs, _ := filepath.Glob(filepath.Join(downloads, "*.pdf"))
	if len(pdfs) != 1 {
		t.Fatalf("downloaded PDFs: %v", pdfs)
	}
	if b, _ := os.ReadFile(pdfs[0]); !strings.HasPrefix(string(b), "%PDF") {
		t.Error("the download is not a PDF")
	} else {
		os.WriteFile(filepath.Join(artifacts, "statement.pdf"), b, 0o644)
	}
	if !strings.Contains(reqTitle, "Как настроить роутер?") {
		t.Errorf("request page title %q", reqTitle)
	}
	if answer != "Чем можем помочь?" {
		t.Errorf("chat answer shown as %q", answer)
	}
	reqs, _ := e.Support.Requests(context.Background(), e.IDs["alice"])
	if len(reqs) != 1 {
		t.Errorf("requests filed: %d", len(reqs))
	}
	t.Logf("screenshots in %s", artifacts)
}
