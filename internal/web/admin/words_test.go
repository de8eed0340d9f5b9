package admin_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/operator"
)

// TestHeadingsNameWhatTheyHead: tariffs, cities and traffic classes have a
// name, not a "full name / title"; people have a full name.
func TestHeadingsNameWhatTheyHead(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login(operator.RoleAdmin)
	for _, tc := range []struct {
		page, want, not string
	}{
		{"/admin/catalogue", ">Название тарифа<", "ФИО"},
		{"/admin/catalogue", ">Название города<", "ФИО"},
		{"/admin/traffic-classes", "<th>Название</th>", "ФИО"},
		{"/admin/operators", `<a class="sort" href="/admin/operators?dir=asc&amp;sort=name">ФИО<`, "ФИО / название"},
		{"/admin/subscribers/new", "ФИО *<input", "ФИО / название"},
	} {
		_, body := c.get(tc.page)
		if !strings.Contains(body, tc.want) || strings.Contains(body, tc.not) {
			t.Errorf("%s: want %q and no %q", tc.page, tc.want, tc.not)
		}
	}
}

// TestAuditInWords: the journal names the action, the object and each
// changed field in Russian (English when switched), keeping the codes on
// hover, instead of raw JSON.
func TestAuditInWords(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login(operator.RoleAdmin)
	c.post("/admin/subscribers/1/correct", url.Values{"amount": {"10"}, "reason": {"ошибка"}, "key": {"k1"}})
	for _, page := range []string{"/admin/audit", "/admin/subscribers/1"} {
		_, body := c.get(page)
		for _, want := range []string{`<span title="money.correct">Корректировка баланса</span>`, `<a href="/admin/subscribers/1" title="account:1">абонент №1</a>`,
			"баланс: -500.00 → -490.00", "сумма: 10.00"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: no %q", page, want)
			}
		}
		if strings.Contains(body, `{&#34;balance`) || strings.Contains(body, `{"balance`) {
			t.Errorf("%s: raw JSON in the journal", page)
		}
	}
	_, body := c.get("/admin/audit")
	if !strings.Contains(body, "Вход оператора") || !strings.Contains(body, "роль: кассир") {
		t.Errorf("the journal does not word the operators' entries")
	}
}
