package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
)

// The cash desk as a cashier sees it: a receipt sent twice says it was
// already recorded (and shows the first), never "accepted"; above the
// cashier's limit a manager's login and password are asked for.
func TestCashDesk(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login(operator.RoleCashier)
	take := func(form url.Values) string {
		t.Helper()
		if code, loc := c.post("/admin/subscribers/1/cash", form); code != http.StatusSeeOther || loc != "/admin/subscribers/1" {
			t.Fatalf("cash %v: %d %s", form, code, loc)
		}
		_, body := c.get("/admin/subscribers/1")
		return body
	}
	balance := func() money.Amount {
		s, err := e.office.Biller.Summary(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		return s.Balance
	}
	start := balance()
	steps := []struct {
		name      string
		form      url.Values
		want, not string
		credited  money.Amount
	}{
		{"first", url.Values{"amount": {"700"}, "receipt": {"R-1"}}, "Платёж принят", "уже проведён", money.Rub(700)},
		{"the same receipt again", url.Values{"amount": {"700"}, "receipt": {"R-1"}}, "Чек № R-1 уже проведён", "Платёж принят", 0},
		{"above the limit alone", url.Values{"amount": {"99999999999999,99"}, "receipt": {"R-2"}}, "нужно подтверждение менеджера", "Платёж принят", 0},
		{"a wrong manager password", url.Values{"amount": {"150000"}, "receipt": {"R-2"}, "manager": {"manager"}, "manager_password": {"wrong-password"}},
			"Подтверждение менеджера не принято", "Платёж принят", 0},
		{"confirmed by the manager", url.Values{"amount": {"150000"}, "receipt": {"R-2"}, "manager": {"manager"}, "manager_password": {password}},
			"Платёж принят", "уже проведён", money.Rub(150000)},
		{"the confirmed receipt again", url.Values{"amount": {"150000"}, "receipt": {"R-2"}}, "Чек № R-2 уже проведён", "подтверждение менеджера", 0},
	}
	want := start
	for _, st := range steps {
		body := take(st.form)
		if !strings.Contains(body, st.want) || strings.Contains(body, st.not) {
			i := strings.Index(body, `id="cash-form"`)
			t.Errorf("%s: want %q and not %q in the card:\n%s", st.name, st.want, st.not, body[max(0, i-800):i])
		}
		want += st.credited
		if b := balance(); b != want {
			t.Errorf("%s: balance %s, want %s", st.name, b, want)
		}
	}
	if _, body := c.get("/admin/subscribers/1"); strings.Contains(body, "уже проведён") {
		t.Error("the repeat notice stays after it was shown")
	}
}
