package fiscal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

var testNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	db    *store.DB
	clk   *clock.Fake
	fake  *fiscal.Sandbox
	srv   *httptest.Server
	q     *fiscal.Queue
	pay   *payment.Service
	atol  *fiscal.ATOL
	acct  int64
	quiet *slog.Logger
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{db: db, clk: clock.NewFake(testNow), quiet: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.fake = &fiscal.Sandbox{Login: "kabinet", Password: "secret", GroupCode: "group1", Clock: e.clk}
	e.srv = httptest.NewServer(e.fake)
	t.Cleanup(e.srv.Close)
	e.fake.CheckBase = e.srv.URL
	set, err := fiscal.SettingsFrom(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	e.atol = &fiscal.ATOL{URL: e.srv.URL + "/possystem/v5", Login: "kabinet", Password: "secret", GroupCode: "group1",
		HTTP: &http.Client{Timeout: 2 * time.Second}, Clock: e.clk}
	e.q = fiscal.New(db, e.clk, set, e.atol, e.quiet)
	biller := billing.New(db, e.clk, billing.DefaultRules())
	biller.Hook = e.q
	e.pay = payment.NewService(db, e.clk, biller, nil, payment.Options{Log: e.quiet})
	e.acct = storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "ivanov", Contract: "Д-1001", At: testNow})
	if _, err := db.Writer().Exec(db.Rebind(`UPDATE accounts SET email = ?, phone = ? WHERE id = ?`), "ivanov@mail.example", "8 (910) 111-22-33", e.acct); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) record(t *testing.T, channel, ext string, amount money.Amount) payment.Payment {
	t.Helper()
	p, _, err := e.pay.Record(context.Background(), payment.ManualIn{Channel: channel, ExternalID: ext, AccountID: e.acct, Amount: amount, Operator: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) receipts(t *testing.T, status string) []fiscal.Receipt {
	t.Helper()
	rs, err := e.q.List(context.Background(), fiscal.Filter{Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// drain runs the worker, moving the clock past each wait, until nothing is
// due or rounds run out.
func (e *env) drain(t *testing.T, rounds int) {
	t.Helper()
	for range rounds {
		if _, err := e.q.Process(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Hour)
	}
}

// A payment on a channel that needs the provider's receipt queues one sell
// receipt in its own transaction, with the contract, the VAT in force, the
// tax system, the provider's INN and address and the subscriber's e-mail;
// a bank's payment (the bank issues the receipt) queues none; cash at the
// desk is paid in cash.
func TestReceiptQueuedWithPayment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.record(t, "card:sandbox", "c-1", 150000)
		e.record(t, "osmp:sberbank", "b-1", 50000)
		if _, err := e.pay.CashPayment(context.Background(), payment.CashIn{AccountID: e.acct, Amount: 30000, Operator: "kassa", Receipt: "K-1"}); err != nil {
			t.Fatal(err)
		}
		rs := e.receipts(t, "")
		if len(rs) != 2 {
			t.Fatalf("receipts: %d, want 2 (card and cash, not the bank's)", len(rs))
		}
		cash, card := rs[0], rs[1]
		if card.Kind != fiscal.KindSell || card.Channel != "card:sandbox" || card.Amount != 150000 || card.Status != fiscal.StatusQueued {
			t.Errorf("card receipt: %+v", card)
		}
		if card.Item != "Оплата услуг связи по договору №Д-1001" || card.VAT != "22" || card.SNO != "osn" || card.INN != "7701234567" ||
			card.ClientEmail != "ivanov@mail.example" || card.PaymentAddress != "https://set-region.example" || card.PaymentType != 1 {
			t.Errorf("card receipt's content: %+v", card)
		}
		if cash.Channel != "cash" || cash.PaymentType != 0 {
			t.Errorf("cash receipt: channel %s, payment type %d; want cash, 0", cash.Channel, cash.PaymentType)
		}
	})
}

// Without an e-mail the receipt goes to the subscriber's phone.
func TestReceiptToPhone(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	if _, err := e.db.Writer().Exec(`UPDATE accounts SET email = '' WHERE id = ?`, e.acct); err != nil {
		t.Fatal(err)
	}
	e.record(t, "card:sandbox", "c-1", 10000)
	r := e.receipts(t, "")[0]
	if r.ClientEmail != "" || r.ClientPhone != "+79101112233" {
		t.Errorf("client: email %q phone %q, want the phone +79101112233", r.ClientEmail, r.ClientPhone)
	}
}

// A payment credited while ATOL is down is credited at once and gets its
// receipt after ATOL returns; the receipt records ФН, ФД, ФП and the link.
func TestReceiptAfterOperatorReturns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.fake.SetDown(true)
		p := e.record(t, "card:sandbox", "c-1", 150000)
		if p.Status != payment.StatusSucceeded {
			t.Fatalf("payment %s, want succeeded without waiting for the receipt", p.Status)
		}
		for range 3 {
			if _, err := e.q.Process(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(10 * time.Minute)
		}
		r := e.receipts(t, "")[0]
		if r.Status != fiscal.StatusQueued || r.Attempts != 3 || !strings.Contains(r.LastError, "503") {
			t.Fatalf("while down: %s, %d attempts, %q", r.Status, r.Attempts, r.LastError)
		}
		e.fake.SetDown(false)
		e.drain(t, 3)
		r = e.receipts(t, "")[0]
		if r.Status != fiscal.StatusDone || r.FNNumber == "" || r.FiscalDocumentNumber == 0 || r.FiscalDocumentAttribute == "" ||
			!strings.HasPrefix(r.CheckURL, e.srv.URL+"/check/") {
			t.Fatalf("after ATOL returned: %+v", r)
		}
		if acc, _, _ := e.fake.Counts(); acc != 1 {
			t.Errorf("ATOL documents: %d, want 1", acc)
		}
	})
}

