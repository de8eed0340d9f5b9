package admin_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/notify/notifytest"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/web/public"

	assets "github.com/kabinet-billing/kabinet/web"
)

// follow clicks sel, which leads to another page, and waits until the page
// the click loads (after any redirect) is up: status 200 at a path starting
// with prefix. Waiting for an element instead can be satisfied by the page
// being left before its form is even posted, and the next Navigate then
// races the form's own navigation: it aborts the POST, or the POST, started
// by a user's click, replaces it and the next wait stalls on the wrong page.
func follow(sel, prefix string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("click %s: %w", sel, err)
		}
		if resp == nil {
			return chromedp.Void{}, fmt.Errorf("click %s: no response", sel)
		}
		if u, err := url.Parse(resp.URL); err != nil || resp.Status != http.StatusOK || !strings.HasPrefix(u.Path, prefix) {
			return chromedp.Void{}, fmt.Errorf("click %s: %d %s, want a page under %s", sel, resp.Status, resp.URL, prefix)
		}
		return chromedp.Void{}, nil
	}
}

// TestBrowserContractAndReset drives the back office in headless Chromium:
// a manager signs a contract, sees the credentials once, resets the
// password, and the letters that arrive at a real SMTP server carry the
// passwords that work. Screenshots go to $KABINET_SCREENSHOTS (or a
// temporary directory).
func TestBrowserContractAndReset(t *testing.T) {
	smtp, _ := notifytest.Start(t, false, "", "")
	host, port, _ := net.SplitHostPort(smtp.Addr)
	p, _ := strconv.Atoi(port)
	e := newEnv(t, &notify.SMTP{Config: notify.Config{Host: host, Port: p, Security: "none"}})
	shots := os.Getenv("KABINET_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	os.MkdirAll(shots, 0o755)

	ctx := browsertest.Context(t, 120*time.Second, chromedp.WindowSize(1280, 1000))
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			b, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644)
		}
	}
	base := e.srv.URL
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/admin/login"),
		chromedp.SendKeys(`input[name="login"]`, "manager"),
		chromedp.SendKeys(`input[name="password"]`, password),
		shot("01-login"),
		follow(`form[action="/admin/login"] button`, "/admin/"),
		chromedp.WaitVisible(`nav.tabs`),
		chromedp.Navigate(base+"/admin/subscribers/new"),
		chromedp.SendKeys(`#contract-form input[name="name"]`, "Смирнова Ольга Петровна"),
		// Choosing the city brings its tariffs (htmx): only then is there one to sign.
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](`(() => { const s = document.querySelector('#contract-form select[name=city]');
				s.value = 'tver'; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`)(ctx, t)
			return chromedp.Void{}, err
		},
		chromedp.WaitReady(`#contract-form select[name="tariff"] option[value="home"]`),
		chromedp.SendKeys(`#contract-form input[name="address"]`, "ул. Советская, 10, кв. 3"),
		chromedp.SendKeys(`#contract-form input[name="phone"]`, "+7 900 555-44-33"),
		chromedp.SendKeys(`#contract-form input[name="email"]`, "olga@example.net"),
		shot("02-contract-form"),
		follow(`#contract-form button`, "/admin/issued/"),
		chromedp.WaitVisible(`#issued-password`),
		shot("03-credentials"),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	login, err := chromedp.Run(ctx, chromedp.Text(`#issued-login`))
	if err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(`#issued-password`))
	if err != nil {
		t.Fatal(err)
	}
	login, shown = strings.TrimSpace(login), strings.TrimSpace(shown)
	if len(shown) != 10 {
		t.Fatalf("shown password %q", shown)
	}
	err = chromedp.Do(ctx,
		follow(`.credentials a[href^="/admin/subscribers/"]`, "/admin/subscribers/"),
		chromedp.WaitVisible(`#reset-form`),
		chromedp.SendKeys(`#reset-form input[name="confirmed_by"]`, "паспорт 28 04 123456 в офисе"),
		follow(`#reset-form button`, "/admin/subscribers/"),
		chromedp.WaitVisible(`.notice.ok`),
		shot("04-after-reset"),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(`.notice.ok`))
	if !strings.Contains(flash, "поставлено в очередь") {
		t.Errorf("after reset the page says %q", flash)
	}
	body, _ := chromedp.Run(ctx, chromedp.Text(`main`))
	if strings.Contains(body, shown) {
		t.Error("the card shows a password")
	}

	// The letters arrive at the SMTP server.
	if sent, failed, err := e.office.Mail.Deliver(context.Background()); err != nil || sent != 2 || failed != 0 {
		t.Fatalf("deliver: sent %d failed %d %v", sent, failed, err)
	}
	got := smtp.Messages()
	if len(got) != 2 {
		t.Fatalf("%d letters arrived", len(got))
	}
	var bodies []string
	for _, m := range got {
		msg, err := mail.ReadMessage(strings.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		b, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if m.To[0] != "olga@example.net" {
			t.Errorf("letter to %v", m.To)
		}
		t.Logf("letter %q", subj)
		bodies = append(bodies, string(b))
	}
	if !strings.Contains(bodies[0], "Пароль: "+shown) || !strings.Contains(bodies[0], "Логин: "+login) {
		t.Errorf("credentials letter lacks the shown password:\n%s", bodies[0])
	}
	m := regexp.MustCompile(`Новый пароль: (\S+)`).FindStringSubmatch(bodies[1])
	if m == nil {
		t.Fatalf("reset letter:\n%s", bodies[1])
	}
	if _, err := e.office.Dir.Authenticate(context.Background(), login, m[1]); err != nil {
		t.Errorf("the mailed password does not log in: %v", err)
	}
	if _, err := e.office.Dir.Authenticate(context.Background(), login, shown); err == nil {
		t.Error("the first password still logs in after the reset")
	}
	entries, _ := e.office.Operators.Search(context.Background(), operator.AuditQuery{Operator: "manager", Action: "subscriber."})
	if len(entries) != 2 || entries[0].Action != "subscriber.password_reset" || !strings.Contains(entries[0].Note, "паспорт 28 04") {
		t.Errorf("audit: %+v", entries)
	}
	// The back office's mail page, as an admin, and the audit log.
	if _, err := public.Register(e.p, public.Deps{DB: e.office.DB, Support: support.New(e.office.DB, e.clk), Files: assets.FS}); err != nil {
		t.Fatal(err)
	}
	for k, act := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/admin/mail"),
		chromedp.WaitVisible(`table.list`),
		shot("05-mail"),
		chromedp.Navigate(base + "/admin/reports"),
		chromedp.WaitVisible(`svg.chart`),
		shot("06-reports"),
		chromedp.Navigate(base + "/site/?city=tver"),
		chromedp.WaitVisible(`.card.tariff`),
		shot("07-site"),
		follow(`.card.tariff a.btn`, "/site/apply"),
		chromedp.WaitVisible(`#apply-form`),
		chromedp.SendKeys(`#apply-form input[name="name"]`, "Сергей"),
		chromedp.SendKeys(`#apply-form input[name="phone"]`, "+7 900 777-66-55"),
		chromedp.Click(`#apply-form input[name="consent"]`),
		// The form itself is "main .card.narrow"; the thanks card is a section.
		follow(`#apply-form button`, "/site/thanks"),
		chromedp.WaitVisible(`main section.card.narrow`),
		shot("08-site-thanks"),
		chromedp.Navigate(base + "/admin/support"),
		chromedp.WaitVisible(`#applications`),
		shot("09-applications"),
	} {
		t.Logf("step %d", k)
		// A step's own bound, so that a hang names its step and leaves
		// time to say where the browser is.
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		err = chromedp.Do(sctx, act)
		scancel()
		if err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Logf("step %d failed at %s", k, loc)
			break
		}
	}
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	apps, _ := support.New(e.office.DB, e.clk).Applications(context.Background(), "new", 10)
	if len(apps) != 1 || apps[0].Name != "Сергей" || apps[0].TariffCode != "home" {
		t.Errorf("application from the site: %+v", apps)
	}
	t.Logf("screenshots in %s", shots)
}

