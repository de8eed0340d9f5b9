package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/autopay"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// TestAutopayPage: the back office lists who has autopay on with the card
// and rule; an administrator turns one off with a note, audited; support
// may look but not turn it off; a note is required.
func TestAutopayPage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	sb, err := payment.NewSandbox(payment.ProcessorConfig{Kind: "sandbox", Secret: "s"}, e.clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, b := e.office.DB, e.office.Biller
	e.office.Payments = payment.NewService(db, e.clk, b, []payment.Processor{sb}, payment.Options{})
	e.office.Autopay = autopay.New(db, e.clk, e.office.Payments, b, nil, config.Default().Autopay, nil)
	var method int64
	err = db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO saved_methods (account_id, processor, token, masked, expiry, title, created_at) VALUES (1, 'sandbox', 'tok-1', '•••• 4242', '12/28', 'Visa', ?) RETURNING id`,
			e.clk.Now().UTC()).Scan(&method)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.office.Autopay.Enable(ctx, 1, method, autopay.RuleFixed, 70000); err != nil {
		t.Fatal(err)
	}
	support := e.login(operator.RoleSupport)
	code, body := support.get("/admin/autopay?state=on")
	if code != 200 || !strings.Contains(body, "Visa •••• 4242") || !strings.Contains(body, "700,00") || strings.Contains(body, `action="/admin/autopay/1/disable"`) {
		t.Fatalf("support's list: %d", code)
	}
	if code, _ := support.post("/admin/autopay/1/disable", url.Values{"note": {"жалоба"}}); code != http.StatusForbidden {
		t.Errorf("support turns autopay off: %d", code)
	}
	admin := e.login(operator.RoleAdmin)
	if _, body := admin.get("/admin/autopay"); !strings.Contains(body, `action="/admin/autopay/1/disable"`) {
		t.Fatal("no turn-off form for an administrator")
	}
	before := e.auditCount(string(operator.RoleAdmin))
	admin.post("/admin/autopay/1/disable", url.Values{})
	if st, _ := e.office.Autopay.Get(ctx, 1); !st.Enabled {
		t.Fatal("turned off without a note")
	}
	if code, _ := admin.post("/admin/autopay/1/disable", url.Values{"note": {"оспорил списание"}}); code != http.StatusSeeOther {
		t.Fatalf("turn off: %d", code)
	}
	if st, _ := e.office.Autopay.Get(ctx, 1); st.Enabled {
		t.Error("autopay still on")
	}
	if n := e.auditCount(string(operator.RoleAdmin)) - before; n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
	if _, body := admin.get("/admin/autopay?state=off"); !strings.Contains(body, "Автоплатёж выключен") {
		t.Error("the list does not show it off")
	}
}
