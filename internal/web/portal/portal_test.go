package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// TestEveryPage opens every page in both languages. Together with the
// list below it executes every template, and it proves that no string shown
// lacks a translation.
func TestEveryPage(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	alice := e.IDs["alice"]
	req, err := e.Support.File(ctx, alice, "fault", "Нет связи", "Не работает с утра")
	if err != nil {
		t.Fatal(err)
	}
	e.Support.Answer(ctx, req.ID, "oper", "Проверяем линию", "in_progress")
	e.Support.Respond(ctx, alice, "oper", "Здравствуйте!")
	sub, err := e.Biller.Connect(ctx, alice, "drweb")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := e.Pay.StartCard(ctx, payment.CardStart{AccountID: alice, Amount: money.Rub(100), Processor: "sandbox", ReturnURL: "http://x/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{
		"portal/login":              "/login",
		"portal/home":               "/",
		"portal/tariffs":            "/tariffs",
		"portal/tariff_confirm":     "/tariffs/home300",
		"portal/packages":           "/packages",
		"portal/package_confirm":    "/packages/tv",
		"portal/package_disconnect": fmt.Sprintf("/subscriptions/%d", sub.ID),
		"portal/payments":           "/payments",
		"portal/howto":              "/payments/howto",
		"portal/payment":            fmt.Sprintf("/payments/%d", p.ID),
		"portal/bonus":              "/bonus",
		"portal/promise":            "/promise",
		"portal/suspension":         "/suspension",
		"portal/statement":          "/statement?from=2026-03-01&to=2026-03-31",
		"portal/traffic":            "/traffic",
		"portal/requests":           "/requests",
		"portal/request":            fmt.Sprintf("/requests/%d", req.ID),
		"portal/chat":               "/chat",
		"portal/profile":            "/profile",
		"portal/autopay":            "/autopay",
		"portal/offline":            "/offline",
		"shared/error":              "/no-such-page",
	}
	for _, name := range e.Srv.Platform.Render.Pages() {
		// Other areas (admin, public) test their own pages.
		if !strings.HasPrefix(name, "portal/") && !strings.HasPrefix(name, "shared/") {
			continue
		}
		// The company cabinet is an employee's: TestCompanyCabinet opens it.
		if name == "portal/company" {
			continue
		}
		if _, ok := pages[name]; !ok {
			t.Errorf("page %s is not opened by this test: add its URL", name)
		}
	}
	for _, lang := range platform.Langs {
		c := e.Login("alice")
		c.Post("/lang", url.Values{"lang": {lang}, "back": {"/"}})
		for name, path := range pages {
			want := http.StatusOK
			if name == "shared/error" {
				want = http.StatusNotFound
			}
			if name == "portal/login" {
				want = http.StatusSeeOther // logged in: back home
				anon := e.Client()
				anon.Post("/lang", url.Values{"lang": {lang}, "back": {"/login"}, "csrf": {""}})
				webtest.Must(t, anon.Get("/login"), http.StatusOK, "<form")
			}
			r := c.Get(path)
			if r.Status != want {
				t.Errorf("%s %s (%s): status %d, want %d\n%s", name, path, lang, r.Status, want, webtest.Snippet(r.Body))
			}
			if strings.Contains(r.Body, "goroutine") || strings.Contains(r.Body, ".go:") {
				t.Errorf("%s leaks internals", path)
			}
		}
		c.Get("/chat/messages?after=0")
	}
	if m := e.Srv.Platform.I18n.Missing(); len(m) > 0 {
		t.Errorf("untranslated: %v", m)
	}
}

func TestLogin(t *testing.T) {
	e := webtest.New(t)
	c := e.Client()
	r := c.Get("/")
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("anonymous home: %d %s", r.Status, r.Header.Get("Location"))
	}
	webtest.Must(t, c.Get("/login"), http.StatusOK, "Логин и пароль указаны в вашем договоре", "(4822) 55-00-00", "Торжок, ул. Ленина, 5")
	webtest.Must(t, c.Post("/login", url.Values{"login": {"alice"}, "password": {"wrong"}}), http.StatusUnauthorized, "Неверный логин или пароль.")
	r = c.Post("/login", url.Values{"login": {"ALICE "}, "password": {webtest.Password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", r.Status, webtest.Snippet(r.Body))
	}
	s, _ := e.Biller.Summary(context.Background(), e.IDs["alice"])
	webtest.Must(t, c.Get("/"), http.StatusOK, s.Balance.Format("ru"), "Домашний 100", "Турбо за полцены")
	if r := c.Get("/"); strings.Contains(r.Body, "Только для Торжка") {
		t.Error("news of another city shown")
	}
	webtest.Must(t, c.Post("/logout", nil), http.StatusSeeOther)
	if r := c.Get("/"); r.Status != http.StatusSeeOther {
		t.Fatalf("after logout home is %d", r.Status)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := webtest.New(t)
	c := e.Client()
	c.Get("/login")
	for i := 0; i < 5; i++ {
		webtest.Must(t, c.Post("/login", url.Values{"login": {"bob"}, "password": {"guess"}}), http.StatusUnauthorized)
	}
	// Even the right password is refused while the login is locked.
	webtest.Must(t, c.Post("/login", url.Values{"login": {"bob"}, "password": {webtest.Password}}), http.StatusTooManyRequests, "Слишком много попыток входа. Попробуйте снова через 1 минуту.")
	// Another login from the same address still works (the address limit is wider).
	webtest.Must(t, c.Post("/login", url.Values{"login": {"alice"}, "password": {webtest.Password}}), http.StatusSeeOther)
	e.Clock.Advance(time.Minute)
	c2 := e.Client()
	c2.Get("/login")
	webtest.Must(t, c2.Post("/login", url.Values{"login": {"bob"}, "password": {webtest.Password}}), http.StatusSeeOther)
	// Many subscribers behind one address (an office, the provider's own
	// NAT) log in one after another: successful logins use up nothing.
	for i := range 30 {
		c := e.Client()
		c.Get("/login")
		if r := c.Post("/login", url.Values{"login": {"alice"}, "password": {webtest.Password}}); r.Status != http.StatusSeeOther {
			t.Fatalf("successful login %d from the same address: %d", i+1, r.Status)
		}
	}
}

// TestForeignIDs: another subscriber's ids in paths get 404, and nothing
// changes.
func TestForeignIDs(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	bob := e.IDs["bob"]
	e.Credit("bob", 500, "b1")
	req, _ := e.Support.File(ctx, bob, "question", "Вопрос Боба", "Текст")
	sub, err := e.Biller.Connect(ctx, bob, "tv")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := e.Pay.StartCard(ctx, payment.CardStart{AccountID: bob, Amount: money.Rub(100), Processor: "sandbox", ReturnURL: "http://x/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Login("alice")
	for _, tc := range []struct{ method, path string }{
		{"GET", fmt.Sprintf("/requests/%d", req.ID)},
		{"POST", fmt.Sprintf("/requests/%d", req.ID)},
		{"GET", fmt.Sprintf("/subscriptions/%d", sub.ID)},
		{"POST", fmt.Sprintf("/subscriptions/%d", sub.ID)},
		{"GET", fmt.Sprintf("/payments/%d", p.ID)},
		{"GET", "/requests/abc"},
		{"GET", "/tariffs/no-such"},
		{"GET", "/packages/no-such"},
	} {
		var r webtest.Resp
		if tc.method == "GET" {
			r = c.Get(tc.path)
		} else {
			r = c.Post(tc.path, url.Values{"body": {"hi"}})
		}
		webtest.Must(t, r, http.StatusNotFound, "Страница не найдена")
	}
	subs, _ := e.Biller.Subscriptions(ctx, e.DB, bob, false)
	if len(subs) != 1 {
		t.Error("bob's package was disconnected by alice")
	}
	full, _ := e.Support.RequestOf(ctx, bob, req.ID)
	if len(full.Messages) != 1 {
		t.Error("alice wrote into bob's request")
	}
}

// TestCrossSite: a state change needs the session's token and a same-origin
// request.
func TestCrossSite(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	good := c.CSRF
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"missing token", url.Values{"csrf": {""}}, nil},
		{"wrong token", url.Values{"csrf": {"forged"}}, nil},
		{"cross-site fetch", nil, []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", nil, []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Post("/packages/tv", tc.form, tc.hdr...)
			if r.Status != http.StatusForbidden {
				t.Fatalf("status %d", r.Status)
			}
			c.CSRF = good
		})
	}
	// A token from a previous session is stale after logging out and in.
	c.Post("/logout", nil)
	c2 := e.Login("alice")
	webtest.Must(t, c2.Post("/packages/tv", url.Values{"csrf": {good}}), http.StatusForbidden, "Форма устарела")
	subs, _ := e.Biller.Subscriptions(context.Background(), e.DB, e.IDs["alice"], false)
	if len(subs) != 0 {
		t.Fatalf("a refused request connected %d packages", len(subs))
	}
	webtest.Must(t, c2.Post("/packages/tv", nil), http.StatusSeeOther)
}

func TestTariffChange(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	webtest.Must(t, c.Get("/tariffs"), http.StatusOK, "Домашний 300", "Ваш тариф")
	if r := c.Get("/tariffs"); strings.Contains(r.Body, "Торжок 200") || strings.Contains(r.Body, "Архивный") {
		t.Fatal("catalogue shows a tariff not offered in the subscriber's city")
	}
	// 15 March, Moscow: 17 days left of 31 (15th..31st).
	q, _ := e.Biller.QuoteTariffChange(context.Background(), e.IDs["alice"], "home300")
	webtest.Must(t, c.Get("/tariffs/home300"), http.StatusOK, "Сразу после подтверждения", q.Refund.Format("ru"), q.Charge.Format("ru"),
		fmt.Sprintf("оставшиеся %d", q.DaysLeft))
	for _, code := range []string{"old", "torzhok-only"} {
		webtest.Must(t, c.Get("/tariffs/"+code), http.StatusUnprocessableEntity, "Этот тариф недоступен для вашего договора")
		webtest.Must(t, c.Post("/tariffs/"+code, nil), http.StatusUnprocessableEntity, "Этот тариф недоступен для вашего договора")
	}
	webtest.Must(t, c.Post("/tariffs/home100", nil), http.StatusUnprocessableEntity, "Этот тариф уже подключён.")
	r := c.Post("/tariffs/home300", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", r.Status, webtest.Snippet(r.Body))
	}
	webtest.Must(t, c.Get("/"), http.StatusOK, "Тариф изменён.", "Домашний 300", "300 Мбит/с")

	// A tariff without proration changes from the next 1st, and the change
	// can be cancelled until then.
	if _, err := e.Dir.Create(context.Background(), subscriber.NewAccount{Login: "carol", Password: webtest.Password, PasswordHash: webtest.FastHash, Tariff: "fixed", City: "tver"}); err != nil {
		t.Fatal(err)
	}
	k := e.Login("carol")
	webtest.Must(t, k.Get("/tariffs/home100"), http.StatusOK, "С 01.04.2026 (со следующего расчётного периода)")
	webtest.Must(t, k.Post("/tariffs/home100", nil), http.StatusSeeOther)
	webtest.Must(t, k.Get("/"), http.StatusOK, "Смена тарифа запланирована", "С 01.04.2026 — тариф «Домашний 100»", "Фиксированный")
	webtest.Must(t, k.Post("/tariffs/cancel", nil), http.StatusSeeOther)
	if r := k.Get("/tariffs"); !strings.Contains(r.Body, "Запланированная смена тарифа отменена.") || strings.Contains(r.Body, "тариф «Домашний 100»") {
		t.Fatalf("cancel: %s", webtest.Snippet(r.Body))
	}
}

func TestPackages(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	webtest.Must(t, c.Get("/packages/drweb"), http.StatusOK, "Антивирус Dr.Web", "за оставшиеся дни месяца")
	webtest.Must(t, c.Post("/packages/drweb", nil), http.StatusSeeOther)
	r := c.Get("/packages")
	webtest.Must(t, r, http.StatusOK, "Услуга подключена.", "Лицензионный ключ:")
	subs, _ := e.Biller.Subscriptions(context.Background(), e.DB, e.IDs["alice"], false)
	if len(subs) != 1 || !strings.Contains(r.Body, subs[0].LicenseKey) {
		t.Fatalf("licence key not shown: %+v", subs)
	}
	webtest.Must(t, c.Post("/packages/drweb", nil), http.StatusUnprocessableEntity, "Эта услуга уже подключена.")
	webtest.Must(t, c.Post(fmt.Sprintf("/subscriptions/%d", subs[0].ID), nil), http.StatusSeeOther)
	webtest.Must(t, c.Get("/packages"), http.StatusOK, "Услуга отключена.")
	// Bob has a debt of this month's fee: a paid boost needs money first.
	b := e.Login("bob")
	webtest.Must(t, b.Post("/packages/turbo", nil), http.StatusUnprocessableEntity, "Недостаточно средств")
}

func TestStatement(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	c.Post("/packages/tv", nil)
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, e.Srv.Platform.Zone), time.Date(2026, 4, 1, 0, 0, 0, 0, e.Srv.Platform.Zone)
	st, err := ledger.StatementFor(context.Background(), e.DB, e.IDs["alice"], from, to, ledger.Page{})
	if err != nil {
		t.Fatal(err)
	}
	q := "/statement?from=2026-03-01&to=2026-03-31"
	webtest.Must(t, c.Get(q), http.StatusOK, "Входящий остаток", st.Closing.Format("ru"), st.Debits.Format("ru"), st.Credits.Format("ru"), "ТВ Базовый",
		"Платёж: Наличные в офисе", `href="/statement?from=2026-03-01&amp;to=2026-03-31&amp;format=pdf"`)
	r := c.Get(q + "&format=csv")
	// Russian Excel reads ';' and a decimal comma.
	ru := func(a money.Amount) string { return strings.Replace(a.Decimal(), ".", ",", 1) }
	webtest.Must(t, r, http.StatusOK, "Исходящий остаток;;"+ru(st.Closing), "Поступило;"+ru(st.Credits), "Списано;"+ru(st.Debits))
	if r.Header.Get("Content-Disposition") == "" {
		t.Error("CSV is not an attachment")
	}
	r = c.Get(q + "&format=pdf")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "%PDF") || r.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %q", r.Status, r.Body[:min(20, len(r.Body))])
	}
	webtest.Must(t, c.Get("/statement?from=2026-03-31&to=2026-03-01"), http.StatusUnprocessableEntity, "Дата «по» должна быть не раньше даты «с»")
	if problems, err := ledger.Verify(context.Background(), e.DB); err != nil || len(problems) > 0 {
		t.Fatalf("ledger verify: %v %v", err, problems)
	}
	// The balance history ends at the ledger's balance.
	s, _ := e.Biller.Summary(context.Background(), e.IDs["alice"])
	webtest.Must(t, c.Get("/payments"), http.StatusOK, "История баланса", s.Balance.Format("ru"))
}