// An ATOL that does not answer is given up on after the client's timeout
// and retried, and a document still registering ("wait") is asked again.
func TestTimeoutAndWait(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.atol.HTTP.Timeout = 100 * time.Millisecond
	e.fake.SetHang(true)
	e.fake.WaitReports = 2
	e.record(t, "card:sandbox", "c-1", 10000)
	if _, err := e.q.Process(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := e.receipts(t, "")[0]; r.Status != fiscal.StatusQueued || r.LastError == "" {
		t.Fatalf("after a timeout: %s %q", r.Status, r.LastError)
	}
	e.fake.SetHang(false)
	e.clk.Advance(time.Minute)
	e.q.Process(context.Background())
	for range 3 { // registered, then asked twice while ATOL still registers
		if r := e.receipts(t, "")[0]; r.Status != fiscal.StatusWait {
			t.Fatalf("while ATOL registers: %s", r.Status)
		}
		e.clk.Advance(time.Minute)
		e.q.Process(context.Background())
	}
	if r := e.receipts(t, "")[0]; r.Status != fiscal.StatusDone {
		t.Fatalf("after the waits: %s %q", r.Status, r.LastError)
	}
}

// A token that ATOL says has expired is replaced by a new one and the
// request repeated.
func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.fake.TokenLife = time.Hour // shorter than the client expects
	e.record(t, "card:sandbox", "c-1", 10000)
	e.drain(t, 1)
	e.clk.Advance(3 * time.Hour)
	e.record(t, "card:sandbox", "c-2", 10000)
	e.drain(t, 3)
	if n := len(e.receipts(t, fiscal.StatusDone)); n != 2 {
		t.Fatalf("receipts done: %d, want 2", n)
	}
	if _, _, tokens := e.fake.Counts(); tokens < 2 {
		t.Errorf("tokens taken: %d, want a new one after expiry", tokens)
	}
}

// A sell sent again under the same external_id (the answer was lost) makes
// no second receipt: ATOL answers with the first document, which is taken.
func TestDuplicateSell(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.record(t, "card:sandbox", "c-1", 10000)
		r := e.receipts(t, "")[0]
		first, err := e.atol.Register(context.Background(), r) // sent, but the answer never stored
		if err != nil {
			t.Fatal(err)
		}
		e.drain(t, 3)
		got := e.receipts(t, "")[0]
		if got.Status != fiscal.StatusDone || got.UUID != first {
			t.Fatalf("receipt %s uuid %s, want done under the first uuid %s", got.Status, got.UUID, first)
		}
		if acc, req, _ := e.fake.Counts(); acc != 1 || req != 2 {
			t.Errorf("ATOL: %d documents from %d requests, want 1 from 2", acc, req)
		}
	})
}

