package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

// TestSuspensionCard: on the subscriber's card an operator sees why a
// suspension is refused (debt, days out of range), the quote for a valid
// one, confirms it (audited, scheduled) and calls it off (audited); a role
// that may not edit subscribers is refused.
func TestSuspensionCard(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	o := e.office
	o.Suspensions = suspension.New(o.DB, e.clk, o.Biller, suspension.DefaultRules())
	admin := e.login(operator.RoleAdmin)
	if code, body := admin.get("/admin/subscribers/1"); code != http.StatusOK || !strings.Contains(body, `id="suspension-quote-form"`) {
		t.Fatalf("card: %d, no suspension form", code)
	}
	// ivanov owes March's fee.
	if _, body := admin.get("/admin/subscribers/1?sfrom=2027-03-20&sdays=14"); !strings.Contains(body, "На счёте задолженность") {
		t.Errorf("in debt: the card does not say why")
	}
	if err := o.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := o.Biller.Credit(ctx, tx, 1, "cash", "t-1", money.Rub(2000), "", e.clk.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, body := admin.get("/admin/subscribers/1?sfrom=2027-03-20&sdays=3"); !strings.Contains(body, "Число дней вне пределов") {
		t.Errorf("3 days: the card does not say why")
	}
	_, body := admin.get("/admin/subscribers/1?sfrom=2027-03-20&sdays=14")
	if !strings.Contains(body, `id="suspension-quote"`) || !strings.Contains(body, `action="/admin/subscribers/1/suspension"`) || !strings.Contains(body, "03.04.2027") {
		t.Fatalf("no quote and confirm form on the card")
	}
	support := e.login(operator.RoleSupport)
	if code, _ := support.post("/admin/subscribers/1/suspension", url.Values{"from": {"2027-03-20"}, "days": {"14"}}); code != http.StatusForbidden {
		t.Errorf("support suspends: %d", code)
	}
	before := e.auditCount(string(operator.RoleAdmin))
	if code, body := admin.post("/admin/subscribers/1/suspension", url.Values{"from": {"2027-03-20"}, "days": {"14"}, "note": {"звонок"}}); code != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", code, body)
	}
	u, err := o.Suspensions.Current(ctx, 1)
	if err != nil || u == nil || u.State != suspension.StateScheduled || u.Operator != string(operator.RoleAdmin) || u.Channel != suspension.ChannelOffice {
		t.Fatalf("after confirming: %+v %v", u, err)
	}
	if _, body := admin.get("/admin/subscribers/1"); !strings.Contains(body, `data-testid="admin-suspension-state"`) || !strings.Contains(body, "20.03.2027") {
		t.Errorf("the card does not show the scheduled suspension")
	}
	if code, _ := admin.post("/admin/subscribers/1/suspension", url.Values{"from": {"2027-03-25"}, "days": {"7"}}); code != http.StatusSeeOther {
		t.Errorf("second: %d", code)
	}
	if _, body := admin.get("/admin/subscribers/1"); !strings.Contains(body, "Блокировка уже запланирована") {
		t.Errorf("second: the refusal is not shown")
	}
	// The subscriber calls: a week longer. A last day not after the
	// current one is refused with the reason.
	if _, body := admin.get("/admin/subscribers/1"); !strings.Contains(body, `id="suspension-extend-form"`) || !strings.Contains(body, `name="last" value="2027-04-03" min="2027-04-03"`) {
		t.Errorf("the card has no extension form")
	}
	admin.post("/admin/subscribers/1/suspension/extend", url.Values{"last": {"2027-04-01"}})
	if _, body := admin.get("/admin/subscribers/1"); !strings.Contains(body, "Новый последний день должен быть позже нынешнего.") {
		t.Errorf("an earlier last day: the refusal is not shown")
	}
	if code, _ := support.post("/admin/subscribers/1/suspension/extend", url.Values{"last": {"2027-04-09"}}); code != http.StatusForbidden {
		t.Errorf("support extends: %d", code)
	}
	if code, _ := admin.post("/admin/subscribers/1/suspension/extend", url.Values{"last": {"09.04.2027"}, "note": {"ещё неделя"}}); code != http.StatusSeeOther {
		t.Errorf("extend: %d", code)
	}
	if u, _ := o.Suspensions.Current(ctx, 1); u == nil || u.Days != 21 {
		t.Errorf("after extending: %+v", u)
	}
	if _, body := admin.get("/admin/subscribers/1"); !strings.Contains(body, "Блокировка продлена.") || !strings.Contains(body, "10.04.2027") {
		t.Errorf("the card does not show the extension")
	}
	if code, _ := admin.post("/admin/subscribers/1/suspension/resume", url.Values{"note": {"передумал"}}); code != http.StatusSeeOther {
		t.Errorf("resume: %d", code)
	}
	if u, _ := o.Suspensions.Current(ctx, 1); u != nil {
		t.Errorf("still open after resume: %+v", u)
	}
	if n := e.auditCount(string(operator.RoleAdmin)) - before; n != 3 {
		t.Errorf("%d audit entries, want 3 (start, extend, resume)", n)
	}
}