// Each wrong statement period gets its own message, next to the field it
// concerns, in the subscriber's language.
func TestStatementPeriodErrors(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	tests := []struct {
		query, field, ru string
	}{
		{"from=abc&to=2026-03-01", "from", "Дата «с» не распознана"},
		{"from=2026-03-01&to=abc", "to", "Дата «по» не распознана"},
		{"from=1900-01-01&to=2100-01-01", "from", "В дате «с» год должен быть от 2000 до 2099."},
		{"from=2026-01-01&to=2100-01-01", "to", "В дате «по» год должен быть от 2000 до 2099."},
		{"from=2026-03-31&to=2026-03-01", "to", "Дата «по» должна быть не раньше даты «с»."},
		{"from=2000-01-01&to=2026-03-01", "to", "Период слишком длинный: не больше 3660 дн."},
	}
	for _, tt := range tests {
		r := must2(t, c.Get("/statement?"+tt.query), http.StatusUnprocessableEntity, tt.ru)
		if !regexp.MustCompile(`name="` + tt.field + `"[^>]*aria-invalid="true"`).MatchString(r) {
			t.Errorf("%s: the %s field is not marked", tt.query, tt.field)
		}
	}
	// The traffic page reads its period the same way, a year at most, and
	// shows the last 30 days meanwhile.
	webtest.Must(t, c.Get("/traffic?from=abc"), http.StatusUnprocessableEntity, "Дата «с» не распознана", `aria-invalid="true"`, "Трафик и сессии")
	webtest.Must(t, c.Get("/traffic?from=2025-01-01&to=2026-03-01"), http.StatusUnprocessableEntity, "Период слишком длинный: не больше 366 дн.")
	webtest.Must(t, c.Get("/traffic?from=2026-03-01&to=2026-03-10"), http.StatusOK, `value="2026-03-01"`)
	c.Post("/lang", url.Values{"lang": {"en"}})
	webtest.Must(t, c.Get("/statement?from=abc"), http.StatusUnprocessableEntity, "The “from” date is not a date")
}