// TestBrowserConfirmDialog: deleting a news item in Chromium, under the
// page's real Content-Security-Policy, asks first; "Отмена" keeps the item,
// "Подтвердить" deletes it. At 360 px the dialog fits the screen.
func TestBrowserConfirmDialog(t *testing.T) {
	ctx := browsertest.Context(t, 60*time.Second)
	e := newEnv(t, nil)
	shots := browsertest.Shots(t)
	items := func() int {
		var n int
		if err := e.office.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM content_items`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := items()
	base := e.srv.URL
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(base+"/admin/login"),
		chromedp.SendKeys(`input[name="login"]`, "admin"),
		chromedp.SendKeys(`input[name="password"]`, password),
		follow(`form[action="/admin/login"] button`, "/admin/"),
		chromedp.Navigate(base+"/admin/news"),
		chromedp.Click(`form[action$="/delete"] button`),
		chromedp.WaitVisible(`#confirm-dialog[open]`),
		browsertest.Screenshot(shots, "admin-confirm-360"),
		chromedp.Click(`#confirm-dialog button[value="cancel"]`),
		chromedp.WaitNotPresent(`#confirm-dialog[open]`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if n := items(); n != before {
		t.Fatalf("cancelled, yet %d items of %d are left", n, before)
	}
	text, _ := chromedp.Run(ctx, chromedp.TextContent(`#confirm-dialog-text`))
	if !strings.Contains(text, "Удалить новость «Новость»") {
		t.Errorf("the dialog asked %q", text)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`form[action$="/delete"] button`),
		chromedp.WaitVisible(`#confirm-dialog[open]`),
		follow(`#confirm-dialog button[value="ok"]`, "/admin/news"),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if n := items(); n != before-1 {
		t.Errorf("confirmed, and %d items of %d are left", n, before)
	}
}

// TestBrowserBackOfficeFits: a field engineer opens the back office on a
// phone. At 360 px no page scrolls sideways (tables scroll inside
// themselves), and at 1280 px every menu item is shown whole. Every page
// passes axe-core's WCAG 2.1 A and AA rules at both widths. Screenshots of
// every page at both widths go to $KABINET_SCREENSHOTS.
func TestBrowserBackOfficeFits(t *testing.T) {
	ctx := browsertest.Context(t, 240*time.Second)
	axe := axeOrNothing(t)
	e := newEnv(t, nil)
	c := e.login(operator.RoleAdmin)
	c.post("/admin/subscribers/1/correct", url.Values{"amount": {"10"}, "reason": {"ошибка"}, "key": {"k1"}})
	seedCompany(t, e)
	shots := browsertest.Shots(t)
	err := chromedp.Do(ctx,
		browsertest.BypassCSP(),
		chromedp.Navigate(e.srv.URL+"/admin/login"),
		chromedp.SendKeys(`input[name="login"]`, "admin"),
		chromedp.SendKeys(`input[name="password"]`, password),
		follow(`form[action="/admin/login"] button`, "/admin/"),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	pages := []string{"/admin/", "/admin/subscribers", "/admin/subscribers/new", "/admin/subscribers/1", "/admin/catalogue",
		"/admin/traffic-classes", "/admin/news", "/admin/debtors", "/admin/reports", "/admin/audit", "/admin/operators",
		"/admin/mail", "/admin/support", "/admin/support/chat/1", "/admin/network",
		"/admin/companies", "/admin/companies/new", "/admin/companies/1", "/admin/companies/1/edit", "/admin/companies/debtors", "/admin/bank",
		"/admin/receipts", "/admin/subscribers?sort=name&dir=desc"}
	for _, width := range []int{360, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 800)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+p), chromedp.WaitVisible(`main`)); err != nil {
				t.Fatalf("%s at %d: %v", p, width, err)
			}
			wide, err := chromedp.Run(ctx, browsertest.PageWidth())
			if err != nil {
				t.Fatal(err)
			}
			if wide > width {
				t.Errorf("%s at %d px: the page is %d px wide", p, width, wide)
			}
			if axe != "" {
				v, err := chromedp.Run(ctx, browsertest.Violations(axe))
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				for _, line := range v {
					t.Errorf("%s at %d px: WCAG 2.1 AA: %s", p, width, line)
				}
			}
			if width == 1280 {
				cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('nav.tabs a')].filter(a => {
					const r = a.getBoundingClientRect(), n = a.closest('nav').getBoundingClientRect();
					return r.right > n.right + 0.5 || r.left < n.left - 0.5 || a.scrollWidth > a.clientWidth;
				}).map(a => a.textContent)`))
				if err != nil {
					t.Fatal(err)
				}
				if len(cut) > 0 {
					t.Errorf("%s at 1280 px: menu items cut off: %v", p, cut)
				}
			}
			name := strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-", "&", "-").Replace(strings.TrimPrefix(p, "/admin")), "-")
			if name == "" {
				name = "home"
			}
			if err := chromedp.Do(ctx, browsertest.Screenshot(shots, fmt.Sprintf("admin-%s-%d", name, width))); err != nil {
				t.Fatal(err)
			}
		}
		// The contract form refused: each error beside its field.
		err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/admin/subscribers/new"), chromedp.WaitVisible(`#contract-form`),
			chromedp.SendKeys(`#contract-form input[name="name"]`, "x"),
			chromedp.Click(`#contract-form button.primary`), chromedp.WaitVisible(`#name-error`))
		if err != nil {
			t.Fatalf("contract error at %d px: %v", width, err)
		}
		if wide, err := chromedp.Run(ctx, browsertest.PageWidth()); err != nil || wide > width {
			t.Errorf("contract error at %d px: the page is %d px wide (%v)", width, wide, err)
		}
		if axe != "" {
			v, err := chromedp.Run(ctx, browsertest.Violations(axe))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range v {
				t.Errorf("contract error at %d px: WCAG 2.1 AA: %s", width, line)
			}
		}
		if err := chromedp.Do(ctx, browsertest.Screenshot(shots, fmt.Sprintf("admin-contract-error-%d", width))); err != nil {
			t.Fatal(err)
		}
	}
}

// axeOrNothing is axe-core's source, or "" (said in the log) without it: the
// layout checks still run.
func axeOrNothing(t *testing.T) (src string) {
	t.Run("axe", func(t *testing.T) { src = browsertest.Axe(t) })
	return src
}