// A document ATOL fails is shown failed; a resend takes a new key (ATOL
// made no receipt) and succeeds. A receipt done cannot be resent.
func TestFailAndResend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.fake.FailNext(1)
		e.record(t, "card:sandbox", "c-1", 10000)
		e.drain(t, 3)
		failed := e.receipts(t, fiscal.StatusFailed)
		if len(failed) != 1 || !strings.Contains(failed[0].LastError, "1006") {
			t.Fatalf("failed receipts: %+v", failed)
		}
		resend := func(id int64) error {
			return db.Write(context.Background(), func(tx *store.Tx) error {
				_, err := e.q.ResendTx(context.Background(), tx, id)
				return err
			})
		}
		if err := resend(failed[0].ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t, 3)
		r := e.receipts(t, "")[0]
		if r.Status != fiscal.StatusDone || r.ExternalID == failed[0].ExternalID {
			t.Fatalf("after resend: %s under %s (was %s)", r.Status, r.ExternalID, failed[0].ExternalID)
		}
		if err := resend(r.ID); !errors.Is(err, fiscal.ErrDone) {
			t.Errorf("resending a receipt done: %v, want ErrDone", err)
		}
	})
}

// A reversed payment gets its "возврат прихода", sent only after the sale's
// receipt is registered, once however often the reversal is repeated.
func TestRefundReceipt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.fake.SetDown(true)
		p := e.record(t, "card:sandbox", "c-1", 70000)
		for range 2 {
			if _, err := e.pay.Reverse(context.Background(), p.LedgerTxnID, "paid twice", "admin"); err != nil {
				t.Fatal(err)
			}
		}
		rs := e.receipts(t, "")
		if len(rs) != 2 || rs[0].Kind != fiscal.KindSellRefund || rs[0].RefundOf != rs[1].ID || rs[0].Amount != 70000 {
			t.Fatalf("receipts after the reversal: %+v", rs)
		}
		e.fake.SetDown(false)
		e.fake.FailNext(1) // the sale fails: the refund must wait for it
		e.drain(t, 3)
		if acc, _, _ := e.fake.Counts(); acc != 1 {
			t.Fatalf("ATOL documents: %d, want only the sale while it is not registered", acc)
		}
		sale := e.receipts(t, fiscal.StatusFailed)[0]
		db.Write(context.Background(), func(tx *store.Tx) error { _, err := e.q.ResendTx(context.Background(), tx, sale.ID); return err })
		e.drain(t, 4)
		if n := len(e.receipts(t, fiscal.StatusDone)); n != 2 {
			t.Fatalf("done: %d, want the sale and its refund", n)
		}
		kinds := map[string]int{}
		for _, k := range e.fake.Docs() {
			kinds[k]++
		}
		if kinds[fiscal.KindSell] != 2 || kinds[fiscal.KindSellRefund] != 1 {
			t.Errorf("ATOL documents by kind: %v", kinds)
		}
	})
}

