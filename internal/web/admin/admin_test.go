package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/content"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web/admin"
	"github.com/kabinet-billing/kabinet/internal/web/platform"

	assets "github.com/kabinet-billing/kabinet/web"
)

const password = "long-enough-pw"

type env struct {
	t      *testing.T
	srv    *httptest.Server
	office *backoffice.Office
	p      *platform.Platform
	clk    *clock.Fake
	// company keeps the company clients the back office shows.
	company *company.Service
}

// newEnv builds the platform and the back office over a fresh database,
// with one operator per role (login = role name) and one subscriber.
func newEnv(t *testing.T, sender notify.Transport) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	files := assets.FS
	quiet := slog.New(slog.DiscardHandler)
	p, err := platform.New(platform.Options{DB: db, Clock: clk, Config: config.Default(), Log: quiet, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	fonts, err := contract.LoadFonts(files)
	if err != nil {
		t.Fatal(err)
	}
	office := &backoffice.Office{DB: db, Clock: clk, Operators: operator.New(db, clk), Dir: subscriber.New(db, clk, sealer, b), Biller: b,
		Payments: payment.NewService(db, clk, b, nil, payment.Options{}),
		Mail:     notify.New(db, clk, sender, b, notify.Options{From: "noreply@set-region.example", Provider: config.Default().Provider, Log: quiet}),
		Fonts:    fonts, Provider: config.Default().Provider}
	set, err := fiscal.SettingsFrom(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	office.Fiscal = fiscal.New(db, clk, set, nil, quiet)
	b.Hook = office.Fiscal
	co := company.New(db, clk, b, office.Dir)
	// One company client, Ромашка, whose point is the subscriber below.
	orgs := &documents.Parties{}
	if office.Documents, err = documents.New(db, clk, orgs, fonts, documents.Options{Provider: config.Default().Provider.WithDemoDetails(), Zone: time.UTC}); err != nil {
		t.Fatal(err)
	}
	office.Documents.Mailer = office.Mail
	if _, err := admin.Register(p, admin.Deps{Office: office, Support: support.New(db, clk), Files: files, Network: &fakeNetwork{nas: radius.NewNASStore(db, clk)}, Company: co}); err != nil {
		t.Fatal(err)
	}
	for _, r := range operator.Roles {
		if _, err := office.Operators.Add(ctx, operator.Actor{}, operator.NewOperator{Login: string(r), Role: r, Password: password}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь", NameEn: "Tver"}); err != nil {
		t.Fatal(err)
	}
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "home", Name: "Дом 100", NameEn: "Home 100", Fee: money.Rub(500), DownKbps: 100000, UpKbps: 100000, Public: true}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := billing.AddPackage(ctx, db, billing.Package{Code: "tv", Kind: billing.PackageTV, Name: "ТВ", NameEn: "TV", Price: money.Rub(200), Pricing: billing.PriceMonthly}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := content.Add(ctx, db, content.Item{Kind: content.KindNews, Title: "Новость", Body: "Текст", PublishedAt: clk.Now()}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	ivanov, err := office.Dir.Create(ctx, subscriber.NewAccount{Login: "ivanov", Password: "secret-pass", Tariff: "home", Name: "Иванов Иван", Phone: "+7 900 123-45-67", Email: "ivanov@example.net"})
	if err != nil {
		t.Fatal(err)
	}
	*orgs = append(*orgs, documents.Party{ID: 1, Name: "ООО «Ромашка»", INN: "6901234567", Email: "buh@romashka.example", Points: []documents.Point{{AccountID: ivanov.ID, Login: "ivanov"}}})
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, office: office, p: p, clk: clk, company: co}
}

// client is one browser: its own cookies and form token.
type client struct {
	e    *env
	c    *http.Client
	csrf string
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	c := &client{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := c.get("/admin/login")
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no form token on the login page:\n%s", body)
	}
	c.csrf = m[1]
	return c
}

func (e *env) login(role operator.Role) *client {
	c := e.client()
	if code, _ := c.post("/admin/login", url.Values{"login": {string(role)}, "password": {password}}); code != http.StatusSeeOther {
		e.t.Fatalf("login as %s: %d", role, code)
	}
	return c
}

func (c *client) get(path string) (int, string) {
	c.e.t.Helper()
	resp, err := c.c.Get(c.e.srv.URL + path)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *client) post(path string, form url.Values) (int, string) {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	resp, err := c.c.PostForm(c.e.srv.URL+path, form)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	return resp.StatusCode, string(b)
}

func (e *env) auditCount(login string) int {
	got, err := e.office.Operators.Search(context.Background(), operator.AuditQuery{Operator: login, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, x := range got {
		if !strings.HasPrefix(x.Action, "operator.login") {
			n++
		}
	}
	return n
}

func TestRoleBoundaries(t *testing.T) {
	e := newEnv(t, nil)
	pay, err := e.office.Payments.CashPayment(context.Background(), payment.CashIn{AccountID: 1, Amount: money.Rub(50), Operator: "setup", Receipt: "setup"})
	if err != nil {
		t.Fatal(err)
	}
	txn := fmt.Sprint(pay.LedgerTxnID)
	n := 0
	form := func(kv ...string) func() url.Values {
		return func() url.Values {
			n++
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], strings.ReplaceAll(kv[i+1], "#", fmt.Sprint(n)))
			}
			return v
		}
	}
	type step struct {
		method, path string
		form         func() url.Values
	}
	steps := map[string]step{
		"search":       {"GET", "/admin/subscribers?q=ivanov", nil},
		"card":         {"GET", "/admin/subscribers/1", nil},
		"catalogue":    {"GET", "/admin/catalogue", nil},
		"add tariff":   {"POST", "/admin/tariffs", form("code", "t#", "name", "Тариф #", "fee", "300", "down", "50M", "up", "50M", "public", "1")},
		"archive":      {"POST", "/admin/tariffs/1/archive", form("archived", "0")},
		"edit tariff":  {"POST", "/admin/tariffs/1", form("name", "Дом 100", "fee", "550", "down", "100M", "up", "100M", "public", "1")},
		"reverse":      {"POST", "/admin/subscribers/1/reverse", form("txn", txn, "reason", "ошибочный платёж")},
		"cash":         {"POST", "/admin/subscribers/1/cash", form("amount", "100", "receipt", "R#")},
		"correct":      {"POST", "/admin/subscribers/1/correct", form("amount", "-10", "reason", "ошибка", "key", "k#")},
		"reset":        {"POST", "/admin/subscribers/1/password", form("confirmed_by", "паспорт")},
		"block":        {"POST", "/admin/subscribers/1/status", form("status", "active")},
		"new contract": {"POST", "/admin/subscribers", form("name", "Новикова Ольга", "city", "tver", "address", "ул. Советская, 7", "phone", "+7 900 000-00-07", "tariff", "home")},
		"news":         {"POST", "/admin/news", form("kind", "news", "title", "Заголовок", "body", "Текст")},
		"edit city":    {"POST", "/admin/cities/1", form("name", "Тверь #", "name_en", "Tver #")},
		"edit package": {"POST", "/admin/packages/1", form("name", "ТВ #", "description", "100 каналов", "price", "21#")},
		"archive pkg":  {"POST", "/admin/packages/1/archive", form("archived", "1")},
		"edit news":    {"POST", "/admin/news/1", form("kind", "promo", "title", "Акция #", "body", "Текст", "city", "tver", "published", "2027-03-01", "expires", "2027-04-01")},
		"expire news":  {"POST", "/admin/news/1/expire", form()},
		"support":      {"GET", "/admin/support", nil},
		"debtors":      {"GET", "/admin/debtors", nil},
		"reports":      {"GET", "/admin/reports", nil},
		"csv":          {"GET", "/admin/reports/payments.csv", nil},
		"audit":        {"GET", "/admin/audit", nil},
		"operators":    {"GET", "/admin/operators", nil},
		"add operator": {"POST", "/admin/operators", form("login", "op#", "role", "cashier", "password", "another-long-pw")},
		"network":      {"GET", "/admin/network", nil},
		"disconnect":   {"POST", "/admin/network/sessions/7/disconnect", form()},
		"add nas":      {"POST", "/admin/network/nas", form("name", "bras#", "addr", "192.0.2.1", "secret", "s3cret-long", "kind", "mikrotik", "coa_port", "3799")},
	}
	allowed := map[operator.Role][]string{
		operator.RoleAdmin:   {"search", "card", "catalogue", "add tariff", "archive", "edit tariff", "edit city", "edit package", "archive pkg", "edit news", "expire news", "reverse", "cash", "correct", "reset", "block", "new contract", "news", "support", "debtors", "reports", "csv", "audit", "operators", "add operator", "network", "disconnect", "add nas"},
		operator.RoleManager: {"search", "card", "catalogue", "add tariff", "archive", "edit tariff", "edit city", "edit package", "archive pkg", "edit news", "expire news", "reset", "block", "new contract", "news", "support", "debtors", "reports", "csv", "network"},
		operator.RoleCashier: {"search", "card", "cash", "debtors"},
		operator.RoleSupport: {"search", "card", "support", "network"},
	}
	for _, role := range operator.Roles {
		c := e.login(role)
		for name, s := range steps {
			ok := false
			for _, a := range allowed[role] {
				ok = ok || a == name
			}
			before := e.auditCount(string(role))
			var code int
			var body string
			if s.method == "GET" {
				code, body = c.get(s.path)
			} else {
				code, body = c.post(s.path, s.form())
			}
			switch {
			case ok && s.method == "GET" && code != http.StatusOK:
				t.Errorf("%s %s: %d, want 200\n%s", role, name, code, body)
			case ok && s.method == "POST" && (code != http.StatusSeeOther || strings.Contains(body, "error")):
				t.Errorf("%s %s: %d %s, want a redirect", role, name, code, body)
			case !ok && code != http.StatusForbidden:
				t.Errorf("%s %s: %d, want 403", role, name, code)
			}
			after := e.auditCount(string(role))
			switch {
			case ok && s.method == "POST" && after != before+1:
				t.Errorf("%s %s: %d audit entries, want 1", role, name, after-before)
			case (!ok || s.method == "GET") && after != before:
				t.Errorf("%s %s: %d audit entries, want none", role, name, after-before)
			}
		}
	}
	if missing := e.p.I18n.Missing(); len(missing) > 0 {
		t.Errorf("untranslated: %v", missing)
	}
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t, nil)
	c := e.client()
	if code, _ := c.get("/admin/"); code != http.StatusSeeOther {
		t.Errorf("anonymous /admin/: %d, want a redirect to login", code)
	}
	for i := range 5 {
		if code, _ := c.post("/admin/login", url.Values{"login": {"admin"}, "password": {"wrong"}}); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, code)
		}
	}
	if code, body := c.post("/admin/login", url.Values{"login": {"admin"}, "password": {password}}); code != http.StatusTooManyRequests || !strings.Contains(body, "15") {
		t.Fatalf("right password while locked: %d", code)
	}
	e.clk.Advance(16 * time.Minute)
	if code, _ := c.post("/admin/login", url.Values{"login": {"admin"}, "password": {password}}); code != http.StatusSeeOther {
		t.Fatalf("after the lockout: %d", code)
	}
	if code, _ := c.get("/admin/"); code != http.StatusOK {
		t.Errorf("home after login: %d", code)
	}
	// A disabled operator's session stops working at once.
	op, _ := e.office.Operators.ByLogin(context.Background(), "admin")
	yes := true
	other, _ := e.office.Operators.ByLogin(context.Background(), "manager")
	role := operator.RoleAdmin
	e.office.Operators.Update(context.Background(), operator.Actor{}, other.ID, operator.Change{Role: &role})
	if _, err := e.office.Operators.Update(context.Background(), operator.Actor{}, op.ID, operator.Change{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.get("/admin/"); code != http.StatusSeeOther {
		t.Errorf("disabled operator: %d, want a redirect to login", code)
	}
}

var pwRe = regexp.MustCompile(`id="issued-password">([^<]+)<`)

func TestContractShownOnceAndReset(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c := e.login(operator.RoleManager)
	code, loc := c.post("/admin/subscribers", url.Values{"name": {"Петрова Анна"}, "city": {"tver"}, "address": {"ул. Советская, 1"}, "phone": {"+7 900 000-00-01"},
		"email": {"anna@example.net"}, "tariff": {"home"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/issued/") {
		t.Fatalf("create: %d %s", code, loc)
	}
	code, body := c.get(loc)
	m := pwRe.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("credentials page: %d\n%s", code, body)
	}
	pw := m[1]
	if !strings.Contains(body, "осталось в очереди") {
		t.Errorf("the credentials page does not say the letter stays in the queue (no mail server)")
	}
	if code, _ := c.get(loc); code != http.StatusGone {
		t.Errorf("credentials shown twice: %d", code)
	}
	code, pdf := c.get(loc + "/pdf")
	if code != http.StatusOK || !strings.HasPrefix(pdf, "%PDF") {
		t.Errorf("contract PDF: %d", code)
	}
	if code, _ := c.get(loc + "/pdf"); code != http.StatusGone {
		t.Errorf("PDF given twice: %d", code)
	}
	// Another operator cannot open the token.
	accts, _ := e.office.Dir.Search(ctx, "Петрова", 10)
	if len(accts) != 1 {
		t.Fatalf("search: %+v", accts)
	}
	a := accts[0]
	if _, err := e.office.Dir.Authenticate(ctx, a.Login, pw); err != nil {
		t.Errorf("shown password does not work: %v", err)
	}
	// Reset: identity note required; with e-mail the password is mailed, not shown.
	if code, loc := c.post(fmt.Sprintf("/admin/subscribers/%d/password", a.ID), url.Values{"confirmed_by": {""}}); code != http.StatusSeeOther {
		t.Errorf("reset without note: %d %s", code, loc)
	}
	if _, body := c.get(fmt.Sprintf("/admin/subscribers/%d", a.ID)); !strings.Contains(body, "подтверждена личность") {
		t.Errorf("no error shown for a reset without note")
	}
	code, loc = c.post(fmt.Sprintf("/admin/subscribers/%d/password", a.ID), url.Values{"confirmed_by": {"паспорт в офисе"}})
	if code != http.StatusSeeOther || loc != fmt.Sprintf("/admin/subscribers/%d", a.ID) {
		t.Fatalf("reset: %d %s", code, loc)
	}
	// This back office has no mail server: the letter stays queued, and
	// the page says so instead of "sent".
	if _, body := c.get(loc); !strings.Contains(body, "осталось в очереди") || strings.Contains(body, "отправлен абоненту") {
		t.Errorf("the reset does not say the letter stays in the queue")
	}
	// The mail page says why and shows the letter's text to those who may
	// reset a password anyway, not to a cashier.
	if _, body := c.get("/admin/mail"); !strings.Contains(body, "Почтовый сервер не настроен") || !strings.Contains(body, "Новый пароль:") {
		t.Errorf("the mail page does not show the unsent letter to a manager")
	}
	if _, body := e.login(operator.RoleCashier).get("/admin/mail"); !strings.Contains(body, "Почтовый сервер не настроен") || strings.Contains(body, "Новый пароль:") {
		t.Errorf("the mail page shows a cashier the letter's password")
	}
	letters, _ := e.office.Mail.List(ctx, a.ID, "", 10)
	if len(letters) != 2 || letters[0].Kind != notify.KindPasswordReset || letters[1].Kind != notify.KindCredentials {
		t.Errorf("letters: %+v", letters)
	}
	if _, err := e.office.Dir.Authenticate(ctx, a.Login, pw); err == nil {
		t.Error("old password still works after the reset")
	}
}

func TestEveryPageRendersInBothLanguages(t *testing.T) {
	e := newEnv(t, nil)
	// The portal owns POST /lang; this test sets the session's language
	// the same way without it.
	e.p.Page("POST /test-lang", func(w http.ResponseWriter, r *http.Request) {
		e.p.Sessions.Put(r.Context(), platform.SessionLang, r.PostFormValue("lang"))
	})
	c := e.login(operator.RoleAdmin)
	pages := []string{"/admin/", "/admin/subscribers", "/admin/subscribers?q=900", "/admin/subscribers/new", "/admin/subscribers/1", "/admin/catalogue", "/admin/news",
		"/admin/debtors", "/admin/reports", "/admin/audit", "/admin/operators", "/admin/mail", "/admin/support", "/admin/support/chat/1", "/admin/network",
		"/admin/receipts", "/admin/receipts?status=all"}
	for _, lang := range []string{"ru", "en"} {
		c.post("/test-lang", url.Values{"lang": {lang}})
		for _, p := range pages {
			code, body := c.get(p)
			if code != http.StatusOK || !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: %d\n%s", lang, p, code, body)
			}
		}
	}
	if missing := e.p.I18n.Missing(); len(missing) > 0 {
		t.Errorf("untranslated: %v", missing)
	}
}

// fakeNetwork stands in for RADIUS: one open session, one NAS; saving a
// NAS goes to the real table, with its audit entry.
type fakeNetwork struct {
	nas          *radius.NASStore
	disconnected []int64
}

func (f *fakeNetwork) NASList(ctx context.Context) ([]radius.NAS, error) { return f.nas.List(ctx) }
func (f *fakeNetwork) SetAllowUnsigned(ctx context.Context, id int64, allow bool, by operator.Actor) error {
	return f.nas.SetAllowUnsigned(ctx, id, allow, by)
}
func (f *fakeNetwork) NASSecret(ctx context.Context, id int64, by operator.Actor) (string, error) {
	return f.nas.Secret(ctx, id, by)
}
func (f *fakeNetwork) SaveNAS(ctx context.Context, n radius.NAS, by operator.Actor) (radius.NAS, error) {
	return f.nas.SaveBy(ctx, n, by)
}
func (f *fakeNetwork) OpenSessions(context.Context) ([]traffic.Session, error) {
	return []traffic.Session{{ID: 7, NASName: "bras-1", AccountID: 1, Login: "ivanov", FramedIP: netip.MustParseAddr("10.0.0.7"), StartedAt: time.Date(2027, 3, 10, 8, 0, 0, 0, time.UTC)}}, nil
}
func (f *fakeNetwork) Disconnect(_ context.Context, id int64, _ string) error {
	f.disconnected = append(f.disconnected, id)
	return nil
}
func (f *fakeNetwork) CoAFailures(context.Context, int) ([]radius.CoALogEntry, error) {
	return nil, nil
}

func TestSupportRequestAssignAndAnswer(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	sup := support.New(e.office.DB, e.clk)
	req, err := sup.File(ctx, 1, support.KindFault, "Нет интернета", "С утра не работает")
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/admin/support/requests/%d", req.ID)
	if code, _ := e.login(operator.RoleCashier).post(path+"/assign", url.Values{"take": {"1"}}); code != http.StatusForbidden {
		t.Errorf("cashier takes a request: %d", code)
	}
	c := e.login(operator.RoleSupport)
	if code, _ := c.post(path+"/assign", url.Values{"take": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("take: %d", code)
	}
	if code, body := c.get(path); code != http.StatusOK || !strings.Contains(body, `<strong id="assignee">support</strong>`) {
		t.Errorf("request page: %d", code)
	}
	if _, body := c.get("/admin/support"); !strings.Contains(body, "<td>support</td>") {
		t.Errorf("queue lacks the assignee")
	}
	if code, _ := c.post(path, url.Values{"body": {"Перезагрузите роутер"}, "status": {support.StatusAnswered}}); code != http.StatusSeeOther {
		t.Fatalf("answer: %d", code)
	}
	got, _ := sup.RequestOf(ctx, 1, req.ID)
	if got.Status != support.StatusAnswered || len(got.Messages) != 2 || got.Messages[1].Operator != "support" {
		t.Errorf("request after the answer: %+v", got)
	}
	for _, missing := range []string{"/admin/support/requests/999", "/admin/support/requests/999/assign"} {
		if code, _ := c.post(missing, url.Values{"body": {"Ответ"}, "take": {"1"}}); code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", missing, code)
		}
	}
	entries, _ := e.office.Operators.Search(ctx, operator.AuditQuery{Operator: "support", Action: "support."})
	if len(entries) != 2 || entries[0].Action != "support.answer" || entries[1].Action != "support.assign" {
		t.Errorf("audit: %+v", entries)
	}
}

func TestApplicationToContract(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	sup := support.New(e.office.DB, e.clk)
	if _, err := sup.Apply(ctx, support.Application{CityID: 1, TariffCode: "home", Name: "Анна Сергеевна", Phone: "+7 900 111-22-33", Address: "Советская, 1 & 2"}); err != nil {
		t.Fatal(err)
	}
	c := e.login(operator.RoleManager)
	_, body := c.get("/admin/support")
	if !strings.Contains(body, `<span title="home">Дом 100</span>`) {
		t.Errorf("the application names its tariff by code, not by name")
	}
	m := regexp.MustCompile(`href="(/admin/subscribers/new\?[^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link to a contract from the application:\n%s", body)
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	code, form := c.get(link)
	for _, want := range []string{`value="Анна Сергеевна"`, `value="&#43;7 900 111-22-33"`, `value="Советская, 1 &amp; 2"`, `<option value="tver" selected>`, `<option value="home" selected>`} {
		if code != http.StatusOK || !strings.Contains(form, want) {
			t.Errorf("contract form lacks %s (%d)", want, code)
		}
	}
}

func TestCatalogueAndNewsEdits(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	// Deleting news: one item per role, so each role tries a fresh one.
	for _, role := range operator.Roles {
		item, err := content.Add(ctx, e.office.DB, content.Item{Kind: content.KindNews, Title: "Удалить " + string(role), Body: "Текст", PublishedAt: e.clk.Now()}, e.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		allowed := role == operator.RoleAdmin || role == operator.RoleManager
		c := e.login(role)
		before := e.auditCount(string(role))
		code, _ := c.post(fmt.Sprintf("/admin/news/%d/delete", item.ID), nil)
		_, err = content.ByID(ctx, e.office.DB, item.ID)
		switch {
		case allowed && (code != http.StatusSeeOther || err == nil):
			t.Errorf("%s deletes news: %d, item still there: %v", role, code, err == nil)
		case !allowed && (code != http.StatusForbidden || err != nil):
			t.Errorf("%s deletes news: %d (%v), want 403 and the item kept", role, code, err)
		}
		want := 0
		if allowed {
			want = 1
		}
		if n := e.auditCount(string(role)) - before; n != want {
			t.Errorf("%s delete news: %d audit entries, want %d", role, n, want)
		}
	}
	got, _ := e.office.Operators.Search(ctx, operator.AuditQuery{Action: "content.delete"})
	if len(got) != 2 || !strings.Contains(got[0].BeforeJSON(), "Удалить manager") {
		t.Errorf("delete audit: %+v", got)
	}

	c := e.login(operator.RoleManager)
	// A bad form is the form's error, not a 500, and audits nothing.
	before := e.auditCount("manager")
	if code, loc := c.post("/admin/packages/1", url.Values{"name": {"ТВ"}, "price": {"abc"}}); code != http.StatusSeeOther || loc != "/admin/catalogue" {
		t.Errorf("bad price: %d %s", code, loc)
	}
	if code, loc := c.post("/admin/news/1", url.Values{"kind": {"news"}, "title": {""}, "body": {"x"}}); code != http.StatusSeeOther || loc != "/admin/news" {
		t.Errorf("empty title: %d %s", code, loc)
	}
	if code, _ := c.post("/admin/cities/99", url.Values{"name": {"Нигде"}}); code != http.StatusSeeOther {
		t.Errorf("unknown city: %d", code)
	}
	if n := e.auditCount("manager") - before; n != 0 {
		t.Errorf("%d audit entries for refused forms", n)
	}
	// Edits show in the forms, and the archive is reversible.
	c.post("/admin/packages/1", url.Values{"name": {"ТВ Плюс"}, "name_en": {"TV Plus"}, "description": {"200 каналов"}, "price": {"299,90"}})
	c.post("/admin/packages/1/archive", url.Values{"archived": {"1"}})
	p, _ := billing.PackageByID(ctx, e.office.DB, 1)
	if p.Name != "ТВ Плюс" || p.Price != money.Amount(29990) || !p.Archived || p.Code != "tv" || p.Kind != billing.PackageTV {
		t.Errorf("package: %+v", p)
	}
	c.post("/admin/packages/1/archive", url.Values{"archived": {"0"}})
	if p, _ := billing.PackageByID(ctx, e.office.DB, 1); p.Archived {
		t.Error("package not restored")
	}
	c.post("/admin/news/1", url.Values{"kind": {"promo"}, "title": {"Акция"}, "body": {"Скидка"}, "city": {"tver"}, "published": {"2027-03-01"}, "expires": {"2027-04-01"}})
	if _, body := c.get("/admin/news"); !strings.Contains(body, `value="Акция"`) || !strings.Contains(body, `value="2027-04-01"`) || !strings.Contains(body, `<option value="tver" selected>`) {
		t.Errorf("news form does not show the edit:\n%s", body)
	}
	got, _ = e.office.Operators.Search(ctx, operator.AuditQuery{Operator: "manager", Action: "package."})
	if len(got) != 3 || got[0].Action != "package.restore" || got[1].Action != "package.archive" || got[2].Action != "package.update" ||
		!strings.Contains(got[2].BeforeJSON(), `"Name":"ТВ"`) || !strings.Contains(got[2].AfterJSON(), `"Name":"ТВ Плюс"`) {
		t.Errorf("package audit: %+v", got)
	}
}

// TestNASSecretOnDemand: the network page never prints a NAS's shared
// secret; an operator who may manage the network asks for it with a POST,
// which shows it once and leaves an audit entry. Changing whether the NAS
// must sign is audited the same way.
func TestNASSecretOnDemand(t *testing.T) {
	e := newEnv(t, nil)
	const secret = "bras-shared-secret-42"
	admin, manager := e.login(operator.RoleAdmin), e.login(operator.RoleManager)
	if code, body := admin.post("/admin/network/nas", url.Values{"name": {"bras-9"}, "addr": {"192.0.2.9"}, "secret": {secret},
		"kind": {"mikrotik"}, "coa_port": {"3799"}, "require_ma": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("add NAS: %d %s", code, body)
	}
	list, err := radius.NewNASStore(e.office.DB, nil).List(context.Background())
	if err != nil || len(list) != 1 || list[0].AllowUnsigned {
		t.Fatalf("NAS list %+v, %v", list, err)
	}
	id := list[0].ID
	for _, c := range []*client{admin, manager} {
		if code, body := c.get("/admin/network"); code != http.StatusOK || strings.Contains(body, secret) || !strings.Contains(body, "bras-9") {
			t.Errorf("network page: %d, secret shown: %t", code, strings.Contains(body, secret))
		}
	}
	before := e.auditCount("admin")
	code, body := admin.post(fmt.Sprintf("/admin/network/nas/%d/secret", id), url.Values{})
	if code != http.StatusOK || !strings.Contains(body, "<code>"+secret+"</code>") {
		t.Errorf("show secret: %d, shown: %t", code, strings.Contains(body, secret))
	}
	if n := e.auditCount("admin"); n != before+1 {
		t.Errorf("showing the secret wrote %d audit entries, want 1", n-before)
	}
	if code, body := manager.post(fmt.Sprintf("/admin/network/nas/%d/secret", id), url.Values{}); code != http.StatusForbidden || strings.Contains(body, secret) {
		t.Errorf("manager asks for the secret: %d", code)
	}
	if code, _ := admin.post("/admin/network/nas/999/secret", url.Values{}); code != http.StatusNotFound {
		t.Errorf("unknown NAS: %d, want 404", code)
	}

	before = e.auditCount("admin")
	if code, body := admin.post(fmt.Sprintf("/admin/network/nas/%d/signing", id), url.Values{"allow_unsigned": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("allow unsigned: %d %s", code, body)
	}
	if list, _ := radius.NewNASStore(e.office.DB, nil).List(context.Background()); !list[0].AllowUnsigned {
		t.Error("unsigned requests not allowed after the operator allowed them")
	}
	if n := e.auditCount("admin"); n != before+1 {
		t.Errorf("allowing unsigned requests wrote %d audit entries, want 1", n-before)
	}
	if code, _ := manager.post(fmt.Sprintf("/admin/network/nas/%d/signing", id), url.Values{}); code != http.StatusForbidden {
		t.Errorf("manager changes signing: %d", code)
	}
	if code, body := admin.get("/admin/network"); !strings.Contains(body, "/admin/network/nas/"+fmt.Sprint(id)+"/signing") || code != http.StatusOK {
		t.Errorf("network page lacks the signing form: %d", code)
	}
}

// The card names tariffs and channels as the subscriber reads them, and an
// operator hands out the statement as a document; a wrong period is named.
func TestSubscriberStatement(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login(operator.RoleCashier)
	if code, body := c.get("/admin/subscribers/1"); code != http.StatusOK || !strings.Contains(body, `title="home `) || !strings.Contains(body, "Дом 100") {
		t.Fatalf("card: %d\n%s", code, body)
	}
	for _, tt := range []struct {
		query   string
		code    int
		prefix  string
		subject string
	}{
		{"format=pdf", http.StatusOK, "%PDF", ""},
		{"format=csv&from=2027-03-01&to=2027-03-10", http.StatusOK, "\ufeffДоговор;", "Дом 100"},
		{"format=csv&from=2027-03-10&to=2027-03-01", http.StatusUnprocessableEntity, "Дата «по» должна быть не раньше даты «с».", ""},
		{"format=xls", http.StatusNotFound, "", ""},
	} {
		code, body := c.get("/admin/subscribers/1/statement?" + tt.query)
		if code != tt.code || !strings.HasPrefix(body, tt.prefix) || !strings.Contains(body, tt.subject) {
			t.Errorf("%s: %d %q", tt.query, code, body[:min(len(body), 80)])
		}
	}
}

// memorySource is an old billing of one tariff and one subscriber with a
// credit and two phones.
type memorySource struct{}

func (memorySource) System() string { return "ubilling" }
func (memorySource) Tariffs(_ context.Context, fn func(importer.Tariff) error) error {
	return fn(importer.Tariff{Key: "Дом", Name: "Дом 50", Fee: "400", DownKbps: 51200, UpKbps: 51200})
}
func (memorySource) Subscribers(_ context.Context, fn func(importer.Subscriber) error) error {
	return fn(importer.Subscriber{Key: "petrov", Login: "petrov", Password: "Старый-пароль", Name: "Петров Пётр", Phone: "+7 915 000-11-22",
		Phone2: "+7 4822 11-22-33", Tariff: "Дом", Balance: "-120.50", Credit: "300", CreditUntil: "2027-01-15"})
}
func (memorySource) Payments(context.Context, func(importer.Payment) error) error { return nil }

// TestImportedSubscriberCard: the card of a subscriber moved in from another
// billing names it, with the credit allowed there and the second phone,
// which Kabinet keeps only for the operators.
func TestImportedSubscriberCard(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	rep, err := importer.Run(ctx, e.office.DB, memorySource{}, importer.Options{At: e.clk.Now().Add(-time.Hour), Sealer: e.office.Dir.Sealer, Biller: e.office.Biller})
	if err != nil || rep.Subscribers.New != 1 || rep.Credits != 1 {
		t.Fatalf("import: %v, %+v", err, rep)
	}
	a, err := e.office.Dir.ByLogin(ctx, "petrov")
	if err != nil {
		t.Fatal(err)
	}
	e.p.Page("POST /test-lang", func(w http.ResponseWriter, r *http.Request) {
		e.p.Sessions.Put(r.Context(), platform.SessionLang, r.PostFormValue("lang"))
	})
	c := e.login(operator.RoleCashier)
	for _, tt := range []struct {
		lang string
		want []string
	}{
		{"ru", []string{"Из прежнего биллинга", "ubilling, «petrov», перенесён", "кредит там: 300,00", "до 2027-01-15", "второй телефон: &#43;7 4822 11-22-33"}},
		{"en", []string{"From the previous billing", "ubilling, “petrov”, moved in", "credit there: ", "until 2027-01-15", "second phone: &#43;7 4822 11-22-33"}},
	} {
		c.post("/test-lang", url.Values{"lang": {tt.lang}})
		code, body := c.get(fmt.Sprintf("/admin/subscribers/%d", a.ID))
		for _, w := range tt.want {
			if code != http.StatusOK || !strings.Contains(body, w) {
				t.Errorf("%s: card %d lacks %q:\n%s", tt.lang, code, w, body)
			}
		}
	}
	// Kabinet's own subscriber has no such line.
	c.post("/test-lang", url.Values{"lang": {"ru"}})
	if _, body := c.get("/admin/subscribers/1"); strings.Contains(body, `id="origin"`) {
		t.Errorf("ivanov's card names a previous billing")
	}
	if missing := e.p.I18n.Missing(); len(missing) > 0 {
		t.Errorf("untranslated: %v", missing)
	}
}
