// Package webtest builds the assembled HTTP surface (web.New) over a fresh
// database with a catalogue and two subscribers, and a browser-like client
// for it: the fixture of the portal's tests and of the assembly's own.
package webtest

import (
	"context"
	"github.com/kabinet-billing/kabinet/internal/autopay"
	"io"
	"log/slog"
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
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/money"
	pwhash "github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/push"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web"
)

// Password is every test subscriber's password.
const Password = "secret-pass"

// FastHash is Password's hash, computed once for every account made.
var FastHash = pwhash.Hash(Password)

// Env is a server over a fresh database with what the tests need to reach
// behind it.
type Env struct {
	T       testing.TB
	DB      *store.DB
	Clock   *clock.Fake
	Biller  *billing.Biller
	Dir     *subscriber.Directory
	Support *support.Service
	Pay     *payment.Service
	Autopay *autopay.Service
	Push    *push.Service // push services on loopback are allowed
	Srv     *web.Server
	TS      *httptest.Server
	IDs     map[string]int64 // account ids by login
	Fiscal  *fiscal.Queue    // receipts are queued (no operator sends them)
	TverID  int64
	OtherID int64 // Torzhok, a city neither subscriber lives in
}

// New builds a server over a fresh SQLite database with a catalogue and
// two subscribers in Tver, alice (with money) and bob; the clock stands on
// 15 March 2026, noon in Moscow.
func New(t testing.TB) *Env {
	t.Helper()
	return NewOn(t, storetest.SQLite(t))
}

// NewOn is New over db.
func NewOn(t testing.TB, db *store.DB) *Env {
	t.Helper()
	return NewWith(t, db, nil)
}

// NewWith is NewOn with adjust called on the server's Deps before it is
// built, for tests of optional parts (the Telegram bot).
func NewWith(t testing.TB, db *store.DB, adjust func(*Env, *web.Deps)) *Env {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	e := &Env{T: t, DB: db, Clock: clk, Biller: b, Dir: subscriber.New(db, clk, sealer, b), Support: support.New(db, clk), IDs: map[string]int64{}}
	set, err := fiscal.SettingsFrom(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	e.Fiscal = fiscal.New(db, clk, set, nil, slog.New(slog.DiscardHandler))
	b.Hook = e.Fiscal
	city, err := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь", NameEn: "Tver"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := billing.AddCity(ctx, db, billing.City{Code: "torzhok", Name: "Торжок"})
	e.TverID, e.OtherID = city.ID, other.ID
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
		a, err := e.Dir.Create(ctx, subscriber.NewAccount{Login: login, Password: Password, PasswordHash: FastHash, Name: "Абонент " + login,
			Address: "ул. Советская, 1", Tariff: "home100", City: "tver", Email: login + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		e.IDs[login] = a.ID
	}
	e.Credit("alice", 1500, "a1")
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
	e.Pay = payment.NewService(db, clk, b, []payment.Processor{sb}, payment.Options{})
	routes := map[string]http.Handler{"/pay/sandbox/": sb}
	cfg := config.Default()
	cfg.Payment.HowTo = payment.DemoConfig().HowTo
	cfg.Site.PrivacyURL = "https://set-region.example/privacy"
	cfg.Site.Coverage = map[string][]string{"tver": {"Центральный район", "Заволжский район"}}
	e.Autopay = autopay.New(db, clk, e.Pay, b, nil, cfg.Autopay, nil)
	if e.Push, err = push.Open(ctx, db, clk, push.Options{Contact: "support@example.com", AllowPrivate: true,
		Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	deps := web.Deps{DB: db, Clock: clk, Config: cfg, Biller: b, Subscribers: e.Dir, Payments: e.Pay, Processor: "sandbox",
		PaymentRoutes: routes, Traffic: traffic.New(db, cfg.Zone()), Support: e.Support, Autopay: e.Autopay, Receipts: e.Fiscal, Push: e.Push}
	if adjust != nil {
		adjust(e, &deps)
	}
	e.Srv, err = web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	e.TS = httptest.NewServer(e.Srv.Handler())
	t.Cleanup(e.TS.Close)
	return e
}

// Credit pays rub roubles in cash to login's account under the key ext.
func (e *Env) Credit(login string, rub int64, ext string) {
	e.T.Helper()
	err := e.DB.Write(context.Background(), func(tx *store.Tx) error {
		_, err := e.Biller.Credit(context.Background(), tx, e.IDs[login], "cash", ext, money.Rub(rub), "", e.Clock.Now())
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
}

// Client is a browser-like client: a cookie jar, no redirects followed, the
// last page's form token remembered.
type Client struct {
	E    *Env
	HTTP *http.Client
	CSRF string
}

// Client is a new browser with no session.
func (e *Env) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{E: e, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// CSRFRe finds a page's form token.
var CSRFRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Resp is a response read whole.
type Resp struct {
	Status int
	Body   string
	Header http.Header
}

// Do sends req and remembers the form token of the page it gets.
func (c *Client) Do(req *http.Request) Resp {
	c.E.T.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.E.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := CSRFRe.FindSubmatch(b); m != nil {
		c.CSRF = string(m[1])
	}
	return Resp{res.StatusCode, string(b), res.Header}
}

// Get opens path.
func (c *Client) Get(path string) Resp {
	req, _ := http.NewRequest("GET", c.E.TS.URL+path, nil)
	return c.Do(req)
}

// Post sends a same-origin form with the current token (unless the form
// sets its own "csrf").
func (c *Client) Post(path string, form url.Values, hdr ...string) Resp {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.CSRF)
	}
	req, _ := http.NewRequest("POST", c.E.TS.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.E.TS.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.Do(req)
}

// Login is a browser logged in as login, on the home page.
func (e *Env) Login(login string) *Client {
	e.T.Helper()
	c := e.Client()
	c.Get("/login")
	r := c.Post("/login", url.Values{"login": {login}, "password": {Password}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		e.T.Fatalf("login %s: %d %s", login, r.Status, r.Body)
	}
	c.Get("/")
	return c
}

// Must fails t unless r has status and every one of contains.
func Must(t *testing.T, r Resp, status int, contains ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.Status, status, Snippet(r.Body))
	}
	for _, s := range contains {
		if !strings.Contains(r.Body, s) {
			t.Fatalf("body lacks %q:\n%s", s, Snippet(r.Body))
		}
	}
}

// Snippet is the main part of a page, cut short, for a failure message.
func Snippet(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000]
	}
	return s
}