// Payment and balance history come a page at a time, newest first.
func TestHistoryPages(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	for i := range 60 {
		if _, err := e.Pay.CashPayment(ctx, payment.CashIn{AccountID: e.IDs["alice"], Amount: money.Rub(int64(100 + i)), Operator: "kassa", Receipt: fmt.Sprint("r", i)}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Minute)
	}
	c := e.Login("alice")
	r := must2(t, c.Get("/payments"), http.StatusOK, "159,00", `href="/payments?pp=2"`, `href="/payments?hp=2"`)
	if strings.Contains(r, "109,00") {
		t.Error("the first page shows the 51st payment")
	}
	webtest.Must(t, c.Get("/payments?pp=2"), http.StatusOK, "109,00", "100,00", `href="/payments"`)
	r = must2(t, c.Get("/payments?pp=2&hp=2"), http.StatusOK, `href="/payments?hp=2"`, `href="/payments?pp=2"`)
	if strings.Contains(r, "pp=3") {
		t.Error("a third page of payments is offered")
	}
}

func TestRequestsAndChat(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	webtest.Must(t, c.Post("/requests", url.Values{"kind": {"fault"}, "subject": {""}, "body": {"x"}}), http.StatusUnprocessableEntity, "Напишите тему заявки")
	r := c.Post("/requests", url.Values{"kind": {"fault"}, "subject": {"Нет интернета"}, "body": {"С утра не работает"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("file: %d", r.Status)
	}
	loc := r.Header.Get("Location")
	var id int64
	fmt.Sscanf(loc, "/requests/%d", &id)
	webtest.Must(t, c.Get(loc), http.StatusOK, "Заявка принята", "С утра не работает", "Новая")
	if err := e.Support.Answer(context.Background(), id, "oper", "Мастер приедет завтра", ""); err != nil {
		t.Fatal(err)
	}
	webtest.Must(t, c.Get(loc), http.StatusOK, "Мастер приедет завтра", "Есть ответ")
	webtest.Must(t, c.Post(loc, url.Values{"body": {"Спасибо"}}), http.StatusSeeOther)
	webtest.Must(t, c.Get("/requests"), http.StatusOK, "Нет интернета")

	r = c.Post("/chat", url.Values{"body": {"Здравствуйте"}}, "HX-Request", "true")
	webtest.Must(t, r, http.StatusOK, `name="body"`)
	if r.Header.Get("HX-Trigger") != "chat-new" {
		t.Error("no HX-Trigger after a chat message")
	}
	m, _ := e.Support.Respond(context.Background(), e.IDs["alice"], "oper", "Чем помочь?")
	webtest.Must(t, c.Get("/chat/messages?after=0"), http.StatusOK, "Здравствуйте", "Чем помочь?", fmt.Sprintf("after=%d", m.ID))
	if r := c.Get(fmt.Sprintf("/chat/messages?after=%d", m.ID)); strings.Contains(r.Body, "Чем помочь?") {
		t.Error("poll repeats old messages")
	}
	// Bob sees none of it.
	b := e.Login("bob")
	if r := b.Get("/chat/messages?after=0"); strings.Contains(r.Body, "Здравствуйте") {
		t.Error("bob reads alice's chat")
	}
}

func TestProfile(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	webtest.Must(t, c.Post("/profile", url.Values{"email": {"not an address"}, "phone": {"+7 900 000-00-00"}}), http.StatusUnprocessableEntity, "Адрес почты не распознан")
	webtest.Must(t, c.Post("/profile", url.Values{"email": {"new@example.com"}, "phone": {"+7 900 000-00-00"}, "notify_sms": {"on"}, "lang": {"en"}}), http.StatusSeeOther)
	webtest.Must(t, c.Get("/profile"), http.StatusOK, "Saved.", "new@example.com", "900 000-00-00")
	webtest.Must(t, c.Post("/profile/password", url.Values{"current": {"nope"}, "new": {"another-pass"}, "confirm": {"another-pass"}}), http.StatusUnprocessableEntity, "The current password is wrong.")
	webtest.Must(t, c.Post("/profile/password", url.Values{"current": {webtest.Password}, "new": {"another-pass"}, "confirm": {"other"}}), http.StatusUnprocessableEntity, "do not match")
	webtest.Must(t, c.Post("/profile/password", url.Values{"current": {webtest.Password}, "new": {"short"}, "confirm": {"short"}}), http.StatusUnprocessableEntity, "8 to 64")
	webtest.Must(t, c.Post("/profile/password", url.Values{"current": {webtest.Password}, "new": {"another-pass"}, "confirm": {"another-pass"}}), http.StatusSeeOther)
	if _, err := e.Dir.Authenticate(context.Background(), "alice", "another-pass"); err != nil {
		t.Fatal("new password does not work")
	}
}

func TestPayByCard(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	// A wrong amount is an error beside its field, announced, not a message
	// styled as success on another page.
	webtest.Must(t, c.Post("/payments/card", url.Values{"amount": {"abc"}}), http.StatusUnprocessableEntity,
		`aria-invalid="true" aria-describedby="pay-amount-error"`, `class="field-error" id="pay-amount-error" role="alert">Укажите сумму`, `value="abc"`)
	webtest.Must(t, c.Post("/payments/card", url.Values{"amount": {"-5"}}), http.StatusUnprocessableEntity, "Укажите сумму")
	r := c.Post("/payments/card", url.Values{"amount": {"250,50"}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/pay/sandbox/") {
		t.Fatalf("pay: %d %s", r.Status, r.Header.Get("Location"))
	}
	h, _ := e.Pay.History(context.Background(), e.IDs["alice"], 0, 1)
	if len(h) != 1 || h[0].Amount != money.Amount(25050) {
		t.Fatalf("payment: %+v", h)
	}
	webtest.Must(t, c.Get(fmt.Sprintf("/payments/%d", h[0].ID)), http.StatusOK, "Ожидает подтверждения", fmt.Sprintf(`hx-get="/payments/%d/state" hx-trigger="every 2s"`, h[0].ID))
	webtest.Must(t, c.Get("/payments"), http.StatusOK, "Банковская карта")
}

// TestPayBySBP: the portal offers SBP beside the card; the QR code is drawn
// by Kabinet on its own page, which waits for the result and shows it as
// soon as the processor knows, without the callback; a failure says why and
// offers to try again.
func TestPayBySBP(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	webtest.Must(t, c.Get("/payments"), http.StatusOK, `name="method" value="sbp"`, "Оплатить через СБП")
	for _, tc := range []struct {
		answer, want string
		status       payment.Status
	}{
		{"paid", "Платёж зачислен", payment.StatusSucceeded},
		{"insufficient_funds", "недостаточно средств", payment.StatusFailed},
	} {
		r := c.Post("/payments/card", url.Values{"amount": {"300"}, "method": {"sbp"}})
		loc := r.Header.Get("Location")
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/payments/") {
			t.Fatalf("sbp: %d %s", r.Status, loc)
		}
		page := must2(t, c.Get(loc), http.StatusOK, `src="`+loc+`/qr.svg"`, "Оплатить в приложении банка", `hx-trigger="every 2s"`)
		link := regexp.MustCompile(`href="(http[^"]+/pay/sandbox/sbp\?[^"]+)"`).FindStringSubmatch(page)
		if link == nil {
			t.Fatalf("no bank-app link:\n%s", webtest.Snippet(page))
		}
		svg := c.Get(loc + "/qr.svg")
		if svg.Status != http.StatusOK || !strings.HasPrefix(svg.Body, "<svg") || svg.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("qr: %d %s %.40s", svg.Status, svg.Header.Get("Content-Type"), svg.Body)
		}
		// The "bank's app" confirms (or refuses); the callback is not sent yet.
		u, _ := url.Parse(strings.ReplaceAll(link[1], "&amp;", "&"))
		f := u.Query()
		f.Set("sbp", tc.answer)
		if res, err := http.PostForm(e.TS.URL+u.Path, f); err != nil || res.StatusCode != 200 {
			t.Fatalf("bank app: %v %v", res, err)
		}
		e.Clock.Advance(5 * time.Second) // the page asks the processor again
		state := must2(t, c.Get(loc+"/state"), http.StatusOK, tc.want)
		if strings.Contains(state, "hx-trigger") {
			t.Errorf("%s: still polling after the result", tc.answer)
		}
		if tc.status == payment.StatusFailed && !strings.Contains(state, `role="alert"`) || tc.status == payment.StatusFailed && !strings.Contains(state, "Попробовать ещё раз") {
			t.Errorf("failure without an alert or a retry:\n%s", webtest.Snippet(state))
		}
	}
}

// TestBonusPoints: the points are shown on home (loaded by htmx) and on the
// payments page; spending asks how many, confirms, and spends once per form
// even when the confirmation is sent twice; refusals say why.
func TestBonusPoints(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	alice := e.IDs["alice"]
	// 10% of a 1,000 ₽ cash payment: 100 ₽ = 10,000 points.
	pay := payment.NewService(e.DB, e.Clock, e.Biller, nil, payment.Options{BonusPercentBP: 1000})
	if _, err := pay.CashPayment(ctx, payment.CashIn{AccountID: alice, Amount: money.Rub(1000), Operator: "kassa", Receipt: "r1"}); err != nil {
		t.Fatal(err)
	}
	c := e.Login("alice")
	webtest.Must(t, c.Get("/"), http.StatusOK, `hx-get="/bonus/balance"`)
	webtest.Must(t, c.Get("/bonus/balance"), http.StatusOK, "Бонусные баллы: 10\u00a0000", `href="/bonus"`)
	webtest.Must(t, c.Get("/payments"), http.StatusOK, "10\u00a0000", "Оплатить баллами")

	keyRe := regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`)
	form := must2(t, c.Get("/bonus"), http.StatusOK, "10\u00a0000", "100,00\u00a0₽")
	key := keyRe.FindStringSubmatch(form)[1]

	for _, tc := range []struct {
		name, points, key string
		status            int
		msg               string
	}{
		{"not a number", "много", key, http.StatusUnprocessableEntity, "Укажите целое число баллов"},
		{"zero", "0", key, http.StatusUnprocessableEntity, "Укажите целое число баллов"},
		{"negative", "-5", key, http.StatusUnprocessableEntity, "Укажите целое число баллов"},
		{"fraction", "1,5", key, http.StatusUnprocessableEntity, "Укажите целое число баллов"},
		{"more than there is", "10001", key, http.StatusUnprocessableEntity, "Столько баллов нет: на бонусном счёте 10\u00a0000"},
		{"no key", "100", "", http.StatusBadRequest, "Форма устарела"},
		{"forged key", "100", "x", http.StatusBadRequest, "Форма устарела"},
	} {
		r := c.Post("/bonus", url.Values{"points": {tc.points}, "key": {tc.key}, "confirm": {"1"}})
		if r.Status != tc.status || !strings.Contains(r.Body, tc.msg) {
			t.Errorf("%s: %d, want %d with %q\n%s", tc.name, r.Status, tc.status, tc.msg, webtest.Snippet(r.Body))
		}
	}
	if pts, _ := e.Pay.BonusBalance(ctx, alice); pts != 10000 {
		t.Fatalf("refusals spent points: %d left", pts)
	}
	// Step one: the confirmation, nothing spent yet.
	webtest.Must(t, c.Post("/bonus", url.Values{"points": {"2 500"}, "key": {key}}), http.StatusOK,
		"Списать баллы (2\u00a0500)", "25,00\u00a0₽", `name="confirm" value="1"`, key)
	if pts, _ := e.Pay.BonusBalance(ctx, alice); pts != 10000 {
		t.Fatalf("the confirmation page spent points: %d left", pts)
	}
	before := balanceOf(t, e, alice)
	for range 2 { // a double click
		r := c.Post("/bonus", url.Values{"points": {"2500"}, "key": {key}, "confirm": {"1"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/payments" {
			t.Fatalf("spend: %d %s", r.Status, r.Header.Get("Location"))
		}
	}
	if pts, _ := e.Pay.BonusBalance(ctx, alice); pts != 7500 {
		t.Errorf("after spending 2,500 twice with one key: %d points, want 7,500", pts)
	}
	if got := balanceOf(t, e, alice); got != before+money.Rub(25) {
		t.Errorf("balance %s, want %s", got, before+money.Rub(25))
	}
	webtest.Must(t, c.Get("/payments"), http.StatusOK, "Баллы списаны", "7\u00a0500", "Бонусы")
	// A new form has a new key: all that is left can be spent, then nothing.
	key2 := keyRe.FindStringSubmatch(must2(t, c.Get("/bonus"), http.StatusOK, "7\u00a0500"))[1]
	if key2 == key {
		t.Fatal("the form's key was reused")
	}
	webtest.Must(t, c.Post("/bonus", url.Values{"points": {"7500"}, "key": {key2}, "confirm": {"1"}}), http.StatusSeeOther)
	if pts, _ := e.Pay.BonusBalance(ctx, alice); pts != 0 {
		t.Errorf("after spending all: %d", pts)
	}
	webtest.Must(t, c.Get("/bonus"), http.StatusOK, "Баллов пока нет")
	webtest.Must(t, c.Post("/bonus", url.Values{"points": {"1"}, "key": {key2}, "confirm": {"1"}}), http.StatusUnprocessableEntity, "Столько баллов нет")

	// Bob has none; his own page, in English.
	b := e.Login("bob")
	b.Post("/lang", url.Values{"lang": {"en"}, "back": {"/bonus"}})
	webtest.Must(t, b.Get("/bonus"), http.StatusOK, "No points yet")
	webtest.Must(t, b.Post("/bonus", url.Values{"points": {"1"}, "key": {key}, "confirm": {"1"}}), http.StatusUnprocessableEntity, "You do not have that many points")
	// and a form without the session's token is refused
	webtest.Must(t, b.Post("/bonus", url.Values{"points": {"1"}, "key": {key}, "confirm": {"1"}, "csrf": {""}}), http.StatusForbidden)
}

func must2(t *testing.T, r webtest.Resp, status int, contains ...string) string {
	t.Helper()
	webtest.Must(t, r, status, contains...)
	return r.Body
}

func balanceOf(t *testing.T, e *webtest.Env, id int64) money.Amount {
	t.Helper()
	st, err := ledger.StatementFor(context.Background(), e.DB, id, time.Unix(0, 0), e.Clock.Now().Add(time.Second), ledger.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return st.Closing
}

// TestNavigation: the menu links every section, the speed test and traffic
// by class included.
func TestNavigation(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	r := must2(t, c.Get("/"), http.StatusOK)
	for _, href := range []string{"/", "/tariffs", "/packages", "/payments", "/traffic", "/traffic/classes", "/speedtest", "/requests", "/profile"} {
		if !strings.Contains(r, `<a href="`+href+`" `) {
			t.Errorf("the menu does not link %s", href)
		}
	}
}

// TestAddressLimit: guessing many logins from one IPv6 /64 meets the
// per-address limit; a neighbouring /64 does not.
func TestAddressLimit(t *testing.T) {
	e := webtest.New(t)
	h := e.Srv.Handler()
	get := httptest.NewRequest("GET", "/login", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, get)
	cookie := w.Result().Cookies()[0]
	token := webtest.CSRFRe.FindStringSubmatch(w.Body.String())[1]
	try := func(addr string, i int) int {
		form := url.Values{"login": {fmt.Sprintf("guess%d", i)}, "password": {"x"}, "csrf": {token}}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		req.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	for i := 0; i < 20; i++ {
		if code := try(fmt.Sprintf("[2001:db8:1:2::%x]:5000", i+1), i); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	if code := try("[2001:db8:1:2:aaaa::1]:5000", 99); code != http.StatusTooManyRequests {
		t.Fatalf("21st attempt from the same /64: %d", code)
	}
	if code := try("[2001:db8:1:3::1]:5000", 100); code != http.StatusUnauthorized {
		t.Fatalf("another /64: %d", code)
	}
}

// TestLangBack: the language switch returns only to a page of this site.
func TestLangBack(t *testing.T) {
	e := webtest.New(t)
	c := e.Client()
	c.Get("/login")
	for _, tc := range []struct{ back, want string }{
		{"/tariffs?x=1", "/tariffs?x=1"},
		{"/\t/evil.com", "/"},
		{"/\n/evil.com", "/"},
		{"/\\evil.com", "/"},
		{"//evil.com", "/"},
		{"/%2F%2Fevil.com", "/evil.com"},
		{"https://evil.com/", "/"},
	} {
		r := c.Post("/lang", url.Values{"lang": {"en"}, "back": {tc.back}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != tc.want {
			t.Errorf("back=%q: %d to %q, want %q", tc.back, r.Status, r.Header.Get("Location"), tc.want)
		}
	}
}

// TestFormErrorsBesideFields: every portal form that refuses an input says
// so beside that input, as an error a screen reader announces (role=alert,
// the input aria-invalid and described by the message), never as the green
// notice of a success.
func TestFormErrorsBesideFields(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	req, err := e.Support.File(ctx, e.IDs["alice"], "fault", "Нет связи", "Не работает")
	if err != nil {
		t.Fatal(err)
	}
	pay := payment.NewService(e.DB, e.Clock, e.Biller, nil, payment.Options{BonusPercentBP: 1000})
	if _, err := pay.CashPayment(ctx, payment.CashIn{AccountID: e.IDs["alice"], Amount: money.Rub(1000), Operator: "kassa", Receipt: "r1"}); err != nil {
		t.Fatal(err)
	}
	c := e.Login("alice")
	key := regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`).FindStringSubmatch(c.Get("/bonus").Body)[1]
	for _, tc := range []struct {
		name, path string
		form       url.Values
		field, msg string
	}{
		{"e-mail", "/profile", url.Values{"email": {"not an address"}}, "email", "Адрес почты не распознан"},
		{"phone", "/profile", url.Values{"phone": {"звоните"}}, "phone", "Телефон не распознан"},
		{"current password", "/profile/password", url.Values{"current": {"nope"}, "new": {"another-pass"}, "confirm": {"another-pass"}}, "current", "Текущий пароль указан неверно"},
		{"weak password", "/profile/password", url.Values{"current": {webtest.Password}, "new": {"short"}, "confirm": {"short"}}, "new", "от 8 до 64"},
		{"passwords differ", "/profile/password", url.Values{"current": {webtest.Password}, "new": {"another-pass"}, "confirm": {"other"}}, "confirm", "не совпадают"},
		{"request kind", "/requests", url.Values{"kind": {"gossip"}, "subject": {"a"}, "body": {"b"}}, "kind", "Выберите тему"},
		{"request subject", "/requests", url.Values{"kind": {"fault"}, "subject": {" "}, "body": {"b"}}, "subject", "Напишите тему заявки"},
		{"request text", "/requests", url.Values{"kind": {"fault"}, "subject": {"a"}, "body": {""}}, "body", "Опишите, что случилось"},
		{"reply", fmt.Sprintf("/requests/%d", req.ID), url.Values{"body": {"  "}}, "body", "Напишите ответ"},
		{"chat", "/chat", url.Values{"body": {""}}, "body", "Напишите сообщение"},
		{"card amount", "/payments/card", url.Values{"amount": {"abc"}}, "amount", "Укажите сумму"},
		{"bonus points", "/bonus", url.Values{"points": {"много"}, "key": {key}}, "points", "Укажите целое число баллов"},
		{"statement date", "/statement?from=abc&to=2026-03-01", nil, "from", "Дата «с» не распознана"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r webtest.Resp
			if tc.form == nil {
				r = c.Get(tc.path)
			} else {
				r = c.Post(tc.path, tc.form)
			}
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%d, want 422\n%s", r.Status, webtest.Snippet(r.Body))
			}
			input := regexp.MustCompile(`<(input|select|textarea)[^>]*name="` + tc.field + `"[^>]*aria-invalid="true" aria-describedby="([a-z-]+)"`).FindStringSubmatch(r.Body)
			if input == nil {
				t.Fatalf("input %q is not marked invalid\n%s", tc.field, webtest.Snippet(r.Body))
			}
			msg := regexp.MustCompile(`<span class="field-error" id="` + input[2] + `" role="alert">([^<]*)</span>`).FindStringSubmatch(r.Body)
			if msg == nil || !strings.Contains(msg[1], tc.msg) {
				t.Errorf("the message beside %q is %q, want %q", tc.field, msg, tc.msg)
			}
			if strings.Contains(r.Body, `class="notice ok"`) {
				t.Error("a refusal is shown as a success")
			}
		})
	}
}

