package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
)

// TestDocumentsPage: the back office lists a company's invoice, downloads
// its PDF, sends it by e-mail (marked sent, the letter queued with the PDF,
// audited) and issues a reconciliation act.
func TestDocumentsPage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	res, err := e.office.Documents.Run(ctx, "2027-04")
	if err != nil || res.Invoices != 1 {
		t.Fatalf("run: %+v %v", res, err)
	}
	id := res.Issued[0].ID
	c := e.login(operator.RoleAdmin)
	code, body := c.get("/admin/documents")
	if code != http.StatusOK || !strings.Contains(body, "2027-000001") || !strings.Contains(body, "ООО «Ромашка»") || !strings.Contains(body, "выставлен") {
		t.Fatalf("list: %d\n%s", code, body)
	}
	if _, body := c.get("/admin/documents?status=paid"); strings.Contains(body, "2027-000001") {
		t.Error("the unpaid invoice is listed as paid")
	}
	code, body = c.get("/admin/documents/1/pdf")
	if code != http.StatusOK || !strings.HasPrefix(body, "%PDF-") {
		t.Errorf("pdf: %d", code)
	}
	if code, _ := c.get("/admin/documents/999/pdf"); code != http.StatusNotFound {
		t.Errorf("a missing document: %d", code)
	}
	if code, loc := c.post("/admin/documents/1/send", nil); code != http.StatusSeeOther || loc != "/admin/documents" {
		t.Fatalf("send: %d %s", code, loc)
	}
	d, _ := e.office.Documents.Get(ctx, id)
	if d.Status != "sent" {
		t.Errorf("status after send: %s", d.Status)
	}
	letters, _ := e.office.Mail.List(ctx, 0, "", 10)
	if len(letters) == 0 || letters[0].Kind != notify.KindDocuments || letters[0].To != "buh@romashka.example" || !strings.Contains(letters[0].Body, "2027-000001") {
		t.Errorf("letters: %+v", letters)
	}
	if got, _ := e.office.Operators.Search(ctx, operator.AuditQuery{Action: "document.send", Object: "document:1"}); len(got) != 1 {
		t.Errorf("the send is audited %d times", len(got))
	}
	if code, loc := c.post("/admin/documents/reconciliation", url.Values{"org": {"1"}, "from": {"2027-01-01"}, "to": {"2027-03-31"}}); code != http.StatusSeeOther || !strings.Contains(loc, "kind=reconciliation") {
		t.Fatalf("reconciliation: %d %s", code, loc)
	}
	if _, body := c.get("/admin/documents?kind=reconciliation"); !strings.Contains(body, "Акт сверки") || !strings.Contains(body, "2027-000001") {
		t.Errorf("the reconciliation act is not listed")
	}
	// A bad period is the form's error, said as every period's mistakes are.
	c.post("/admin/documents/reconciliation", url.Values{"org": {"1"}, "from": {"2027-03-31"}, "to": {"2027-01-01"}})
	if _, body := c.get("/admin/documents"); !strings.Contains(body, "Дата «по» должна быть не раньше даты «с»") {
		t.Errorf("no error for a reversed period")
	}
	if code, _ := c.post("/admin/documents/1/paid", nil); code != http.StatusSeeOther {
		t.Errorf("mark paid: %d", code)
	}
	if d, _ := e.office.Documents.Get(ctx, id); d.Status != "paid" {
		t.Errorf("status after marking paid: %s", d.Status)
	}
	// A cashier sees documents but may not send them.
	cashier := e.login(operator.RoleCashier)
	if code, _ := cashier.get("/admin/documents"); code != http.StatusOK {
		t.Errorf("cashier list: %d", code)
	}
	if code, _ := cashier.post("/admin/documents/1/send", nil); code != http.StatusForbidden {
		t.Errorf("cashier send: %d", code)
	}
}
