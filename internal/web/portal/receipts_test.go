package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/web/webtest"
)

// The payment history shows each payment's receipt: being issued while the
// fiscal data operator registers it, then its ФН, ФД, ФП and the check link.
func TestPaymentReceiptShown(t *testing.T) {
	e := webtest.New(t)
	ctx := context.Background()
	p, _, err := e.Pay.Record(ctx, payment.ManualIn{Channel: "card:sandbox", ExternalID: "c-1", AccountID: e.IDs["alice"], Amount: money.Rub(700), Operator: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Login("alice")
	if body := c.Get("/payments").Body; !strings.Contains(body, "Чек прихода") || !strings.Contains(body, "формируется") {
		t.Fatalf("payments page before registration lacks the queued receipt:\n%s", body)
	}
	if _, err := e.DB.Writer().Exec(`UPDATE fiscal_receipts SET status = 'done', fn_number = '9999078900001234', fiscal_document_number = 42,
		fiscal_document_attribute = '3449555941', check_url = 'https://check.ofd.example/rec/42' WHERE ledger_txn_id = ?`, p.LedgerTxnID); err != nil {
		t.Fatal(err)
	}
	body := c.Get("/payments").Body
	for _, want := range []string{"ФН 9999078900001234, ФД 42, ФП 3449555941", `href="https://check.ofd.example/rec/42"`, "Проверить чек"} {
		if !strings.Contains(body, want) {
			t.Errorf("payments page lacks %q", want)
		}
	}
	if body := e.Login("bob").Get("/payments").Body; strings.Contains(body, "3449555941") {
		t.Error("bob sees alice's receipt")
	}
}
