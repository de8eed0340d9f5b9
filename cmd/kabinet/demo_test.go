package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/clock"
)

// lockedBuffer is the demo's stdout, written by its goroutine and read here.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// demoRun is a `kabinet demo` running in this process on a fresh data dir.
type demoRun struct {
	e      *env
	banner string
	base   string
}

// startDemo runs `kabinet demo` as a newcomer would, with its default
// provider, at a fixed moment, and waits for its banner.
func startDemo(t *testing.T, now time.Time) *demoRun {
	t.Helper()
	out := &lockedBuffer{}
	e := &env{stdout: out, stderr: io.Discard, clock: clock.NewFake(now)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cmdDemo(ctx, e, []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0",
			"--radius-auth", "127.0.0.1:0", "--radius-acct", "127.0.0.1:0", "--netflow", ""})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
		if e.db != nil {
			e.db.Close()
		}
	})
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "Stop with Ctrl+C") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("demo ended before serving: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("no banner:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	d := &demoRun{e: e, banner: out.String()}
	m := regexp.MustCompile(`Portal:\s+(http://\S+)/`).FindStringSubmatch(d.banner)
	if m == nil {
		t.Fatalf("no portal address in the banner:\n%s", d.banner)
	}
	d.base = m[1]
	return d
}

// printedLogins reads the subscriber logins, their password and the
// operator's login and password from the banner.
func printedLogins(t *testing.T, banner string) (subs []string, password, opLogin, opPassword string) {
	t.Helper()
	_, rest, ok := strings.Cut(banner, "Demo subscribers (password ")
	if !ok {
		t.Fatalf("no subscriber logins in the banner:\n%s", banner)
	}
	password, rest, _ = strings.Cut(rest, "):\n")
	line := regexp.MustCompile(`^  (\S+)\s+— \S`)
	for _, l := range strings.Split(rest, "\n") {
		if op, ok := strings.CutPrefix(l, "Back office: "); ok {
			opLogin, opPassword, _ = strings.Cut(op, " / ")
			break
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("banner line %q is neither a login nor the back office's", l)
		}
		subs = append(subs, m[1])
	}
	if len(subs) == 0 || password == "" || opLogin == "" || opPassword == "" {
		t.Fatalf("banner without logins:\n%s", banner)
	}
	return subs, password, opLogin, opPassword
}

var formToken = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// demoClient is a browser that does not follow redirects.
func demoClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func fetchPage(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// formLogin logs in through a login page's form as a person would: it
// reads the form's token and posts the login and password.
func formLogin(t *testing.T, c *http.Client, base, page, login, password string) *http.Response {
	t.Helper()
	_, body := fetchPage(t, c, base+page)
	m := formToken.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s has no form token", page)
	}
	form := url.Values{"login": {login}, "password": {password}, "csrf": {m[1]}}
	req, _ := http.NewRequest("POST", base+page, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func apiCall(t *testing.T, method, u, token, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, b)
		}
	}
	return res.StatusCode
}

// TestDemo starts the demo as a newcomer does, with no flags but the
// addresses, and tries what it prints.
func TestDemo(t *testing.T) {
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	d := startDemo(t, now)
	t.Run("logins", func(t *testing.T) { testDemoLogins(t, d) })
	t.Run("traffic", func(t *testing.T) { testDemoTraffic(t, d, now) })
	t.Run("company", func(t *testing.T) { testDemoCompany(t, d) })
	t.Run("browser", func(t *testing.T) { testDemoBrowser(t, d) })
}

// testDemoBrowser looks at the demo's traffic pages in Chromium at a
// phone's and a desktop's width, as a newcomer would: the chart by class
// shows each class in its own colour, and addresses in the sessions table
// are not broken over lines. Screenshots go to $KABINET_ARTIFACTS (or a
// temporary directory).
func testDemoBrowser(t *testing.T, d *demoRun) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	artifacts := os.Getenv("KABINET_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	subs, password, _, _ := printedLogins(t, d.banner)
	ctx := browsertest.Context(t, 2*time.Minute)
	eval := func(expr string, dst *int) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			*dst, err = chromedp.Evaluate[int](expr)(ctx, tg)
			return err
		})
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			b, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(artifacts, name+".png"), b, 0o644)
		})
	}
	login := subs[0]
	var colours, broken, addresses int
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(d.base+"/login"),
		chromedp.SendKeys(`input[name=login]`, login),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Click(`form[action="/login"] button`),
		chromedp.WaitVisible(`[data-testid=balance]`),
		chromedp.Navigate(d.base+"/traffic/classes"),
		chromedp.WaitVisible(`svg.chart`),
		eval(`new Set([...document.querySelectorAll('svg.chart rect')].map(r => getComputedStyle(r).fill)).size`, &colours),
		shot("demo-classes-1280"),
		chromedp.Navigate(d.base+"/traffic"),
		chromedp.WaitVisible(`svg.chart`),
		shot("demo-traffic-1280"),
		chromedp.EmulateViewport(360, 800),
		chromedp.Navigate(d.base+"/traffic"),
		chromedp.WaitVisible(`svg.chart`),
		eval(`document.querySelectorAll('.list td code').length`, &addresses),
		eval(`[...document.querySelectorAll('.list td code')].filter(c => c.getClientRects().length > 1).length`, &broken),
		shot("demo-traffic-360"),
		chromedp.Navigate(d.base+"/traffic/classes"),
		chromedp.WaitVisible(`svg.chart`),
		shot("demo-classes-360"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if colours < 2 {
		t.Errorf("the chart by class draws its bars in %d colour(s)", colours)
	}
	if addresses == 0 || broken > 0 {
		t.Errorf("%d of %d session addresses are broken over lines at 360 px", broken, addresses)
	}
	t.Logf("screenshots in %s", artifacts)
}

