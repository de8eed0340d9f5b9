package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/money"
	pwhash "github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web"
)

const password = "secret-pass"

var fastHash = pwhash.Hash(password)

type env struct {
	t       testing.TB
	db      *store.DB
	clk     *clock.Fake
	biller  *billing.Biller
	dir     *subscriber.Directory
	support *support.Service
	pay     *payment.Service
	srv     *web.Server
	ts      *httptest.Server
	ids     map[string]int64
	tverID  int64
	otherID int64
}

// newEnv builds a server over a fresh SQLite database with a catalogue and
// two subscribers in Tver, alice (with money) and bob; the clock stands on
// 15 March 2026, noon in Moscow.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvOn(t, storetest.SQLite(t))
}

func newEnvOn(t testing.TB, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	e := &env{t: t, db: db, clk: clk, biller: b, dir: subscriber.New(db, clk, sealer, b), support: support.New(db, clk), ids: map[string]int64{}}
	city, err := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь", NameEn: "Tver"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := billing.AddCity(ctx, db, billing.City{Code: "torzhok", Name: "Торжок"})
	e.tverID, e.otherID = city.ID, other.ID
	for _, tr := range []billing.Tariff{
		{Code: "home100", Name: "Домашний 100", NameEn: "Home 100", Fee: money.Rub(500), DownKbps: 100000, UpKbps: 100000, Public: true, Prorate: true},
		{Code: "home300", Name: "Домашний 300", NameEn: "Home 300", Fee: money.Rub(800), DownKbps: 300000, UpKbps: 300000, Public: true, Prorate: true},
		{Code: "fixed", Name: "Фиксированный", NameEn: "Fixed", Fee: money.Rub(300), DownKbps: 50000, UpKbps: 50000, Public: true},
		{Code: "old", Name: "Архивный", Fee: money.Rub(100), DownKbps: 10000, UpKbps: 10000, Public: true, Archived: true},
		{Code: "torzhok-only", Name: "Торжок 200", Fee: money.Rub(400), DownKbps: 200000, UpKbps: 200000, Public: true, CityID: other.ID},
	} {
		if _, err := billing.AddTariff(ctx, db, tr, start); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []billing.Package{
		{Code: "tv", Kind: billing.PackageTV, Name: "ТВ Базовый", NameEn: "TV Basic", Price: money.Rub(200), Pricing: billing.PriceMonthly},
		{Code: "drweb", Kind: billing.PackageAntivirus, Name: "Антивирус Dr.Web", NameEn: "Dr.Web antivirus", Price: money.Rub(99), Pricing: billing.PriceMonthly},
		{Code: "ip", Kind: billing.PackageStaticIP, Name: "Статический IP", NameEn: "Static IP", Price: money.Rub(150), Pricing: billing.PriceMonthly},
		{Code: "turbo", Kind: billing.PackageBoost, Name: "Турбо 24 ч", NameEn: "Turbo 24 h", Price: money.Rub(50), Pricing: billing.PriceDuration, DurationHours: 24, SpeedPercent: 200},
	} {
		if _, err := billing.AddPackage(ctx, db, p, start); err != nil {
			t.Fatal(err)
		}
	}
	for _, login := range []string{"alice", "bob"} {
		a, err := e.dir.Create(ctx, subscriber.NewAccount{Login: login, Password: password, PasswordHash: fastHash, Name: "Абонент " + login,
			Address: "ул. Советская, 1", Tariff: "home100", City: "tver", Email: login + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		e.ids[login] = a.ID
	}
	e.credit("alice", 1500, "a1")
	if _, err := content.Add(ctx, db, content.Item{Kind: content.KindPromo, Title: "Турбо за полцены", TitleEn: "Turbo at half price", Body: "Весь март ускорение дешевле.", BodyEn: "Boosts are cheaper all March.", PublishedAt: start.Add(-time.Hour)}, start); err != nil {
		t.Fatal(err)
	}
	if _, err := content.Add(ctx, db, content.Item{Kind: content.KindNews, Title: "Только для Торжка", Body: "Не видно в Твери", CityID: other.ID, PublishedAt: start.Add(-time.Hour)}, start); err != nil {
		t.Fatal(err)
	}
	sb, err := payment.NewSandbox(payment.ProcessorConfig{Kind: "sandbox", Name: "sandbox", Secret: "test-secret"}, clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.pay = payment.NewService(db, clk, b, []payment.Processor{sb}, payment.Options{})
	routes := map[string]http.Handler{"/pay/sandbox/": sb}
	cfg := config.Default()
	e.srv, err = web.New(web.Deps{DB: db, Clock: clk, Config: cfg, Biller: b, Subscribers: e.dir, Payments: e.pay, Processor: "sandbox",
		PaymentRoutes: routes, Traffic: traffic.New(db, cfg.Zone()), Support: e.support})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

func (e *env) credit(login string, rub int64, ext string) {
	e.t.Helper()
	err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := e.biller.Credit(context.Background(), tx, e.ids[login], "cash", ext, money.Rub(rub), "", e.clk.Now())
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// client is a browser-like client: a cookie jar, no redirects followed, the
// last page's form token remembered.
type client struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type resp struct {
	Status int
	Body   string
	Header http.Header
}

func (c *client) do(req *http.Request) resp {
	c.e.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRe.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp{res.StatusCode, string(b), res.Header}
}

func (c *client) get(path string) resp {
	req, _ := http.NewRequest("GET", c.e.ts.URL+path, nil)
	return c.do(req)
}

// post sends a same-origin form with the current token (unless the form
// sets its own "csrf").
func (c *client) post(path string, form url.Values, hdr ...string) resp {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.do(req)
}

func (e *env) login(login string) *client {
	e.t.Helper()
	c := e.client()
	c.get("/login")
	r := c.post("/login", url.Values{"login": {login}, "password": {password}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		e.t.Fatalf("login %s: %d %s", login, r.Status, r.Body)
	}
	c.get("/")
	return c
}

func must(t *testing.T, r resp, status int, contains ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.Status, status, snippet(r.Body))
	}
	for _, s := range contains {
		if !strings.Contains(r.Body, s) {
			t.Fatalf("body lacks %q:\n%s", s, snippet(r.Body))
		}
	}
}

func snippet(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000]
	}
	return s
}
