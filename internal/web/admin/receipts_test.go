package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
)

// The Receipts page lists a receipt the fiscal data operator failed; a
// cashier resends it (audited), which queues it again under a new key; a
// support operator may look but not resend.
func TestReceiptsResend(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.office.Payments.CashPayment(ctx, payment.CashIn{AccountID: 1, Amount: money.Rub(700), Operator: "cashier", Receipt: "K-1"}); err != nil {
		t.Fatal(err)
	}
	rs, err := e.office.Fiscal.List(ctx, fiscal.Filter{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("receipts: %v %v", rs, err)
	}
	r := rs[0]
	if _, err := e.office.DB.Writer().Exec(`UPDATE fiscal_receipts SET status = 'failed', last_error = 'ATOL error 1006: ККТ' WHERE id = ?`, r.ID); err != nil {
		t.Fatal(err)
	}
	support := e.login(operator.RoleSupport)
	if _, body := support.get("/admin/receipts"); !strings.Contains(body, "ATOL error 1006") || strings.Contains(body, "/resend") {
		t.Errorf("support's receipts page: the failed receipt without a resend button expected:\n%s", body)
	}
	if code, _ := support.post("/admin/receipts/"+strconv.FormatInt(r.ID, 10)+"/resend", nil); code != http.StatusForbidden {
		t.Errorf("support resends: %d, want 403", code)
	}
	cashier := e.login(operator.RoleCashier)
	before := e.auditCount("cashier")
	if code, _ := cashier.post("/admin/receipts/"+strconv.FormatInt(r.ID, 10)+"/resend", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("resend: %d", code)
	}
	got, _ := e.office.Fiscal.Get(ctx, r.ID)
	if got.Status != fiscal.StatusQueued || got.ExternalID == r.ExternalID {
		t.Errorf("after resend: %s under %s (was %s)", got.Status, got.ExternalID, r.ExternalID)
	}
	if e.auditCount("cashier") != before+1 {
		t.Error("the resend was not audited")
	}
}