// TestHowToPay: the page lists the provider's banks and terminals from
// [[payment.howto]] with the contract number to type and a copy button
// (a static script: the CSP forbids inline ones); home and payments link it.
func TestHowToPay(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	acct, err := e.Dir.ByLogin(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	webtest.Must(t, c.Get("/payments/howto"), http.StatusOK, "Сбербанк Онлайн", "ВТБ Онлайн", "Терминалы оплаты",
		`data-testid="contract-no">`+acct.ContractNo+`<`, `data-copy="contract-no"`, `<script src="/static/copy.js" defer></script>`)
	webtest.Must(t, c.Get("/"), http.StatusOK, `href="/payments/howto"`)
	webtest.Must(t, c.Get("/payments"), http.StatusOK, `href="/payments/howto"`)
	c.Post("/lang", url.Values{"lang": {"en"}, "back": {"/"}})
	webtest.Must(t, c.Get("/payments/howto"), http.StatusOK, "Sberbank Online", "no fee")
	if r := c.Get("/static/copy.js"); r.Status != http.StatusOK || !strings.Contains(r.Body, "clipboard") {
		t.Errorf("copy.js: %d", r.Status)
	}
}

// TestTariffChangeInDebt: an account in debt changes tariff on the next
// 1st, with no refund of the unused days into the debt; the quote says so
// and names the debt, and confirming moves no money.
func TestTariffChangeInDebt(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	// A new contract's first month is charged at once: with nothing paid,
	// the balance is negative.
	a, err := e.Dir.Create(ctx, subscriber.NewAccount{Login: "dan", Password: webtest.Password, PasswordHash: webtest.FastHash, Tariff: "home100", City: "tver"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.Biller.QuoteTariffChange(ctx, a.ID, "home300")
	if err != nil {
		t.Fatal(err)
	}
	if q.Immediate || q.Refund != 0 || q.Debt <= 0 {
		t.Fatalf("quote in debt: %+v, want the next 1st, no refund, the debt named", q)
	}
	before := balanceOf(t, e, a.ID)
	c := e.Login("dan")
	webtest.Must(t, c.Get("/tariffs/home300"), http.StatusOK, "С 01.04.2026", `data-testid="tariff-debt"`, "На счёте задолженность "+q.Debt.Format("ru"),
		"неиспользованные дни не идут в счёт долга")
	webtest.Must(t, c.Post("/tariffs/home300", nil), http.StatusSeeOther)
	if after := balanceOf(t, e, a.ID); after != before {
		t.Errorf("the change moved the balance from %s to %s", before, after)
	}
	webtest.Must(t, c.Get("/"), http.StatusOK, "Смена тарифа запланирована")
}

// TestProfileNotifications: the profile's notifications table shows every
// topic with the channels offered (e-mail here), the subscriber unticks one
// and it stays unticked, in their language.
func TestProfileNotifications(t *testing.T) {
	e := webtest.New(t)
	c := e.Login("alice")
	webtest.Must(t, c.Get("/profile"), http.StatusOK, "Уведомления", "Обещанный платёж заканчивается завтра", `name="n.payment_received.email"`)
	form := url.Values{}
	for _, topic := range []string{"low_balance", "limited", "promise_ending", "suspension_ending", "request_answered"} {
		form.Set("n."+topic+".email", "on") // payment_received left unticked
	}
	webtest.Must(t, c.Post("/profile/notifications", form), http.StatusSeeOther)
	r := c.Get("/profile")
	webtest.Must(t, r, http.StatusOK, "Настройки уведомлений сохранены.")
	body := r.Body
	if !strings.Contains(body, `name="n.payment_received.email" aria-labelledby="topic-payment_received channel-email">`) ||
		!strings.Contains(body, `name="n.limited.email" aria-labelledby="topic-limited channel-email" checked>`) {
		t.Errorf("the choices did not stay:\n%s", body)
	}
}
