package portal_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/telegram/telegramtest"
	"github.com/kabinet-billing/kabinet/internal/web"
	"github.com/kabinet-billing/kabinet/internal/web/bot"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// withBot is the portal with the Telegram bot on a fake Bot API, long
// polling it until the test ends.
func withBot(t *testing.T) (*webtest.Env, *telegramtest.Fake, *telegram.Links) {
	t.Helper()
	fake := telegramtest.Start(t)
	var links *telegram.Links
	e := webtest.NewWith(t, storetest.SQLite(t), func(e *webtest.Env, d *web.Deps) {
		links = telegram.NewLinks(e.DB, e.Clock, 15*time.Minute)
		d.Promises = promise.New(e.DB, e.Clock, e.Biller, promise.DefaultRules())
		b, err := bot.New(bot.Deps{DB: e.DB, Clock: e.Clock, Biller: e.Biller, Subscribers: e.Dir, Promises: d.Promises, Links: links,
			Client: telegram.NewClient(telegramtest.Token, fake.URL()), PortalURL: "https://lk.example", Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { b.Run(ctx, "", ""); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		d.Telegram, d.TelegramLinks = b, links
	})
	return e, fake, links
}

var startRe = regexp.MustCompile(`href="https://t\.me/` + telegramtest.BotUsername + `\?start=([A-Za-z0-9_-]+)"`)

// TestTelegramProfile: alice connects Telegram from the profile: the page
// shows the one-time deep link and its QR code, the bot links the chat on
// /start with it, the profile then says connected, and she disconnects.
// Without a bot the profile offers none.
func TestTelegramProfile(t *testing.T) {
	e, fake, links := withBot(t)
	ctx := context.Background()
	alice := e.Login("alice")
	webtest.Must(t, alice.Get("/profile"), http.StatusOK, "Подключить Telegram", `action="/profile/telegram"`)
	r := alice.Post("/profile/telegram", nil)
	webtest.Must(t, r, http.StatusOK, "Открыть бота в Telegram", `data-testid="telegram-qr"`, `src="data:image/svg`, "действует до 12:15")
	m := startRe.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no deep link in %s", webtest.Snippet(r.Body))
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the page with the link may be cached: %q", r.Header.Get("Cache-Control"))
	}
	user := telegram.User{ID: 4242, FirstName: "Alice", Username: "alice_tg", LanguageCode: "ru"}
	fake.Say(user, "/start "+m[1])
	if got := fake.Last(user.ID, 1); !strings.Contains(got.Text, "Готово") {
		t.Fatalf("bot answered %q", got.Text)
	}
	if k, ok, _ := links.OfAccount(ctx, e.IDs["alice"]); !ok || k.ChatID != user.ID {
		t.Fatalf("alice's link: %+v %v", k, ok)
	}
	webtest.Must(t, alice.Get("/profile"), http.StatusOK, `data-testid="telegram-linked"`, "@alice_tg", "Отключить Telegram")
	// The same link again: used.
	fake.Say(telegram.User{ID: 777, FirstName: "Eve"}, "/start "+m[1])
	if got := fake.Last(777, 1); !strings.Contains(got.Text, "уже использована") {
		t.Errorf("second use answered %q", got.Text)
	}
	r = alice.Post("/profile/telegram/unlink", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("unlink: %d", r.Status)
	}
	webtest.Must(t, alice.Get("/profile"), http.StatusOK, "Telegram отключён.", "Подключить Telegram")
	if _, ok, _ := links.OfAccount(ctx, e.IDs["alice"]); ok {
		t.Error("still linked")
	}

	plain := webtest.New(t)
	bob := plain.Login("bob")
	if strings.Contains(bob.Get("/profile").Body, "telegram") {
		t.Error("the profile offers Telegram without a bot")
	}
	if r := bob.Post("/profile/telegram", url.Values{}); r.Status != http.StatusNotFound {
		t.Errorf("linking without a bot: %d", r.Status)
	}
}

// TestBrowserTelegramLink: in Chromium alice presses "Подключить
// Telegram" in her profile; the user in Telegram opens the page's link
// (the fake Bot API delivers /start with its token to the bot) and the
// profile, reloaded, shows Telegram connected.
func TestBrowserTelegramLink(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := browsertest.Context(t, 90*time.Second)
	axe := ""
	t.Run("axe", func(t *testing.T) { axe = browsertest.Axe(t) })
	e, fake, _ := withBot(t)
	// The card at phone width: no wider than the screen, and WCAG 2.1 AA.
	check := func(what string) {
		t.Helper()
		if w, err := chromedp.Run(ctx, browsertest.PageWidth()); err != nil || w > 390 {
			t.Errorf("%s: the page is %d px wide (%v)", what, w, err)
		}
		if axe == "" {
			return
		}
		v, err := chromedp.Run(ctx, browsertest.Violations(axe))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range v {
			t.Errorf("%s: WCAG 2.1 AA: %s", what, line)
		}
	}
	var href, linked string
	err := chromedp.Do(ctx,
		browsertest.BypassCSP(),
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.TS.URL+"/login"),
		chromedp.WaitVisible(`input[name=login]`),
		chromedp.SendKeys(`input[name=login]`, "alice"),
		chromedp.SendKeys(`input[name=password]`, webtest.Password),
		chromedp.Click(`form[action="/login"] button`),
		chromedp.WaitVisible(`[data-testid=balance]`),
		chromedp.Navigate(e.TS.URL+"/profile"),
		chromedp.WaitVisible(`[data-testid=telegram-connect]`),
		chromedp.Click(`[data-testid=telegram-connect]`),
		chromedp.WaitVisible(`[data-testid=telegram-link]`),
		chromedp.WaitVisible(`[data-testid=telegram-qr]`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			href, err = chromedp.Evaluate[string](`document.querySelector('[data-testid=telegram-link]').getAttribute('href')`)(ctx, t)
			return err
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	check("the link")
	u, err := url.Parse(href)
	if err != nil || u.Host != "t.me" || u.Path != "/"+telegramtest.BotUsername || u.Query().Get("start") == "" {
		t.Fatalf("deep link %q", href)
	}
	user := telegram.User{ID: 5151, FirstName: "Alice", Username: "alice_phone", LanguageCode: "ru"}
	fake.Say(user, "/start "+u.Query().Get("start"))
	fake.Last(user.ID, 1)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.TS.URL+"/profile"),
		chromedp.WaitVisible(`[data-testid=telegram-linked]`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			linked, err = chromedp.Text(`[data-testid=telegram-linked]`)(ctx, t)
			return err
		}),
	); err != nil {
		t.Fatal(err)
	}
	check("connected")
	if !strings.Contains(linked, "@alice_phone") {
		t.Errorf("profile says %q", linked)
	}
}