// testDemoLogins logs in with every login the demo prints, with the
// printed password: on the portal's form and for an API token, and the
// back office's admin on its form.
func testDemoLogins(t *testing.T, d *demoRun) {
	subs, password, opLogin, opPassword := printedLogins(t, d.banner)
	for _, login := range subs {
		t.Run(login, func(t *testing.T) {
			c := demoClient()
			if res := formLogin(t, c, d.base, "/login", login, password); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
				t.Fatalf("portal login: %d → %q", res.StatusCode, res.Header.Get("Location"))
			}
			if code, _ := fetchPage(t, c, d.base+"/"); code != http.StatusOK {
				t.Errorf("home after login: %d", code)
			}
			var tok struct {
				Token string `json:"token"`
			}
			if code := apiCall(t, "POST", d.base+"/api/v1/login", "", fmt.Sprintf(`{"login":%q,"password":%q}`, login, password), &tok); code != http.StatusOK || tok.Token == "" {
				t.Fatalf("API login: %d", code)
			}
			var me map[string]any
			if code := apiCall(t, "GET", d.base+"/api/v1/home", tok.Token, "", &me); code != http.StatusOK {
				t.Errorf("API with the token: %d", code)
			}
			if login == "dacha" {
				// The demo shows a voluntary suspension running.
				if sp, ok := me["suspension"].(map[string]any); !ok || sp["state"] != "active" || me["status"] != "frozen" {
					t.Errorf("dacha (%v): suspension %v", me["status"], me["suspension"])
				}
			}
			if login == "debtor" {
				// The demo shows a promised payment to the limited debtor.
				var offer struct {
					Available bool   `json:"available"`
					Reason    string `json:"reason"`
				}
				if code := apiCall(t, "GET", d.base+"/api/v1/promise", tok.Token, "", &offer); code != http.StatusOK || !offer.Available || me["status"] != "limited" {
					t.Errorf("debtor (%v): promise offer %d, available %v (%s)", me["status"], code, offer.Available, offer.Reason)
				}
			}
		})
	}
	// A company's connection points are named after the organisation.
	rows, err := d.e.db.Query(context.Background(), `SELECT name FROM accounts WHERE id NOT IN (SELECT account_id FROM company_points)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !genderAgrees(name) {
			t.Errorf("seeded %q mixes genders", name)
		}
	}
	rows.Close()
	c := demoClient()
	if res := formLogin(t, c, d.base, "/admin/login", opLogin, opPassword); res.StatusCode != http.StatusSeeOther {
		t.Errorf("back office login %s: %d", opLogin, res.StatusCode)
	}
	if code, _ := fetchPage(t, c, d.base+"/admin/"); code != http.StatusOK {
		t.Errorf("back office after login: %d", code)
	}
}

// testDemoTraffic checks that the printed logins' traffic, sessions and
// "where" (traffic by class) have half a year of data on the pages and in
// the API, and that bytes by class add up to the accounting's bytes.
func testDemoTraffic(t *testing.T, d *demoRun, now time.Time) {
	subs, password, _, _ := printedLogins(t, d.banner)
	for _, login := range subs {
		t.Run(login, func(t *testing.T) {
			c := demoClient()
			if res := formLogin(t, c, d.base, "/login", login, password); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("portal login: %d", res.StatusCode)
			}
			for page, empty := range map[string][]string{
				"/traffic":         {"За этот период трафика нет.", "Сессий за этот период нет."},
				"/traffic/classes": {"За этот период данных нет."},
			} {
				code, body := fetchPage(t, c, d.base+page)
				if code != http.StatusOK {
					t.Errorf("%s: %d", page, code)
				}
				for _, s := range empty {
					if strings.Contains(body, s) {
						t.Errorf("%s says %q", page, s)
					}
				}
				if !strings.Contains(body, "<rect") {
					t.Errorf("%s has no chart", page)
				}
			}

			var tok struct {
				Token string `json:"token"`
			}
			if code := apiCall(t, "POST", d.base+"/api/v1/login", "", fmt.Sprintf(`{"login":%q,"password":%q}`, login, password), &tok); code != http.StatusOK {
				t.Fatalf("API login: %d", code)
			}
			period := "?from=" + now.AddDate(0, -7, 0).Format(time.DateOnly) + "&to=" + now.Format(time.DateOnly)
			var days struct {
				Items []struct {
					Day      string `json:"day"`
					Upload   int64  `json:"upload_bytes"`
					Download int64  `json:"download_bytes"`
				} `json:"items"`
			}
			var sessions struct {
				Items []struct {
					StartedAt time.Time  `json:"started_at"`
					StoppedAt *time.Time `json:"stopped_at"`
					IP        string     `json:"ip"`
					Download  int64      `json:"download_bytes"`
				} `json:"items"`
			}
			var classes struct {
				Classes []struct{ Code string } `json:"classes"`
				Days    []struct {
					Day      string `json:"day"`
					Class    string `json:"class"`
					Upload   int64  `json:"upload_bytes"`
					Download int64  `json:"download_bytes"`
				} `json:"days"`
			}
			for path, out := range map[string]any{"/traffic": &days, "/sessions": &sessions, "/traffic/classes": &classes} {
				if code := apiCall(t, "GET", d.base+"/api/v1"+path+period, tok.Token, "", out); code != http.StatusOK {
					t.Fatalf("GET %s: %d", path, code)
				}
			}
			if len(days.Items) == 0 || len(sessions.Items) == 0 || len(classes.Days) == 0 {
				t.Fatalf("%d days, %d sessions, %d class-days", len(days.Items), len(sessions.Items), len(classes.Days))
			}
			perDay := map[string]int64{}
			for _, x := range days.Items {
				perDay[x.Day] += x.Upload + x.Download
			}
			used := map[string]bool{}
			for _, x := range classes.Days {
				perDay[x.Day] -= x.Upload + x.Download
				used[x.Class] = true
			}
			for day, diff := range perDay {
				if diff != 0 {
					t.Errorf("%s: accounting and flows differ by %d bytes", day, diff)
				}
			}
			if len(used) < 2 {
				t.Errorf("traffic went to %d classes only", len(used))
			}
			recent := 0
			for _, s := range sessions.Items {
				if s.StoppedAt == nil || s.IP == "" || s.StoppedAt.After(now) {
					t.Errorf("session from %s: stopped %v, address %q", s.StartedAt, s.StoppedAt, s.IP)
				}
				if s.StartedAt.After(now.Add(-2 * time.Hour)) {
					recent++
				}
			}
			// Sessions last hours to days: no string of short ones just
			// before now.
			if recent > 1 {
				t.Errorf("%d sessions started in the last two hours", recent)
			}
			if login == "demo" {
				oldest := sessions.Items[len(sessions.Items)-1].StartedAt
				for _, s := range sessions.Items {
					if s.StartedAt.Before(oldest) {
						oldest = s.StartedAt
					}
				}
				if oldest.After(now.AddDate(0, -5, 0)) {
					t.Errorf("demo's history starts %s: not half a year", oldest)
				}
			}
		})
	}
}

// genderAgrees tells whether surname, first name and patronymic are of
// one gender; a woman's first name is told by its ending (true of every
// name the demo uses).
func genderAgrees(name string) bool {
	f := strings.Fields(name)
	if len(f) != 3 {
		return false
	}
	female := strings.HasSuffix(f[1], "а") || strings.HasSuffix(f[1], "я")
	return strings.HasSuffix(f[0], "а") == female && strings.HasSuffix(f[2], "на") == female && strings.HasSuffix(f[2], "ич") == !female
}

// TestDemoNamesAgreeInGender: Кузнецов Иван Сергеевич, Кузнецова Мария
// Сергеевна; never Кузнецов Мария Сергеевич.
func TestDemoNamesAgreeInGender(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[bool]int{}
	for range 2000 {
		n := demoName(r)
		if !genderAgrees(n) {
			t.Fatalf("%q mixes genders", n)
		}
		seen[strings.HasSuffix(strings.Fields(n)[2], "на")]++
	}
	if seen[true] < 500 || seen[false] < 500 {
		t.Errorf("women %d, men %d of 2000", seen[true], seen[false])
	}
	for _, n := range []string{"Кузнецов Мария Сергеевич", "Кузнецова Иван Сергеевич", "Кузнецов Иван Сергеевна"} {
		if genderAgrees(n) {
			t.Errorf("the check passes %q", n)
		}
	}
}
