package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/netflow"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// TestTrafficClassRoles: admins and managers (the catalogue permission)
// list, add and edit classes, each change one audit entry; cashiers and
// support get 403 and nothing is recorded.
func TestTrafficClassRoles(t *testing.T) {
	e := newEnv(t, nil)
	for i, role := range operator.Roles {
		allowed := role == operator.RoleAdmin || role == operator.RoleManager
		c := e.login(role)
		code, _ := c.get("/admin/traffic-classes")
		if allowed && code != http.StatusOK || !allowed && code != http.StatusForbidden {
			t.Errorf("%s list: %d", role, code)
		}
		_, home := c.get("/admin/")
		if strings.Contains(home, `href="/admin/traffic-classes"`) != allowed {
			t.Errorf("%s: menu link shown %v", role, !allowed)
		}
		before := e.auditCount(string(role))
		code, _ = c.post("/admin/traffic-classes", url.Values{"code": {"ix" + string(rune('a'+i))}, "name": {"Город"}, "prefixes": {"10.0.0.0/8"}, "position": {"1"}})
		code2, _ := c.post("/admin/traffic-classes/internet", url.Values{"name": {"Интернет"}, "name_en": {"Internet"}, "position": {"100"}})
		want, audits := http.StatusForbidden, 0
		if allowed {
			want, audits = http.StatusSeeOther, 2
		}
		if code != want || code2 != want {
			t.Errorf("%s add/edit: %d %d, want %d", role, code, code2, want)
		}
		if n := e.auditCount(string(role)) - before; n != audits {
			t.Errorf("%s: %d audit entries, want %d", role, n, audits)
		}
	}
	// The page in both languages.
	e.p.Page("POST /test-lang", func(w http.ResponseWriter, r *http.Request) {
		e.p.Sessions.Put(r.Context(), platform.SessionLang, r.PostFormValue("lang"))
	})
	c := e.login(operator.RoleAdmin)
	for _, lang := range []string{"ru", "en"} {
		c.post("/test-lang", url.Values{"lang": {lang}})
		if code, body := c.get("/admin/traffic-classes"); code != http.StatusOK || !strings.Contains(body, `<html lang="`+lang+`">`) || !strings.Contains(body, "10.0.0.0/8") {
			t.Errorf("%s: %d", lang, code)
		}
	}
	if missing := e.p.I18n.Missing(); len(missing) > 0 {
		t.Errorf("untranslated: %v", missing)
	}
}

// TestTrafficClasses: a manager adds a class with prefixes, edits them,
// and every refusal says what to fix; each change is in the audit log with
// what it was before.
func TestTrafficClasses(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c := e.login(operator.RoleManager)
	post := func(path string, kv ...string) (int, string) {
		t.Helper()
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return c.post(path, v)
	}
	if code, loc := post("/admin/traffic-classes", "code", "city_ix", "name", "Городская сеть", "name_en", "City exchange", "prefixes", "10.0.0.0/8\n192.0.2.7, 2001:db8::/32", "position", "2"); code != http.StatusSeeOther || loc != "/admin/traffic-classes" {
		t.Fatalf("add: %d %s", code, loc)
	}
	_, body := c.get("/admin/traffic-classes")
	for _, want := range []string{"city_ix", "Городская сеть", "<code>10.0.0.0/8</code>", "<code>192.0.2.7/32</code>", "<code>2001:db8::/32</code>", "Сохранено"} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	cs, err := netflow.Classes(ctx, e.office.DB)
	if err != nil {
		t.Fatal(err)
	}
	var got *netflow.Class
	for i := range cs {
		if cs[i].Code == "city_ix" {
			got = &cs[i]
		}
	}
	if got == nil || len(got.Prefixes) != 3 || got.NameEn != "City exchange" || got.Position != 2 {
		t.Fatalf("saved: %+v", got)
	}
	// Edit: the prefixes are replaced; the audit keeps before and after.
	if code, _ := post("/admin/traffic-classes/city_ix", "name", "Городская сеть", "name_en", "City exchange", "prefixes", "172.16.0.0/12", "position", "2"); code != http.StatusSeeOther {
		t.Fatalf("edit: %d", code)
	}
	if code, body := c.get("/admin/traffic-classes"); code != 200 || !strings.Contains(body, "<code>172.16.0.0/12</code>") || strings.Contains(body, "<code>10.0.0.0/8</code>") {
		t.Errorf("after edit: %d", code)
	}
	entries, err := e.office.Operators.Search(ctx, operator.AuditQuery{Object: "traffic_class:city_ix", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != "traffic_class.update" || !strings.Contains(entries[0].BeforeJSON(), "10.0.0.0/8") ||
		!strings.Contains(entries[0].AfterJSON(), "172.16.0.0/12") || entries[0].OperatorLogin != "manager" {
		t.Errorf("audit: %+v", entries)
	}
	// Refusals, each with its message and nothing saved.
	for _, tc := range []struct {
		name, path string
		kv         []string
		msg        string
	}{
		{"bad prefix", "/admin/traffic-classes/city_ix", []string{"name", "X", "prefixes", "10.0.0.0/33"}, "Префикс не распознан"},
		{"no name", "/admin/traffic-classes", []string{"code", "dc", "name", ""}, "Проверьте класс"},
		{"bad code", "/admin/traffic-classes", []string{"code", "Город IX", "name", "X"}, "Проверьте класс"},
		{"exists", "/admin/traffic-classes", []string{"code", "city_ix", "name", "X"}, "уже есть"},
		{"internet with prefixes", "/admin/traffic-classes/internet", []string{"name", "Интернет", "prefixes", "0.0.0.0/0"}, "Проверьте класс"},
	} {
		code, loc := post(tc.path, tc.kv...)
		if code != http.StatusSeeOther || loc != "/admin/traffic-classes" {
			t.Errorf("%s: %d %s", tc.name, code, loc)
			continue
		}
		if _, body := c.get(loc); !strings.Contains(body, tc.msg) {
			t.Errorf("%s: the page does not say %q", tc.name, tc.msg)
		}
	}
	if code, _ := post("/admin/traffic-classes/nope", "name", "X"); code != http.StatusNotFound {
		t.Errorf("edit of an unknown class: %d", code)
	}
	if n, _ := e.office.Operators.Search(ctx, operator.AuditQuery{Object: "traffic_class:city_ix", Limit: 10}); len(n) != 2 {
		t.Errorf("refusals were audited: %d entries", len(n))
	}
}
