package payment

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

var testReceiptRules = ReceiptRules{SNO: "osn", VAT: "22", PaymentMethod: "advance", PaymentObject: 10,
	Item: "Оплата услуг связи по договору №%s", CompanyEmail: "support@isp.example"}

func receiptYooKassa(t testing.TB, f *fakeYooKassa) *yooKassa {
	t.Helper()
	y, err := NewYooKassa(ProcessorConfig{Kind: "yookassa", ShopID: "123456", SecretKey: "test_secret", APIURL: f.srv.URL + "/v3",
		Receipts: ReceiptsYooKassa}, &http.Client{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	y.wait = func(ctx context.Context, _ int) error { return ctx.Err() }
	return y
}

func setContact(t testing.TB, db *store.DB, acct int64, email, phone string) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE accounts SET email = ?, phone = ? WHERE id = ?`, email, phone, acct)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// receiptOf is the receipt object a request sent, checked for the fields
// every one of Kabinet's receipts carries.
func receiptOf(t *testing.T, r fakeRequest, value string) map[string]any {
	t.Helper()
	rc, ok := r.Body["receipt"].(map[string]any)
	if !ok {
		t.Fatalf("%s %s without a receipt: %+v", r.Method, r.Path, r.Body)
	}
	items := rc["items"].([]any)
	it := items[0].(map[string]any)
	am := it["amount"].(map[string]any)
	if len(items) != 1 || am["value"] != value || am["currency"] != "RUB" || it["quantity"] != float64(1) ||
		it["vat_code"] != float64(12) || it["payment_subject"] != "payment" || it["payment_mode"] != "advance" ||
		rc["tax_system_code"] != float64(1) {
		t.Errorf("%s %s receipt %+v", r.Method, r.Path, rc)
	}
	return rc
}

// TestYooKassaReceipts: with receipts = "yookassa" every payment (card, SBP,
// a saved card's charge) and every refund carries the receipt object
// YooKassa's reference describes, and the fake refuses one that does not.
func TestYooKassaReceipts(t *testing.T) {
	f := newFakeYooKassa(t)
	f.requireReceipt = true
	ctx := context.Background()

	// Without receipts the shop refuses the payment: the fake is strict.
	plain := testYooKassa(t, f)
	svc, db, _ := testService(t, plain)
	acct := addAccount(t, db, "100090", "active")
	if _, _, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", ReturnURL: "https://isp.example/p/{id}"}); err == nil {
		t.Fatal("a payment without a receipt accepted by a shop that requires one")
	}

	y := receiptYooKassa(t, f)
	svc, db, _ = testService(t, y)
	acct = addAccount(t, db, "100090", "active")
	setContact(t, db, acct, "ivanov@mail.example", "")
	if _, _, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", ReturnURL: "https://isp.example/p/{id}"}); err == nil {
		t.Fatal("started without receipt rules")
	}
	if err := (Setup{Processors: []Processor{y}}).SetReceiptRules(testReceiptRules); err != nil {
		t.Fatal(err)
	}
	p, c, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", SaveMethod: true, ReturnURL: "https://isp.example/p/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.calls("POST", "/payments")
	rc := receiptOf(t, reqs[len(reqs)-1], "500.00")
	it := rc["items"].([]any)[0].(map[string]any)
	if cu := rc["customer"].(map[string]any); cu["email"] != "ivanov@mail.example" || cu["phone"] != nil ||
		it["description"] != "Оплата услуг связи по договору №100090" {
		t.Errorf("receipt %+v", rc)
	}
	if _, _, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 12345, Processor: "yookassa", Method: MethodSBP, ReturnURL: "https://isp.example/p/{id}"}); err != nil {
		t.Fatal(err)
	}
	reqs = f.calls("POST", "/payments")
	receiptOf(t, reqs[len(reqs)-1], "123.45")

	f.settle(c.Ref, "succeeded", "")
	if code := yooNotify(t, svc, y, yooAddr, f.notification("payment.succeeded", c.Ref)); code != 200 {
		t.Fatalf("notification %d", code)
	}
	// A part refunded: the refund's receipt is of the part.
	rf, err := svc.Refund(ctx, RefundAsk{AccountID: acct, PaymentID: p.ID, Amount: 20000, Reason: "перерасчёт", Operator: "admin"})
	if err != nil || rf.Status != RefundSucceeded {
		t.Fatalf("refund %+v, %v", rf, err)
	}
	receiptOf(t, f.calls("POST", "/refunds")[0], "200.00")

	// A subscriber with only a phone gets it by phone, in E.164.
	setContact(t, db, acct, "", "8 (900) 123-45-67")
	ms, err := svc.SavedMethods(ctx, acct)
	if err != nil || len(ms) != 1 {
		t.Fatalf("saved %+v, %v", ms, err)
	}
	if _, err := svc.ChargeSaved(ctx, SavedCharge{AccountID: acct, MethodID: ms[0].ID, Amount: 70000, Key: "autopay:100090:2027-01"}); err != nil {
		t.Fatal(err)
	}
	reqs = f.calls("POST", "/payments")
	rc = receiptOf(t, reqs[len(reqs)-1], "700.00")
	if cu := rc["customer"].(map[string]any); cu["phone"] != "79001234567" || cu["email"] != nil {
		t.Errorf("customer %+v", cu)
	}
}

// TestReceiptRulesConfig: only YooKassa issues receipts; the rules name
// known codes; a processor issuing receipts takes its payments out of the
// fiscal queue's.
func TestReceiptRulesConfig(t *testing.T) {
	clk := clock.NewFake(testNow)
	if _, err := (Config{AllowSandbox: true, Processors: []ProcessorConfig{{Kind: "sandbox", Secret: "s", Receipts: "yookassa"}}}).Build(time.UTC, clk); err == nil {
		t.Error("receipts on the sandbox accepted")
	}
	if _, err := NewProcessor(ProcessorConfig{Kind: "yookassa", ShopID: "1", SecretKey: "k", Receipts: "atol"}); err == nil {
		t.Error(`receipts = "atol" accepted`)
	}
	s, err := (Config{Processors: []ProcessorConfig{{Kind: "yookassa", ShopID: "1", SecretKey: "k", Receipts: "yookassa", VATCode: 6}}}).Build(time.UTC, clk)
	if err != nil {
		t.Fatal(err)
	}
	bad := testReceiptRules
	bad.SNO = "envd2"
	if err := s.SetReceiptRules(bad); err == nil {
		t.Error("an unknown tax system accepted")
	}
	if err := s.SetReceiptRules(testReceiptRules); err != nil {
		t.Fatal(err)
	}
	if y := s.Processors[0].(*yooKassa); y.rules.vat != 6 {
		t.Errorf("vat_code override: %d", y.rules.vat)
	}
	for _, c := range []struct {
		rate, method string
		want         int
	}{{"none", "advance", 1}, {"0", "full_payment", 2}, {"10", "full_payment", 3}, {"20", "full_payment", 4}, {"10", "advance", 5},
		{"20", "full_prepayment", 6}, {"5", "full_payment", 7}, {"7", "full_payment", 8}, {"5", "advance", 9}, {"7", "prepayment", 10}} {
		if got, err := yooVATCode(c.rate, c.method); err != nil || got != c.want {
			t.Errorf("vat %s %s: %d, %v; want %d", c.rate, c.method, got, err, c.want)
		}
	}
}

// TestPartialRefund: an operator refunds a payment in parts; each part is
// asked of the processor once under its own key, taken from the account in
// a transaction of its own with its "возврат прихода" receipt and its share
// of the bonus points; the parts never exceed the payment; the part that
// completes it marks the payment reversed; a whole reversal is refused
// after a refund. SQLite and PostgreSQL.
func TestPartialRefund(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFakeYooKassa(t)
		y := testYooKassa(t, f)
		clk := clock.NewFake(testNow)
		b := billing.New(db, clk, billing.DefaultRules())
		set := fiscal.Settings{Channels: []string{"card"}, SNO: "osn", VAT: "22", PaymentMethod: "advance", PaymentObject: 10,
			Item: "Оплата услуг связи по договору №%s", INN: "7701234567", CompanyEmail: "support@isp.example", PaymentAddress: "https://isp.example"}
		q := fiscal.New(db, clk, set, nil, nil)
		b.Hook = q
		svc := NewService(db, clk, b, []Processor{y}, Options{PublicURL: "https://isp.example/", BonusPercentBP: 100})
		acct := addAccount(t, db, "100091", "active")
		ctx := context.Background()
		p, c, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", ReturnURL: "https://isp.example/p/{id}"})
		if err != nil {
			t.Fatal(err)
		}
		f.settle(c.Ref, "succeeded", "")
		if code := yooNotify(t, svc, y, yooAddr, f.notification("payment.succeeded", c.Ref)); code != 200 {
			t.Fatalf("notification %d", code)
		}
		points := func() money.Amount {
			var v int64
			if err := db.QueryRow(ctx, `SELECT balance FROM ledger_accounts WHERE code = ?`, bonusCode(acct)).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return money.Amount(v)
		}
		if points() != 500 {
			t.Fatalf("bonus %d", points())
		}
		ask := func(amount money.Amount, key string) (Refund, error) {
			return svc.Refund(ctx, RefundAsk{AccountID: acct, PaymentID: p.ID, Amount: amount, Key: key, Reason: "перерасчёт", Operator: "admin"})
		}
		for _, bad := range []money.Amount{-1, 50001} {
			if _, err := ask(bad, ""); !errors.Is(err, ErrRefundAmount) {
				t.Errorf("refund of %d: %v", bad, err)
			}
		}
		// 200.00, the form sent twice: one refund.
		for range 2 {
			rf, err := ask(20000, "form-1")
			if err != nil || rf.Status != RefundSucceeded || rf.Amount != 20000 {
				t.Fatalf("refund %+v, %v", rf, err)
			}
		}
		if got := balance(t, db, acct); got != 30000 {
			t.Errorf("balance %d after refunding 200 of 500", got)
		}
		if points() != 300 {
			t.Errorf("bonus %d after refunding 2/5", points())
		}
		if got, _ := svc.Get(ctx, acct, p.ID); got.Status != StatusSucceeded {
			t.Errorf("payment %s after a part refunded", got.Status)
		}
		if left, _ := svc.Refundable(ctx, p); left != 30000 {
			t.Errorf("refundable %d", left)
		}
		if _, err := ask(30001, "form-2"); !errors.Is(err, ErrRefundAmount) {
			t.Errorf("more than remains: %v", err)
		}
		cur, _ := svc.Get(ctx, acct, p.ID)
		if _, err := svc.Reverse(ctx, cur.LedgerTxnID, "ошибка", "admin"); !errors.Is(err, ErrRefunded) {
			t.Errorf("whole reversal after a refund: %v", err)
		}
		// The rest, pending at YooKassa, finished by its notification.
		f.refundState = "pending"
		rf, err := ask(0, "form-3")
		if err != nil || rf.Status != RefundPending || rf.Amount != 30000 {
			t.Fatalf("rest %+v, %v", rf, err)
		}
		if _, err := ask(10000, "form-4"); !errors.Is(err, ErrRefundPending) {
			t.Errorf("another part while one is pending: %v", err)
		}
		f.setRefund(rf.Ref, "succeeded")
		for range 2 {
			if code := yooNotify(t, svc, y, yooAddr, f.notification("refund.succeeded", rf.Ref)); code != 200 {
				t.Errorf("refund notification %d", code)
			}
		}
		if got := balance(t, db, acct); got != 0 {
			t.Errorf("balance %d after refunding all", got)
		}
		if got, _ := svc.Get(ctx, acct, p.ID); got.Status != StatusReversed {
			t.Errorf("payment %s after all refunded", got.Status)
		}
		if rfs, _ := svc.Refunds(ctx, p.ID); len(rfs) != 2 || rfs[1].Status != RefundSucceeded || rfs[1].LedgerTxnID == 0 {
			t.Errorf("refunds %+v", rfs)
		}
		if n := len(f.calls("POST", "/refunds")); n != 2 {
			t.Errorf("%d refund requests at YooKassa, want 2", n)
		}
		// Nothing remains: pressing "refund" again changes nothing.
		if _, err := ask(0, ""); err != nil {
			t.Errorf("again: %v", err)
		}
		rs, err := q.List(ctx, fiscal.Filter{AccountID: acct})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string][]money.Amount{}
		for _, r := range rs {
			kinds[r.Kind] = append(kinds[r.Kind], r.Amount)
		}
		if len(kinds[fiscal.KindSell]) != 1 || len(kinds[fiscal.KindSellRefund]) != 2 ||
			kinds[fiscal.KindSellRefund][0]+kinds[fiscal.KindSellRefund][1] != 50000 {
			t.Errorf("receipts %v", kinds)
		}
		verifyBooks(t, db)
	})
}