// Exactly one receipt per payment: the same payment arriving many times at
// once queues one, and two workers racing send each receipt once.
func TestOneReceiptPerPayment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var wg sync.WaitGroup
		for i := range 30 {
			for range 3 {
				wg.Go(func() {
					_, _, err := e.pay.Record(context.Background(), payment.ManualIn{Channel: "card:sandbox", ExternalID: fmt.Sprint("c-", i),
						AccountID: e.acct, Amount: 10000, Operator: "test"})
					if err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		if n := len(e.receipts(t, "")); n != 30 {
			t.Fatalf("receipts: %d, want 30", n)
		}
		set, _ := fiscal.SettingsFrom(config.Default())
		other := fiscal.New(db, e.clk, set, e.atol, e.quiet)
		for range 4 {
			var w sync.WaitGroup
			for _, q := range []*fiscal.Queue{e.q, other} {
				w.Go(func() {
					if _, err := q.Process(context.Background()); err != nil {
						t.Error(err)
					}
				})
			}
			w.Wait()
			e.clk.Advance(time.Hour)
		}
		if n := len(e.receipts(t, fiscal.StatusDone)); n != 30 {
			t.Errorf("done: %d, want 30", n)
		}
		if acc, req, _ := e.fake.Counts(); acc != 30 || req != 30 {
			t.Errorf("ATOL: %d documents from %d requests, want 30 from 30", acc, req)
		}
	})
}

// The sell request carries what ATOL v5 documents: the key, the company
// and client, one item of the advance with VAT at the calculated rate
// (22/122), the electronic payment and the total in rubles.
func TestSellRequest(t *testing.T) {
	for _, tc := range []struct {
		vat, method, wantType string
		wantSum               any
	}{
		{"22", "advance", "vat122", 270.49},
		{"22", "full_payment", "vat22", 270.49},
		{"none", "advance", "none", nil},
	} {
		t.Run(tc.vat+"/"+tc.method, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t))
			var got map[string]any
			var mu sync.Mutex
			e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/sell") {
					body, _ := io.ReadAll(r.Body)
					mu.Lock()
					json.Unmarshal(body, &got)
					mu.Unlock()
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				e.fake.ServeHTTP(w, r)
			})
			cfg := config.Default()
			cfg.Fiscal.VAT, cfg.Fiscal.PaymentMethod = tc.vat, tc.method
			set, err := fiscal.SettingsFrom(cfg)
			if err != nil {
				t.Fatal(err)
			}
			q := fiscal.New(e.db, e.clk, set, e.atol, e.quiet)
			biller := billing.New(e.db, e.clk, billing.DefaultRules())
			biller.Hook = q
			pay := payment.NewService(e.db, e.clk, biller, nil, payment.Options{Log: e.quiet})
			if _, _, err := pay.Record(context.Background(), payment.ManualIn{Channel: "card:sandbox", ExternalID: "c-1", AccountID: e.acct, Amount: 150000, Operator: "t"}); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Process(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			rc, _ := got["receipt"].(map[string]any)
			if got["external_id"] == "" || got["timestamp"] != "01.12.2026 12:00:00" || rc == nil {
				t.Fatalf("request: %v", got)
			}
			item := rc["items"].([]any)[0].(map[string]any)
			vat := item["vat"].(map[string]any)
			want := map[string]any{"name": "Оплата услуг связи по договору №Д-1001", "price": 1500.0, "quantity": 1.0, "sum": 1500.0,
				"measure": 0.0, "payment_method": tc.method, "payment_object": 10.0}
			for k, v := range want {
				if item[k] != v {
					t.Errorf("item %s = %v, want %v", k, item[k], v)
				}
			}
			if vat["type"] != tc.wantType || vat["sum"] != tc.wantSum {
				t.Errorf("vat %v, want %s %v", vat, tc.wantType, tc.wantSum)
			}
			company := rc["company"].(map[string]any)
			if company["inn"] != "7701234567" || company["sno"] != "osn" || company["email"] != "support@set-region.example" || company["payment_address"] != "https://set-region.example" {
				t.Errorf("company %v", company)
			}
			if c := rc["client"].(map[string]any); c["email"] != "ivanov@mail.example" {
				t.Errorf("client %v", c)
			}
			if p := rc["payments"].([]any)[0].(map[string]any); p["type"] != 1.0 || p["sum"] != 1500.0 || rc["total"] != 1500.0 {
				t.Errorf("payments %v total %v", p, rc["total"])
			}
		})
	}
}

// TestReceiptPage: the back office's page of receipts counts every receipt
// of its filter, sorts by a whitelisted column and pages from an offset,
// on each database; "attention" is the unfinished and the failed.
func TestReceiptPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		for i, amount := range []int64{30000, 10000, 20000} {
			e.record(t, "card:sandbox", fmt.Sprintf("p-%d", i), money.Amount(amount))
		}
		if _, err := db.Writer().Exec(`UPDATE fiscal_receipts SET status = CASE amount WHEN 10000 THEN 'done' WHEN 20000 THEN 'failed' ELSE status END`); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			f       fiscal.Filter
			total   int
			amounts []int64
		}{
			{fiscal.Filter{Sort: "amount"}, 3, []int64{10000, 20000, 30000}},
			{fiscal.Filter{Sort: "amount", Desc: true, Offset: 1, Limit: 1}, 3, []int64{20000}},
			{fiscal.Filter{Sort: "date", Desc: true}, 3, []int64{20000, 10000, 30000}},
			{fiscal.Filter{Status: "attention", Sort: "amount"}, 2, []int64{20000, 30000}},
			{fiscal.Filter{Status: fiscal.StatusDone, Sort: "x; DROP TABLE fiscal_receipts"}, 1, []int64{10000}},
		} {
			rs, total, err := e.q.Page(ctx, tc.f)
			var got []int64
			for _, r := range rs {
				got = append(got, int64(r.Amount))
			}
			if err != nil || total != tc.total || fmt.Sprint(got) != fmt.Sprint(tc.amounts) {
				t.Errorf("%+v: %v of %d, %v; want %v of %d", tc.f, got, total, err, tc.amounts, tc.total)
			}
		}
	})
}
