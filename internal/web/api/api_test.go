package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/autopay"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/apitoken"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/money"
	pwhash "github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/push"
	"github.com/kabinet-billing/kabinet/internal/speedtest"
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
	t       *testing.T
	db      *store.DB
	clk     *clock.Fake
	biller  *billing.Biller
	sup     *support.Service
	pay     *payment.Service
	autopay *autopay.Service
	tokens  *apitoken.Service
	push    *push.Service
	ts      *httptest.Server
	ids     map[string]int64
}

// newEnv: alice (1500 ₽) and bob in Tver, the portal's platform with the
// API registered, the clock at 15 March 2026 noon in Moscow.
func newEnv(t *testing.T, perSecond float64, burst int) *env {
	return newEnvOn(t, storetest.SQLite(t), perSecond, burst)
}

func newEnvOn(t *testing.T, db *store.DB, perSecond float64, burst int) *env {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	dir := subscriber.New(db, clk, sealer, b)
	e := &env{t: t, db: db, clk: clk, biller: b, sup: support.New(db, clk), tokens: apitoken.New(db, clk), ids: map[string]int64{}}
	if _, err := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь", NameEn: "Tver"}); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []billing.Tariff{
		{Code: "home100", Name: "Домашний 100", NameEn: "Home 100", Fee: money.Rub(500), DownKbps: 100000, UpKbps: 100000, Public: true, Prorate: true},
		{Code: "home300", Name: "Домашний 300", NameEn: "Home 300", Fee: money.Rub(800), DownKbps: 300000, UpKbps: 300000, Public: true, Prorate: true},
	} {
		if _, err := billing.AddTariff(ctx, db, tr, start); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []billing.Package{
		{Code: "tv", Kind: billing.PackageTV, Name: "ТВ", NameEn: "TV", Price: money.Rub(200), Pricing: billing.PriceMonthly},
		{Code: "turbo", Kind: billing.PackageBoost, Name: "Турбо 24 ч", NameEn: "Turbo 24 h", Price: money.Rub(50), Pricing: billing.PriceDuration, DurationHours: 24, SpeedPercent: 200},
	} {
		if _, err := billing.AddPackage(ctx, db, p, start); err != nil {
			t.Fatal(err)
		}
	}
	for _, login := range []string{"alice", "bob"} {
		a, err := dir.Create(ctx, subscriber.NewAccount{Login: login, Password: password, PasswordHash: fastHash, Name: "Абонент " + login,
			Tariff: "home100", City: "tver", Email: login + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		e.ids[login] = a.ID
	}
	for login, rub := range map[string]int64{"alice": 1500, "bob": 1000} {
		err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := b.Credit(ctx, tx, e.ids[login], "cash", "c-"+login, money.Rub(rub), "", start)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sb, err := payment.NewSandbox(payment.ProcessorConfig{Kind: "sandbox", Name: "sandbox", Secret: "test-secret"}, clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.pay = payment.NewService(db, clk, b, []payment.Processor{sb}, payment.Options{})
	cfg := config.Default()
	cfg.PublicURL = "https://my.example.net"
	cfg.API.AppSchemes = []string{"ru.example.kabinet"}
	tr := traffic.New(db, cfg.Zone())
	e.autopay = autopay.New(db, clk, e.pay, b, nil, cfg.Autopay, nil)
	if e.push, err = push.Open(ctx, db, clk, push.Options{Contact: "support@example.net"}); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{DB: db, Clock: clk, Config: cfg, Biller: b, Subscribers: dir, Payments: e.pay, Processor: "sandbox", Autopay: e.autopay,
		PaymentRoutes: map[string]http.Handler{"/pay/sandbox/": sb}, Traffic: tr, Support: e.sup,
		SpeedTests: speedtest.New(db, clk, b), Tokens: e.tokens, APIPerSecond: perSecond, APIBurst: burst, Push: e.push})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// token issues a token for login without the login endpoint.
func (e *env) token(login string) string {
	s, _, err := e.tokens.Issue(context.Background(), e.ids[login], "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (e *env) do(method, path, token, lang string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, b}
}

// TestDocumentMatchesHandlers: every operation the app needs is documented,
// and every documented operation answers (not the mux's "no such route").
func TestDocumentMatchesHandlers(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	r := e.do("GET", "/api/v1/openapi.json", "", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	need := []string{
		"POST /login", "POST /logout", "GET /tokens", "DELETE /tokens/{id}", "GET /home", "GET /tariffs",
		"GET /tariffs/{code}/quote", "POST /tariffs/{code}", "GET /packages", "POST /packages/{code}", "POST /boost",
		"DELETE /subscriptions/{id}", "GET /payments", "GET /payments/{id}", "POST /payments/card", "GET /autopay", "PUT /autopay", "POST /autopay/start", "DELETE /autopay", "GET /balance", "GET /bonus", "POST /bonus/spend",
		"GET /statement", "GET /statement/{format}", "GET /traffic", "GET /traffic/classes", "GET /sessions",
		"GET /speedtests", "POST /speedtests", "GET /requests", "POST /requests", "GET /requests/{id}",
		"POST /requests/{id}/messages", "GET /chat", "POST /chat", "GET /news", "GET /profile", "PUT /profile", "POST /profile/password",
		"GET /promise", "POST /promise", "GET /suspension", "POST /suspension", "DELETE /suspension", "PATCH /suspension", "GET /push", "POST /push/subscriptions", "DELETE /push/subscriptions/{id}",
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			t.Run(key, func(t *testing.T) {
				p := strings.NewReplacer("{id}", "1", "{code}", "home300", "{format}", "csv").Replace(path)
				tok := ""
				if _, secured := op["security"]; secured {
					tok = e.token("alice")
				}
				var body any
				if _, has := op["requestBody"]; has {
					body = map[string]any{}
				}
				got := e.do(strings.ToUpper(method), "/api/v1"+p, tok, "en", body)
				if got.status == 405 || strings.Contains(string(got.body), "no such API operation") {
					t.Errorf("documented but not served: %d %s", got.status, got.body)
				}
				if got.status >= 500 {
					t.Errorf("%d %s", got.status, got.body)
				}
				if tok != "" {
					// and without the token it is refused
					if r := e.do(strings.ToUpper(method), "/api/v1"+p, "", "en", body); r.status != 401 {
						t.Errorf("without a token: %d", r.status)
					}
				}
			})
		}
	}
	for _, n := range need {
		if !documented[n] {
			t.Errorf("%s is not documented", n)
		}
	}
	if r := e.do("GET", "/api/v1/nothing-here", "", "en", nil); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := e.do("GET", "/api/docs", "", "", nil); r.status != 200 || !strings.Contains(string(r.body), "/api/v1/openapi.json") ||
		strings.Contains(string(r.body), "https://") {
		t.Errorf("docs page: %d, must load only our own script", r.status)
	}
}

func TestLoginTokensAndErrors(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	for _, tc := range []struct {
		name, lang, login, pass string
		status                  int
		detail                  string
	}{
		{"wrong password, ru", "ru-RU,ru;q=0.9", "alice", "nope", 401, "Неверный логин или пароль."},
		{"wrong password, en", "en-US", "alice", "nope", 401, "Wrong login or password."},
		{"unknown login, default ru", "", "carol", "secret-pass", 401, "Неверный логин или пароль."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/login", "", tc.lang, map[string]string{"login": tc.login, "password": tc.pass})
			if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" || r.json(t)["detail"] != tc.detail {
				t.Errorf("%d %s %s", r.status, r.header.Get("Content-Type"), r.body)
			}
		})
	}
	r := e.do("POST", "/api/v1/login", "", "en", map[string]string{"login": "alice", "password": password, "device": "Pixel 9"})
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	tok := r.json(t)["token"].(string)
	if !strings.HasPrefix(tok, apitoken.Prefix) {
		t.Errorf("token %q", tok)
	}
	var stored int
	e.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM api_tokens WHERE hash = ?`, tok).Scan(&stored)
	if stored != 0 {
		t.Error("the token is stored in the clear")
	}
	home := e.do("GET", "/api/v1/home", tok, "en", nil).json(t)
	// 1500 paid, March's fee for the rest of the month charged.
	if home["balance"].(map[string]any)["rub"] != "1225.81" || home["tariff"].(map[string]any)["name"] != "Home 100" {
		t.Errorf("home: %v", home)
	}
	prof := e.do("GET", "/api/v1/profile", tok, "en", nil).json(t)
	toks := prof["tokens"].([]any)
	if len(toks) != 1 || toks[0].(map[string]any)["device"] != "Pixel 9" || toks[0].(map[string]any)["current"] != true {
		t.Errorf("profile tokens: %v", toks)
	}
	// Revoke it from a second device; the first is refused afterwards.
	other := e.token("alice")
	id := strconv.FormatInt(int64(toks[0].(map[string]any)["id"].(float64)), 10)
	if r := e.do("DELETE", "/api/v1/tokens/"+id, other, "", nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/home", tok, "en", nil); r.status != 401 || r.json(t)["title"] != "Unauthorized" {
		t.Errorf("revoked token: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/home", "", "", nil); r.status != 401 || r.json(t)["title"] != "Требуется вход" {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/logout", other, "", nil); r.status != 204 {
		t.Errorf("logout: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/home", other, "", nil); r.status != 401 {
		t.Errorf("after logout: %d", r.status)
	}
	// huma's own validation errors carry the client's language too.
	tok = e.token("alice")
	if r := e.do("POST", "/api/v1/requests", tok, "en", map[string]any{"kind": "nonsense"}); r.status != 422 ||
		r.json(t)["title"] != "Unprocessable entity" || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("validation: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/requests", tok, "ru", map[string]any{"kind": "nonsense"}); r.status != 422 || r.json(t)["title"] != "Неверные данные" {
		t.Errorf("validation ru: %d %s", r.status, r.body)
	}
}

// TestOtherSubscribersData: alice asking for bob's objects gets the same
// 404 as for objects that do not exist.
func TestOtherSubscribersData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testOtherSubscribersData(t, newEnvOn(t, db, 1000, 1000)) })
}

func testOtherSubscribersData(t *testing.T, e *env) {
	ctx := context.Background()
	bob := e.token("bob")
	req := e.do("POST", "/api/v1/requests", bob, "en", map[string]any{"kind": "fault", "subject": "No link", "body": "Since morning"}).json(t)
	reqID := int64(req["id"].(float64))
	sub := e.do("POST", "/api/v1/packages/tv", bob, "en", nil)
	if sub.status != 200 {
		t.Fatalf("bob connects tv: %d %s", sub.status, sub.body)
	}
	subID := int64(sub.json(t)["id"].(float64))
	pay := e.do("POST", "/api/v1/payments/card", bob, "en", map[string]any{"amount": "300"})
	if pay.status != 200 || !strings.Contains(pay.json(t)["url"].(string), "/pay/sandbox/") {
		t.Fatalf("bob pays: %d %s", pay.status, pay.body)
	}
	payID := int64(pay.json(t)["payment_id"].(float64))
	_, bobTok, _ := e.tokens.Issue(ctx, e.ids["bob"], "bob's phone")
	alice := e.token("alice")
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/requests/%d", nil},
		{"POST", "/api/v1/requests/%d/messages", map[string]string{"body": "hi"}},
		{"GET", "/api/v1/payments/%d", nil},
		{"DELETE", "/api/v1/subscriptions/%d", nil},
		{"DELETE", "/api/v1/tokens/%d", nil},
	} {
		id := map[string]int64{"requests": reqID, "payments": payID, "subscriptions": subID, "tokens": bobTok.ID}[strings.Split(tc.path, "/")[3]]
		theirs := e.do(tc.method, fmt.Sprintf(tc.path, id), alice, "en", tc.body)
		missing := e.do(tc.method, fmt.Sprintf(tc.path, 999999), alice, "en", tc.body)
		if theirs.status != 404 || string(theirs.body) != string(missing.body) {
			t.Errorf("%s %s: bob's → %d %s; missing → %d %s", tc.method, tc.path, theirs.status, theirs.body, missing.status, missing.body)
		}
	}
	// Bob's things are intact and his own.
	if r := e.do("GET", fmt.Sprintf("/api/v1/requests/%d", reqID), bob, "en", nil); r.status != 200 {
		t.Errorf("bob's request: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/requests", alice, "en", nil); len(r.json(t)["items"].([]any)) != 0 {
		t.Errorf("alice lists bob's requests: %s", r.body)
	}
	if _, err := e.tokens.Check(ctx, bobTok.Name); err == nil {
		t.Error("nonsense accepted as a token")
	}
}

func TestRateLimitPerToken(t *testing.T) {
	e := newEnv(t, 1, 3)
	a, b := e.token("alice"), e.token("alice")
	for i := range 3 {
		if r := e.do("GET", "/api/v1/news", a, "en", nil); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := e.do("GET", "/api/v1/news", a, "en", nil)
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.json(t)["title"] != "Too many requests" {
		t.Errorf("4th: %d %v %s", r.status, r.header, r.body)
	}
	if r := e.do("GET", "/api/v1/news", b, "en", nil); r.status != 200 {
		t.Errorf("another token is limited too: %d", r.status)
	}
	e.clk.Advance(time.Second)
	if r := e.do("GET", "/api/v1/news", a, "en", nil); r.status != 200 {
		t.Errorf("after a second: %d", r.status)
	}
}

// TestBonusPoints: the balance of points, spending with an idempotency key
// (a repeat spends nothing more), never below zero, errors in the client's
// language, and one subscriber's key cannot touch another's points.
func TestBonusPoints(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	ctx := context.Background()
	alice := e.ids["alice"]
	pay := payment.NewService(e.db, e.clk, e.biller, nil, payment.Options{BonusPercentBP: 1000})
	if _, err := pay.CashPayment(ctx, payment.CashIn{AccountID: alice, Amount: money.Rub(1000), Operator: "kassa", Receipt: "r1"}); err != nil {
		t.Fatal(err)
	}
	tok := e.token("alice")
	spend := func(tok, key string, body any, lang string) resp {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/bonus/spend", strings.NewReader(mustJSON(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", lang)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return resp{r.StatusCode, r.Header, b}
	}
	b := e.do("GET", "/api/v1/bonus", tok, "en", nil).json(t)
	if b["points"].(float64) != 10000 || b["worth"].(map[string]any)["rub"] != "100.00" {
		t.Fatalf("bonus: %v", b)
	}
	for range 2 { // the app retries after a lost answer: one spend
		r := spend(tok, "spend-0001", map[string]any{"points": 2500}, "en")
		if r.status != 200 || r.json(t)["credited"].(map[string]any)["kopecks"].(float64) != 2500 || r.json(t)["points"].(float64) != 7500 {
			t.Fatalf("spend: %d %s", r.status, r.body)
		}
	}
	if pts, _ := e.pay.BonusBalance(ctx, alice); pts != 7500 {
		t.Errorf("points after a repeated spend: %d", pts)
	}
	for _, tc := range []struct {
		name, key string
		body      any
		status    int
		detail    string
	}{
		{"more than there is", "spend-0002", map[string]any{"points": 7501}, 409, "Столько баллов на бонусном счёте нет."},
		{"zero", "spend-0003", map[string]any{"points": 0}, 422, ""},
		{"negative", "spend-0004", map[string]any{"points": -5}, 422, ""},
		{"no key", "", map[string]any{"points": 1}, 422, ""},
	} {
		r := spend(tok, tc.key, tc.body, "ru")
		if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" || (tc.detail != "" && r.json(t)["detail"] != tc.detail) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	if pts, _ := e.pay.BonusBalance(ctx, alice); pts != 7500 {
		t.Errorf("refusals spent points: %d", pts)
	}
	// Bob has none; alice's key is only alice's.
	bob := e.token("bob")
	if r := e.do("GET", "/api/v1/bonus", bob, "en", nil).json(t); r["points"].(float64) != 0 {
		t.Errorf("bob: %v", r)
	}
	if r := spend(bob, "spend-0001", map[string]any{"points": 1}, "en"); r.status != 409 || r.json(t)["detail"] != "The bonus account does not hold that many points." {
		t.Errorf("bob with alice's key: %d %s", r.status, r.body)
	}
	if r := spend(tok, "spend-0005", map[string]any{"points": 7500}, "en"); r.status != 200 || r.json(t)["points"].(float64) != 0 {
		t.Errorf("spend all: %d %s", r.status, r.body)
	}
	if r := spend("", "spend-0006", map[string]any{"points": 1}, "en"); r.status != 401 {
		t.Errorf("without a token: %d", r.status)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestMoneyAndTariffs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testMoneyAndTariffs(t, newEnvOn(t, db, 1000, 1000)) })
}

func testMoneyAndTariffs(t *testing.T, e *env) {
	tok := e.token("alice")
	q := e.do("GET", "/api/v1/tariffs/home300/quote", tok, "en", nil)
	if q.status != 200 || q.json(t)["to"].(map[string]any)["name"] != "Home 300" {
		t.Fatalf("quote: %d %s", q.status, q.body)
	}
	if r := e.do("GET", "/api/v1/tariffs/nope/quote", tok, "en", nil); r.status != 404 {
		t.Errorf("unknown tariff: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/tariffs/home300", tok, "en", nil); r.status != 200 {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/boost", tok, "en", nil); r.status != 200 || r.json(t)["package"].(map[string]any)["kind"] != "boost" {
		t.Fatalf("boost: %d %s", r.status, r.body)
	}
	home := e.do("GET", "/api/v1/home", tok, "en", nil).json(t)
	if home["speed"].(map[string]any)["boosted"] != true {
		t.Errorf("home after boost: %v", home["speed"])
	}
	bal := e.do("GET", "/api/v1/balance", tok, "ru", nil).json(t)["items"].([]any)
	if len(bal) < 3 {
		t.Errorf("balance history: %v", bal)
	}
	st := e.do("GET", "/api/v1/statement?from=2026-03-01&to=2026-03-31", tok, "en", nil)
	if st.status != 200 || st.json(t)["opening"].(map[string]any)["kopecks"].(float64) != 0 {
		t.Errorf("statement: %d %s", st.status, st.body)
	}
	// Each wrong period names its parameter and says what is wrong with it.
	for _, tt := range []struct{ query, loc, detail string }{
		{"from=2026-04-01&to=2026-03-01", "query.to", "The “to” date must not be before the “from” date."},
		{"from=abc", "query.from", "The “from” date is not a date: give it as YYYY-MM-DD, e.g. 2026-01-31."},
		{"from=1900-01-01&to=2100-01-01", "query.from", "The year of the “from” date must be from 2000 to 2099."},
		{"from=2026-01-01&to=2100-01-01", "query.to", "The year of the “to” date must be from 2000 to 2099."},
	} {
		r := e.do("GET", "/api/v1/statement?"+tt.query, tok, "en", nil)
		if r.status != 422 {
			t.Errorf("%s: %d", tt.query, r.status)
			continue
		}
		j := r.json(t)
		errs, _ := j["errors"].([]any)
		if j["detail"] != tt.detail || len(errs) != 1 || errs[0].(map[string]any)["location"] != tt.loc {
			t.Errorf("%s: %s", tt.query, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/traffic?from=2025-01-01&to=2026-03-01", tok, "ru", nil); r.status != 422 || r.json(t)["detail"] != "Период слишком длинный: не больше 366 дн." {
		t.Errorf("a long traffic period: %d %s", r.status, r.body)
	}
	csv := e.do("GET", "/api/v1/statement/csv?from=2026-03-01&to=2026-03-31", tok, "en", nil)
	if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || !bytes.HasPrefix(csv.body, []byte("\ufeff")) {
		t.Errorf("csv: %d %s %q", csv.status, csv.header.Get("Content-Type"), csv.body[:min(40, len(csv.body))])
	}
	pdf := e.do("GET", "/api/v1/statement/pdf", tok, "ru", nil)
	if pdf.status != 200 || pdf.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf.body, []byte("%PDF")) {
		t.Errorf("pdf: %d %s", pdf.status, pdf.header.Get("Content-Type"))
	}
	if r := e.do("POST", "/api/v1/payments/card", tok, "ru", map[string]any{"amount": "-5"}); r.status != 422 || r.json(t)["detail"] != "Сумма должна быть от 1 до 100 000 ₽." {
		t.Errorf("bad amount: %d %s", r.status, r.body)
	}
	sp := e.do("POST", "/api/v1/speedtests", tok, "en", map[string]any{"dl": 250.5, "ul": 200, "ping": 3.5, "jitter": 0.4})
	// The boost doubled 300 to 600 Mbit/s: 250 is slow against that.
	if sp.status != 201 || sp.json(t)["verdict"] != "slow" || sp.json(t)["down_percent"].(float64) != 42 || sp.json(t)["tariff_down_kbps"].(float64) != 600000 {
		t.Errorf("speed test: %d %s", sp.status, sp.body)
	}
	cls := e.do("GET", "/api/v1/traffic/classes", tok, "en", nil).json(t)
	if cs := cls["classes"].([]any); len(cs) != 1 || cs[0].(map[string]any)["name"] != "Internet" {
		t.Errorf("classes: %v", cls)
	}
}

// TestPayBySBP: the app starts an SBP payment, gets the link and its QR code,
// and polling the payment sees the result as soon as the processor has it.
func TestPayBySBP(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	tok := e.token("alice")
	r := e.do("POST", "/api/v1/payments/card", tok, "en", map[string]any{"amount": "300", "method": "sbp"})
	if r.status != 200 {
		t.Fatalf("sbp: %d %s", r.status, r.body)
	}
	out := r.json(t)
	qr, _ := out["qr"].(string)
	svg, _ := out["qr_svg"].(string)
	if out["method"] != "sbp" || !strings.HasPrefix(qr, "https://my.example.net/pay/sandbox/sbp?") || !strings.HasPrefix(svg, "<svg") || out["url"] != nil {
		t.Fatalf("sbp answer: %s", r.body)
	}
	id := int64(out["payment_id"].(float64))
	if r := e.do("GET", fmt.Sprintf("/api/v1/payments/%d", id), tok, "en", nil); r.json(t)["status"] != "pending" {
		t.Fatalf("before paying: %s", r.body)
	}
	u, _ := url.Parse(qr)
	f := u.Query()
	f.Set("sbp", "paid")
	if res, err := http.PostForm(e.ts.URL+u.Path, f); err != nil || res.StatusCode != 200 {
		t.Fatalf("bank app: %v %v", res, err)
	}
	e.clk.Advance(5 * time.Second)
	if r := e.do("GET", fmt.Sprintf("/api/v1/payments/%d", id), tok, "en", nil); r.json(t)["status"] != "succeeded" {
		t.Errorf("after paying: %s", r.body)
	}
	if r := e.do("POST", "/api/v1/payments/card", tok, "en", map[string]any{"amount": "300", "method": "cash"}); r.status != 422 {
		t.Errorf("method cash: %d %s", r.status, r.body)
	}
}

// TestAutopayAPI: the app sees autopay off, starts it by paying with
// "remember the card", turns it on with a saved card, and off; a fixed rule
// without a sum is refused naming the field.
func TestAutopayAPI(t *testing.T) {
	e := newEnv(t, 0, 0)
	tok := e.token("alice")
	ctx := context.Background()
	r := e.do("GET", "/api/v1/autopay", tok, "en", nil)
	if r.status != 200 || r.json(t)["enabled"] != false || r.json(t)["available"] != true {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/autopay/start", tok, "ru", map[string]any{"amount": "300", "rule": "fixed", "fixed_amount": ""})
	if r.status != 422 || !strings.Contains(string(r.body), "body.fixed_amount") || !strings.Contains(string(r.body), "Укажите фиксированную сумму") {
		t.Errorf("fixed without a sum: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/autopay/start", tok, "en", map[string]any{"amount": "300", "rule": "recommended"})
	if r.status != 200 || !strings.Contains(r.json(t)["url"].(string), "save=1") {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	var card int64
	e.db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO saved_methods (account_id, processor, token, masked, expiry, title, created_at) VALUES (?, 'sandbox', 'sbm-4242-1228-x', '•••• 4242', '12/28', 'Visa', ?) RETURNING id`,
			e.ids["alice"], e.clk.Now().UTC()).Scan(&card)
	})
	r = e.do("PUT", "/api/v1/autopay", tok, "en", map[string]any{"method_id": card, "rule": "fixed", "fixed_amount": "700"})
	if r.status != 200 || r.json(t)["enabled"] != true || r.json(t)["fixed_amount"] != "700.00" || !strings.Contains(string(r.body), "Visa •••• 4242") {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	if r = e.do("PUT", "/api/v1/autopay", e.token("bob"), "en", map[string]any{"method_id": card, "rule": "recommended"}); r.status != 422 {
		t.Errorf("bob used alice's card: %d %s", r.status, r.body)
	}
	if r = e.do("DELETE", "/api/v1/autopay", tok, "en", nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r = e.do("GET", "/api/v1/autopay", tok, "en", nil); r.json(t)["enabled"] != false {
		t.Errorf("after off: %s", r.body)
	}
}
