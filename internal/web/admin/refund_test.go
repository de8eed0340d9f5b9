package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
)

// TestRefundToCard: an administrator sends a card payment back through its
// processor from the subscriber's card, with a reason, audited; the payment
// is reversed on the account once, however often the button is pressed; a
// cashier may not.
func TestRefundToCard(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b := billing.New(e.office.DB, e.clk, billing.DefaultRules())
	withSandbox(t, e, b)
	p, _, err := e.office.Payments.StartCard(ctx, payment.CardStart{AccountID: 1, Amount: money.Rub(300), Processor: "sandbox", ReturnURL: "https://isp.example/payments/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.office.Payments.ApplyCardCallback(ctx, "sandbox", payment.Callback{PaymentID: p.ID, ExternalID: "sb-1", Outcome: payment.OutcomePaid, Amount: money.Rub(300)}); err != nil {
		t.Fatal(err)
	}
	bal := func() money.Amount { s, _ := b.Summary(ctx, 1); return s.Balance }
	paid := bal()

	cashier := e.login(operator.RoleCashier)
	if code, _ := cashier.post("/admin/subscribers/1/refund", url.Values{"payment": {fmt.Sprint(p.ID)}, "reason": {"x"}}); code != http.StatusForbidden {
		t.Errorf("cashier refunds: %d", code)
	}
	admin := e.login(operator.RoleAdmin)
	code, body := admin.get("/admin/subscribers/1")
	if code != 200 || !strings.Contains(body, "Вернуть на карту") || !strings.Contains(body, `action="/admin/subscribers/1/refund"`) {
		t.Fatalf("card: %d, no refund form", code)
	}
	if code, _ := admin.post("/admin/subscribers/1/refund", url.Values{"payment": {fmt.Sprint(p.ID)}}); code != http.StatusSeeOther || bal() != paid {
		t.Errorf("refund without a reason: %d, balance %s", code, bal())
	}
	before := e.auditCount(string(operator.RoleAdmin))
	for range 2 {
		if code, body := admin.post("/admin/subscribers/1/refund", url.Values{"payment": {fmt.Sprint(p.ID)}, "reason": {"двойная оплата"}}); code != http.StatusSeeOther {
			t.Fatalf("refund: %d %s", code, body)
		}
	}
	if got := bal(); got != paid-money.Rub(300) {
		t.Errorf("balance %s after the refund, want %s", got, paid-money.Rub(300))
	}
	if n := e.auditCount(string(operator.RoleAdmin)) - before; n != 2 {
		t.Errorf("%d audit entries, want one per request", n)
	}
	if got, _ := e.office.Payments.Get(ctx, 1, p.ID); got.Status != payment.StatusReversed {
		t.Errorf("payment %s", got.Status)
	}
	if _, body := admin.get("/admin/subscribers/1"); !strings.Contains(body, "Возвращён") {
		t.Error("the card does not show the refund")
	}
}

// TestPartialRefundForm: the card offers to refund a part; the form sent
// twice refunds once; more than remains is refused with the field's
// message and moves nothing; what remains is shown and refunds the rest.
func TestPartialRefundForm(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b := e.office.Biller
	withSandbox(t, e, b)
	p, _, err := e.office.Payments.StartCard(ctx, payment.CardStart{AccountID: 1, Amount: money.Rub(300), Processor: "sandbox", ReturnURL: "https://isp.example/payments/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.office.Payments.ApplyCardCallback(ctx, "sandbox", payment.Callback{PaymentID: p.ID, ExternalID: "sb-2", Outcome: payment.OutcomePaid, Amount: money.Rub(300)}); err != nil {
		t.Fatal(err)
	}
	bal := func() money.Amount { s, _ := b.Summary(ctx, 1); return s.Balance }
	paid := bal()
	admin := e.login(operator.RoleAdmin)
	_, body := admin.get("/admin/subscribers/1")
	if !strings.Contains(body, `name="amount" inputmode="decimal" value="300.00"`) {
		t.Fatal("no amount field on the refund form")
	}
	form := url.Values{"payment": {fmt.Sprint(p.ID)}, "reason": {"перерасчёт"}, "amount": {"120,50"}, "key": {"k-1"}}
	for range 2 {
		if code, body := admin.post("/admin/subscribers/1/refund", form); code != http.StatusSeeOther {
			t.Fatalf("refund: %d %s", code, body)
		}
	}
	if got := bal(); got != paid-12050 {
		t.Errorf("balance %s after refunding 120.50 (form sent twice), want %s", got, paid-12050)
	}
	form.Set("amount", "180,51")
	form.Set("key", "k-2")
	admin.post("/admin/subscribers/1/refund", form)
	_, body = admin.get("/admin/subscribers/1")
	if bal() != paid-12050 || !strings.Contains(body, "не больше того, что ещё можно вернуть") {
		t.Errorf("more than remains: balance %s, message shown: %v", bal(), strings.Contains(body, "не больше того"))
	}
	if !strings.Contains(body, "Ещё можно вернуть: 179,50") {
		t.Error("the card does not show what remains")
	}
	form.Set("amount", "179.50")
	form.Set("key", "k-3")
	if code, _ := admin.post("/admin/subscribers/1/refund", form); code != http.StatusSeeOther || bal() != paid-money.Rub(300) {
		t.Errorf("the rest: %d, balance %s", code, bal())
	}
	if got, _ := e.office.Payments.Get(ctx, 1, p.ID); got.Status != payment.StatusReversed {
		t.Errorf("payment %s after refunding all in parts", got.Status)
	}
	rs, _ := e.office.Fiscal.List(ctx, fiscal.Filter{AccountID: 1})
	refunds := 0
	for _, r := range rs {
		if r.Kind == fiscal.KindSellRefund {
			refunds++
		}
	}
	if refunds != 2 {
		t.Errorf("%d refund receipts, want one per part", refunds)
	}
}

// TestOldCardPaymentsPaged: a subscriber who paid by card many times can
// still be refunded the oldest payment — the card lists every card payment
// that went through, twenty a page, and nothing else (cash is not there).
func TestOldCardPaymentsPaged(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	withSandbox(t, e, billing.New(e.office.DB, e.clk, billing.DefaultRules()))
	var first int64
	for i := range 25 {
		p, _, err := e.office.Payments.StartCard(ctx, payment.CardStart{AccountID: 1, Amount: money.Rub(int64(100 + i)), Processor: "sandbox", ReturnURL: "https://isp.example/payments/{id}"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.office.Payments.ApplyCardCallback(ctx, "sandbox", payment.Callback{PaymentID: p.ID, ExternalID: fmt.Sprintf("sb-%d", i), Outcome: payment.OutcomePaid, Amount: money.Rub(int64(100 + i))}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = p.ID
		}
		e.clk.Advance(time.Hour)
	}
	if _, err := e.office.Payments.CashPayment(ctx, payment.CashIn{AccountID: 1, Amount: money.Rub(50), Operator: "cashier", Receipt: "K-1"}); err != nil {
		t.Fatal(err)
	}
	admin := e.login(operator.RoleAdmin)
	form := fmt.Sprintf(`name="payment" value="%d"`, first)
	_, body := admin.get("/admin/subscribers/1")
	if strings.Contains(body, form) || !strings.Contains(body, "1–20 из 25") {
		t.Errorf("page 1 of the card payments: the oldest shown, or not 1–20 of 25")
	}
	_, body = admin.get("/admin/subscribers/1?cards.page=2")
	if !strings.Contains(body, form) || !strings.Contains(body, "21–25 из 25") {
		t.Errorf("page 2 of the card payments has no refund form for the oldest")
	}
}

// withSandbox gives the back office a payment service with the sandbox
// processor (which refunds), crediting through b.
func withSandbox(t *testing.T, e *env, b *billing.Biller) {
	t.Helper()
	sb, err := payment.NewSandbox(payment.ProcessorConfig{Kind: "sandbox", Secret: "s"}, e.clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.office.Payments = payment.NewService(e.office.DB, e.clk, b, []payment.Processor{sb}, payment.Options{})
}
