package public_test

import (
	"context"
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
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
	"github.com/kabinet-billing/kabinet/internal/web/public"

	assets "github.com/kabinet-billing/kabinet/web"
)

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestPublicSite(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	files := assets.FS
	cfg := config.Default()
	cfg.Site.PrivacyURL = "https://set-region.example/privacy"
	cfg.Site.Coverage = map[string][]string{"tver": {"Заволжский район"}}
	cfg.Provider.Offices = []config.Office{{Address: "Тверь, ул. Советская, 10", Hours: "пн–пт", City: "tver"}, {Address: "Торжок, ул. Ленина, 5", City: "torzhok"}}
	p, err := platform.New(platform.Options{DB: db, Clock: clk, Config: cfg, Log: slog.New(slog.DiscardHandler), Files: files})
	if err != nil {
		t.Fatal(err)
	}
	sup := support.New(db, clk)
	if _, err := public.Register(p, public.Deps{DB: db, Support: sup, Files: files, RedirectFrom: []string{"/cabinet/"}, ApplyEvery: 10 * time.Minute, ApplyBurst: 2}); err != nil {
		t.Fatal(err)
	}
	tver, _ := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь", NameEn: "Tver"})
	billing.AddCity(ctx, db, billing.City{Code: "torzhok", Name: "Торжок"})
	for _, tr := range []billing.Tariff{
		{Code: "home", Name: "Дом 100", NameEn: "Home 100", Fee: money.Rub(500), DownKbps: 100000, UpKbps: 100000, Public: true},
		{Code: "tver-only", Name: "Тверь 300", Fee: money.Rub(700), DownKbps: 300000, UpKbps: 300000, Public: true, CityID: tver.ID},
		{Code: "old", Name: "Архивный", Fee: money.Rub(100), DownKbps: 1000, UpKbps: 1000, Public: true, Archived: true},
		{Code: "secret", Name: "Служебный", Fee: money.Rub(0), DownKbps: 1000, UpKbps: 1000},
	} {
		if _, err := billing.AddTariff(ctx, db, tr, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := content.Add(ctx, db, content.Item{Kind: content.KindNews, Title: "Плановые работы", Body: "Ночью 20 марта", PublishedAt: clk.Now().Add(-time.Hour)}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if loc := resp.Header.Get("Location"); loc != "" {
			return resp.StatusCode, loc
		}
		return resp.StatusCode, string(b)
	}
	var csrf string
	post := func(path string, v url.Values) (int, string) {
		v.Set("csrf", csrf)
		resp, err := c.PostForm(srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if loc := resp.Header.Get("Location"); loc != "" {
			return resp.StatusCode, loc
		}
		return resp.StatusCode, string(b)
	}

	code, body := get("/site/?city=tver")
	if code != http.StatusOK || !strings.Contains(body, "Дом 100") || !strings.Contains(body, "Тверь 300") || strings.Contains(body, "Архивный") || strings.Contains(body, "Служебный") {
		t.Fatalf("Tver catalogue: %d\n%s", code, body)
	}
	if !strings.Contains(body, `href="/site/apply?tariff=home&amp;city=tver"`) || !strings.Contains(body, `href="/login"`) {
		t.Errorf("no Connect button or portal link")
	}
	// The city's page is what a provider's site has: where it connects, its
	// offices there, its contacts and news.
	for _, want := range []string{"Заволжский район", "Тверь, ул. Советская, 10", "(4822) 55-00-00", `id="coverage"`, `id="offices"`, "Плановые работы"} {
		if !strings.Contains(body, want) {
			t.Errorf("Tver's page lacks %q", want)
		}
	}
	if strings.Contains(body, "Торжок, ул. Ленина") {
		t.Error("Tver's page shows Torzhok's office")
	}
	if _, body := get("/site/?city=torzhok"); strings.Contains(body, "Тверь 300") {
		t.Errorf("Torzhok shows a Tver-only tariff")
	}
	code, body = get("/site/apply?tariff=home&city=tver")
	csrf = csrfRe.FindStringSubmatch(body)[1]
	if code != http.StatusOK || !strings.Contains(body, `name="website"`) {
		t.Fatalf("apply form: %d", code)
	}
	if !strings.Contains(body, `name="consent"`) || !strings.Contains(body, `href="https://set-region.example/privacy"`) {
		t.Error("the form does not ask for consent with a link to the policy")
	}
	steps := []struct {
		name string
		form url.Values
		code int
		apps int
	}{
		{"bot fills the honeypot", url.Values{"name": {"Bot"}, "phone": {"+7 900 000 00 00"}, "website": {"http://spam"}}, http.StatusSeeOther, 0},
		{"no phone", url.Values{"name": {"Анна"}, "consent": {"yes"}}, http.StatusUnprocessableEntity, 0},
		{"no consent", url.Values{"name": {"Анна"}, "phone": {"+7 900 111-22-33"}}, http.StatusUnprocessableEntity, 0},
		{"person", url.Values{"name": {"Анна"}, "phone": {"+7 900 111-22-33"}, "city": {"tver"}, "tariff": {"home"}, "address": {"Советская, 1"}, "consent": {"yes"}}, http.StatusSeeOther, 1},
		{"second", url.Values{"name": {"Пётр"}, "phone": {"+7 900 111-22-44"}, "consent": {"yes"}}, http.StatusSeeOther, 2},
		{"third from the same address", url.Values{"name": {"Иван"}, "phone": {"+7 900 111-22-55"}, "consent": {"yes"}}, http.StatusTooManyRequests, 2},
	}
	for _, s := range steps {
		code, body := post("/site/apply", s.form)
		if s.name == "no consent" && (!strings.Contains(body, `id="consent-error"`) || !strings.Contains(body, `name="consent" value="yes" required aria-invalid="true"`)) {
			t.Errorf("the refusal without consent is not beside the checkbox:\n%s", body)
		}
		apps, _ := sup.Applications(ctx, "", 10)
		if code != s.code || len(apps) != s.apps {
			t.Errorf("%s: %d and %d applications, want %d and %d", s.name, code, len(apps), s.code, s.apps)
		}
	}
	apps, _ := sup.Applications(ctx, "new", 10)
	if len(apps) != 2 || apps[1].Name != "Анна" || apps[1].TariffCode != "home" || apps[1].CityID != tver.ID {
		t.Errorf("applications: %+v", apps)
	}
	clk.Advance(11 * time.Minute)
	if code, _ := post("/site/apply", url.Values{"name": {"Иван"}, "phone": {"+7 900 111-22-55"}, "consent": {"yes"}}); code != http.StatusSeeOther {
		t.Errorf("after the limit refills: %d", code)
	}
	if code, loc := get("/cabinet/"); code != http.StatusMovedPermanently || loc != "/login" {
		t.Errorf("old portal address: %d %s", code, loc)
	}
	for _, lang := range []string{"ru", "en"} {
		post("/site/lang", url.Values{"lang": {lang}, "back": {"/site/"}})
		for _, path := range []string{"/site/", "/site/?city=tver", "/site/apply", "/site/thanks", "/site/contacts"} {
			if code, body := get(path); code != http.StatusOK || !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: %d", lang, path, code)
			}
		}
	}
	// The language switch returns only to a page of the public site.
	for _, tc := range []struct{ back, want string }{
		{"/site/tariffs?city=tver", "/site/tariffs?city=tver"},
		{"/site/../\\evil.com", "/site/"},
		{"/site/../evil.com", "/site/"},
		{"/site/\t/evil.com", "/site/"},
		{"/\t/evil.com", "/site/"},
		{"//evil.com/site/", "/site/"},
	} {
		if code, loc := post("/site/lang", url.Values{"lang": {"ru"}, "back": {tc.back}}); code != http.StatusSeeOther || loc != tc.want {
			t.Errorf("back=%q: %d to %q, want %q", tc.back, code, loc, tc.want)
		}
	}
	if m := p.I18n.Missing(); len(m) > 0 {
		t.Errorf("untranslated: %v", m)
	}
}
