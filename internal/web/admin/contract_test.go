package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
)

// TestContractForm: the form offers only the chosen city's tariffs (a
// refresh, which htmx sends on a change of city and a button sends without
// JavaScript, signs nothing), and a wrong part comes back beside its field
// with everything typed kept.
func TestContractForm(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := billing.AddCity(ctx, e.office.DB, billing.City{Code: "torzhok", Name: "Торжок", NameEn: "Torzhok"}); err != nil {
		t.Fatal(err)
	}
	torzhok, _ := billing.CityByCode(ctx, e.office.DB, "torzhok")
	if _, err := billing.AddTariff(ctx, e.office.DB, billing.Tariff{Code: "torzhok100", Name: "Торжок 100", Fee: money.Rub(400), DownKbps: 100000, UpKbps: 50000,
		Public: true, CityID: torzhok.ID}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	c := e.login(operator.RoleManager)
	before := e.auditCount("manager")
	tariffs := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`<option value="([a-z0-9]+)"[^>]*>[^<]*—`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	_, body := c.get("/admin/subscribers/new")
	if got := tariffs(body); len(got) != 0 {
		t.Errorf("tariffs offered before a city is chosen: %v", got)
	}
	if !strings.Contains(body, `hx-post="/admin/subscribers"`) || !strings.Contains(body, `<noscript><button class="btn" name="refresh"`) {
		t.Error("the city select neither refreshes the tariffs (htmx) nor has a button without JavaScript")
	}
	form := url.Values{"name": {"Смирнова Ольга Петровна"}, "city": {"torzhok"}, "address": {"ул. Ленина, 5, кв. 1"}, "phone": {"+7 900 555-44-33"},
		"passport_series": {"28 04"}, "passport_number": {"123456"}, "passport_issued_by": {"УМВД России по Тверской области"}, "passport_issued_on": {"2015-05-15"}}
	refresh := url.Values{"refresh": {"1"}}
	for k, v := range form {
		refresh[k] = v
	}
	code, body := c.post("/admin/subscribers", refresh)
	if code != http.StatusOK {
		t.Fatalf("refresh: %d", code)
	}
	if got := tariffs(body); len(got) != 2 || !slices.Contains(got, "home") || !slices.Contains(got, "torzhok100") {
		t.Errorf("Torzhok's form offers %v, want home (every city) and torzhok100", got)
	}
	if !strings.Contains(body, `value="Смирнова Ольга Петровна"`) || !strings.Contains(body, `value="УМВД России по Тверской области"`) {
		t.Error("the refresh lost what was typed")
	}
	if !strings.Contains(body, "100 Мбит/с") {
		t.Error("the tariffs are not offered with their speed")
	}
	if e.auditCount("manager") != before {
		t.Error("a refresh signed something")
	}
	for _, tc := range []struct {
		name, key, value, field, msg string
	}{
		{"name x", "name", "x", "name", "Укажите фамилию, имя и отчество"},
		{"no city", "city", "", "city", "Выберите город"},
		{"no address", "address", "", "address", "Укажите адрес подключения"},
		{"no phone nor e-mail", "phone", "", "phone", "Укажите телефон или эл. почту"},
		{"another city's tariff", "city", "tver", "tariff", "не предлагается"},
		{"passport number", "passport_number", "12", "passport_number", "6 цифр"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{"tariff": {"torzhok100"}}
			for k, v := range form {
				f[k] = v
			}
			f.Set(tc.key, tc.value)
			code, body := c.post("/admin/subscribers", f)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("%d, want 422", code)
			}
			input := regexp.MustCompile(`<(input|select)[^>]*name="` + tc.field + `"[^>]*aria-invalid="true"`).FindString(body)
			if input == "" {
				t.Fatalf("%s is not marked invalid", tc.field)
			}
			msg := regexp.MustCompile(`id="` + tc.field + `-error" role="alert">([^<]*)<`).FindStringSubmatch(body)
			if msg == nil || !strings.Contains(msg[1], tc.msg) {
				t.Errorf("message beside %s: %v, want %q", tc.field, msg, tc.msg)
			}
		})
	}
	if e.auditCount("manager") != before {
		t.Error("a refused contract was signed")
	}
	f := url.Values{"tariff": {"torzhok100"}}
	for k, v := range form {
		f[k] = v
	}
	if code, loc := c.post("/admin/subscribers", f); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/issued/") {
		t.Fatalf("sign: %d %s", code, loc)
	}
}
