package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
	"github.com/kabinet-billing/kabinet/internal/store"
)

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// portalLogin logs in through the portal's form, as a browser would.
func (e *env) portalLogin(login string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Get(e.ts.URL + "/login")
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	m := csrfRe.FindSubmatch(b)
	if m == nil {
		e.t.Fatal("no form token on /login")
	}
	e.post(c, "/login", url.Values{"login": {login}, "password": {password}, "csrf": {string(m[1])}})
	return c
}

func (e *env) post(c *http.Client, path string, form url.Values) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	r, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("POST %s: %d", path, r.StatusCode)
	}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	r, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// TestMeasurePages executes the speed-test and traffic-by-class pages in
// both languages, with data, through the portal's login.
func TestMeasurePages(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	ctx := context.Background()
	if err := netflow.SaveClass(ctx, e.db, netflow.Class{Code: "city", Name: "Городской обмен", NameEn: "City exchange", Position: 1}); err != nil {
		t.Fatal(err)
	}
	err := e.db.Write(ctx, func(tx *store.Tx) error {
		for _, row := range []struct {
			day, class string
			in, out    int64
		}{{"2026-03-14", "internet", 1e6, 5e8}, {"2026-03-14", "city", 2e6, 3e8}, {"2026-03-15", "internet", 1e6, 1e8}} {
			if _, err := tx.Exec(ctx, `INSERT INTO usage_class_daily (account_id, day, class, input_octets, output_octets, flows) VALUES (?, ?, ?, ?, ?, 1)`,
				e.ids["alice"], row.day, row.class, row.in, row.out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := speedtest.New(e.db, e.clk, e.biller)
	if _, err := tests.Save(ctx, e.ids["alice"], speedtest.Measured{DownMbps: 95.2, UpMbps: 90, PingMs: 4, JitterMs: 1}); err != nil {
		t.Fatal(err)
	}
	alice, bob := e.portalLogin("alice"), e.portalLogin("bob")
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"ru", []string{"Городской обмен", "Интернет", "<rect", "Проверка скорости", "Соответствует тарифу", "95,2 Мбит/с из 100", "4 мс", "Начать проверку"}},
		{"en", []string{"City exchange", "Internet", "<rect", "Speed test", "As the tariff promises", "95.2 of 100 Mbit/s", "Start the test"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			lf := url.Values{"lang": {tc.lang}, "back": {"/"}}
			// the form token of the current session, from any page
			_, home := get(t, alice, e.ts.URL+"/")
			lf.Set("csrf", string(csrfRe.FindStringSubmatch(home)[1]))
			e.post(alice, "/lang", lf)
			st1, classes := get(t, alice, e.ts.URL+"/traffic/classes?from=2026-03-01&to=2026-03-15")
			st2, speed := get(t, alice, e.ts.URL+"/speedtest")
			if st1 != 200 || st2 != 200 {
				t.Fatalf("status %d %d", st1, st2)
			}
			for _, w := range tc.want {
				if !strings.Contains(classes+speed, w) && !strings.Contains(strings.ReplaceAll(classes+speed, "\u00a0", " "), w) {
					t.Errorf("%q missing", w)
				}
			}
		})
	}
	// Bob sees none of alice's.
	_, classes := get(t, bob, e.ts.URL+"/traffic/classes?from=2026-03-01&to=2026-03-15")
	_, speed := get(t, bob, e.ts.URL+"/speedtest")
	if strings.Contains(classes, "<rect x=") || strings.Contains(speed, `id="st-history"`) {
		t.Error("bob sees alice's traffic or speed tests")
	}
	// Logged out: the login page.
	if st, _ := get(t, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, e.ts.URL+"/speedtest"); st != http.StatusSeeOther {
		t.Errorf("anonymous /speedtest: %d", st)
	}
}

// TestPortalSpeedTestInBrowser logs in through the portal's form in
// headless Chromium, runs the speed test from the portal page (LibreSpeed's
// requests, the subscriber known by the session cookie) and finds the
// result in the history.
func TestPortalSpeedTestInBrowser(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	ctx := browsertest.Context(t, 90*time.Second, chromedp.Flag("lang", "ru-RU"))
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL+"/login"),
		chromedp.SendKeys(`input[name="login"]`, "alice"),
		chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(`nav`),
		chromedp.Navigate(e.ts.URL+"/speedtest?auto=1&time=1&grace=0.3&pings=4&streams=2"),
		chromedp.WaitVisible(`body[data-state="done"], body[data-state="failed"]`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => ({state: document.body.dataset.state,
		status: document.getElementById("st-status").textContent, dl: document.getElementById("st-dl").textContent,
		verdict: document.getElementById("st-verdict").textContent}))()`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("portal page: %v", page)
	if page["state"] != "done" {
		t.Fatalf("speed test did not finish: %v", page)
	}
	// The history under the result has it at once, without a reload.
	now, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => ({rows: String(document.querySelectorAll("#st-history tbody tr").length),
		block: document.getElementById("st-history-block").textContent}))()`))
	if err != nil || now["rows"] != "1" || strings.Contains(now["block"], "Проверок ещё не было") {
		t.Errorf("the history right after the result: %v %v", now, err)
	}
	h, err := speedtest.New(e.db, e.clk, e.biller).History(context.Background(), e.ids["alice"], 0)
	if err != nil || len(h) != 1 || h[0].DownKbps <= 0 || h[0].TariffDownKbps != 100000 {
		t.Fatalf("alice's history %+v %v", h, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/speedtest"), chromedp.WaitVisible(`#st-start`)); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#st-history tbody tr").length`))
	if err != nil || rows != 1 {
		t.Errorf("history rows on the page: %d %v", rows, err)
	}
}

// TestSpeedTestCrossSite: a result posted from another site with the
// subscriber's cookie is not stored; the same post from the page is.
func TestSpeedTestCrossSite(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	c := e.portalLogin("alice")
	form := url.Values{"dl": {"50"}, "ul": {"10"}, "ping": {"5"}, "jitter": {"1"}}.Encode()
	for _, tc := range []struct {
		site   string
		status int
	}{{"cross-site", 403}, {"same-origin", 200}} {
		req, _ := http.NewRequest("POST", e.ts.URL+"/speedtest/results/telemetry.php", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", tc.site)
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.site, r.StatusCode, tc.status)
		}
	}
	if h, _ := speedtest.New(e.db, e.clk, e.biller).History(context.Background(), e.ids["alice"], 0); len(h) != 1 {
		t.Errorf("%d results stored, want 1", len(h))
	}
}
