package documents_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

var msk = billing.DefaultRules().Zone

func at(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, msk) }

type env struct {
	db   *store.DB
	clk  *clock.Fake
	b    *billing.Biller
	subs *subscriber.Directory
	orgs documents.Parties
	docs *documents.Service
}

var fonts = func() contract.Fonts {
	f, err := contract.LoadFonts(os.DirFS("../../web"))
	if err != nil {
		panic(err)
	}
	return f
}()

var hash = password.Hash("secret-pass")

// newEnv: a provider with a business tariff and a static IP package, on
// 10 January 2026 (22% VAT).
func newEnv(t testing.TB, db *store.DB, opts documents.Options) *env {
	t.Helper()
	ctx := context.Background()
	start := at(2026, 1, 10, 12)
	clk := clock.NewFake(start)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	e := &env{db: db, clk: clk, b: b, subs: subscriber.New(db, clk, sealer, b)}
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "biz100", Name: "Бизнес 100", Fee: money.Rub(1200), DownKbps: 100000, UpKbps: 100000, Public: true}, start); err != nil {
		t.Fatal(err)
	}
	if _, err := billing.AddPackage(ctx, db, billing.Package{Code: "ip", Kind: billing.PackageStaticIP, Name: "Статический IP", Price: money.Rub(150), Pricing: billing.PriceMonthly}, start); err != nil {
		t.Fatal(err)
	}
	if opts.Provider.Name == "" {
		opts.Provider = config.Default().Provider.WithDemoDetails()
	}
	opts.Zone = msk
	var err error
	e.docs, err = documents.New(db, clk, &e.orgs, fonts, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) point(t testing.TB, login, address string) documents.Point {
	t.Helper()
	a, err := e.subs.Create(context.Background(), subscriber.NewAccount{Login: login, Password: "secret-pass", PasswordHash: hash, Tariff: "biz100", Address: address})
	if err != nil {
		t.Fatal(err)
	}
	return documents.Point{AccountID: a.ID, Login: login, Address: address}
}

func (e *env) org(id int64, name, inn string, points ...documents.Point) documents.Party {
	p := documents.Party{ID: id, Name: "Общество с ограниченной ответственностью «" + name + "»", ShortName: "ООО «" + name + "»", INN: inn, KPP: "695001001",
		Address: "170100, г. Тверь, ул. Новоторжская, д. 1", Director: "Иванов И. И.", Email: strings.ToLower(inn) + "@example.org",
		ContractNo: fmt.Sprintf("Ю-%03d", id), ContractDate: "2025-12-01", Points: points}
	e.orgs = append(e.orgs, p)
	return p
}

func (e *env) billTo(t testing.TB, when time.Time) {
	t.Helper()
	e.clk.Set(when)
	if _, err := e.b.Run(context.Background(), when, nil); err != nil {
		t.Fatal(err)
	}
}

// charged is what the ledger charged the accounts in [from, to): charges
// less refunds, positive.
func charged(t testing.TB, db *store.DB, from, to time.Time, ids ...int64) money.Amount {
	t.Helper()
	var sum money.Amount
	for _, id := range ids {
		var s int64
		if err := db.QueryRow(context.Background(), `SELECT COALESCE(SUM(amount), 0) FROM ledger_txns WHERE account_id = ? AND kind IN ('charge', 'refund') AND effective_at >= ? AND effective_at < ?`,
			id, from.UTC(), to.UTC()).Scan(&s); err != nil {
			t.Fatal(err)
		}
		sum -= money.Amount(s)
	}
	return sum
}

func (e *env) connect(t testing.TB, id int64, code string) {
	t.Helper()
	if _, err := e.b.Connect(context.Background(), id, code); err != nil {
		t.Fatal(err)
	}
}

func TestMonthlyRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, documents.Options{})
		shop1 := e.point(t, "romashka-1", "г. Тверь, ул. Советская, д. 3")
		shop2 := e.point(t, "romashka-2", "г. Тверь, пр-т Чайковского, д. 9")
		e.connect(t, shop1.AccountID, "ip")
		school := e.point(t, "school-7", "г. Тверь, ул. Школьная, д. 7")
		romashka := e.org(1, "Ромашка", "6901234567", shop1, shop2)
		e.org(2, "Школа № 7", "6907654321", school)
		_ = romashka

		// On the 25th: invoices for February; their acts wait for the month's end.
		e.clk.Set(at(2026, 1, 25, 9))
		res, err := e.docs.Run(ctx, "2026-02")
		if err != nil {
			t.Fatal(err)
		}
		if res.Invoices != 2 || res.Closing != 0 || !res.ClosingNotDue {
			t.Fatalf("run: %+v", res)
		}
		inv := res.Issued[0]
		if inv.Number != "2026-000001" || res.Issued[1].Number != "2026-000002" {
			t.Errorf("numbers %s, %s", inv.Number, res.Issued[1].Number)
		}
		// 1200 + 150 + 1200; VAT per line: 216.39 + 27.05 + 216.39.
		if inv.Total != money.Rub(2550) || inv.VAT != 45983 {
			t.Errorf("Ромашка's invoice: total %s, VAT %s; want 2550.00, 459.83", inv.Total, inv.VAT)
		}
		if res.Issued[1].Total != money.Rub(1200) || res.Issued[1].VAT != 21639 {
			t.Errorf("school's invoice: total %s, VAT %s; want 1200.00, 216.39", res.Issued[1].Total, res.Issued[1].VAT)
		}
		data, err := e.docs.DataOf(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if data.Date != "2026-01-25" || data.Period != "2026-02" || len(data.Lines) != 3 || data.Buyer.INN != "6901234567" || data.Seller.BIK == "" {
			t.Errorf("invoice data: %+v", data)
		}
		pdfText(t, e, inv.ID, "Счёт на оплату № 2026-000001 от 25 января 2026 г.", "Две тысячи пятьсот пятьдесят рублей 00 копеек",
			"В том числе НДС (22%): 459,83", "Всего к оплате: 2 550,00", "Бизнес 100", "Статический IP", "ИНН 6901234567", "БИК 042809679",
			"Руководитель", "Бухгалтер", "М.П.", "Оплата по счёту № 2026-000001", "Банк получателя", "Получатель")

		// A second run issues nothing twice.
		again, err := e.docs.Run(ctx, "2026-02")
		if err != nil {
			t.Fatal(err)
		}
		if again.Invoices != 0 || again.Existing != 2 {
			t.Errorf("second run: %+v", again)
		}

		// February is billed on the 1st, March on the 1st; on 2 March the
		// run issues February's acts, equal to what was charged.
		e.billTo(t, at(2026, 2, 1, 0).Add(5*time.Minute))
		e.billTo(t, at(2026, 3, 2, 9))
		res, err = e.docs.Run(ctx, "2026-02")
		if err != nil {
			t.Fatal(err)
		}
		if res.Invoices != 0 || res.Closing != 2 || res.Existing != 2 {
			t.Fatalf("March run: %+v", res)
		}
		act := res.Issued[0]
		want := charged(t, db, at(2026, 2, 1, 0), at(2026, 3, 1, 0), shop1.AccountID, shop2.AccountID)
		if act.Kind != documents.Act || act.Number != "2026-000001" || act.Total != want || want != money.Rub(2550) {
			t.Errorf("act %s %s total %s, charged %s", act.Kind, act.Number, act.Total, want)
		}
		if act.Date.Format("2006-01-02") != "2026-02-28" {
			t.Errorf("act dated %s, want the month's last day", act.Date.Format("2006-01-02"))
		}
		pdfText(t, e, act.ID, "Акт оказанных услуг № 2026-000001 от 28 февраля 2026 г.", "Исполнитель", "Заказчик", "ООО «Ромашка»",
			"Две тысячи пятьсот пятьдесят рублей 00 копеек", "претензий", "М.П.")
		if again, err = e.docs.Run(ctx, "2026-02"); err != nil || again.Closing != 0 || again.Existing != 4 {
			t.Errorf("second March run: %+v %v", again, err)
		}

		list, n, err := e.docs.List(ctx, documents.Filter{Kind: documents.Invoice})
		if err != nil || n != 2 || len(list) != 2 {
			t.Fatalf("invoice list: %d %v", n, err)
		}
		got, err := e.docs.InvoiceByNumber(ctx, db, "2026/1")
		if err != nil || got.ID != inv.ID {
			t.Errorf("InvoiceByNumber: %+v %v", got, err)
		}
	})
}

// pdfText checks the stored PDF's text with pdftotext (poppler-utils).
func pdfText(t *testing.T, e *env, id int64, want ...string) string {
	t.Helper()
	_, pdf, err := e.docs.PDF(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("document %d: not a PDF", id)
	}
	return checkText(t, pdf, want...)
}

func checkText(t *testing.T, pdf []byte, want ...string) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Log("pdftotext (poppler-utils) not installed: the PDF's text is not checked")
		return ""
	}
	path := filepath.Join(t.TempDir(), "d.pdf")
	os.WriteFile(path, pdf, 0o600)
	out, err := exec.Command(tool, "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, w := range want {
		if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("PDF text lacks %q:\n%s", w, out)
		}
	}
	return text
}

func TestImmutable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, documents.Options{})
		e.org(1, "Ромашка", "6901234567", e.point(t, "romashka-1", "ул. Советская, 3"))
		e.clk.Set(at(2026, 1, 25, 9))
		res, err := e.docs.Run(ctx, "2026-02")
		if err != nil || len(res.Issued) != 1 {
			t.Fatal(res, err)
		}
		id := res.Issued[0].ID
		_, before, _ := e.docs.PDF(ctx, id)
		for _, q := range []string{`UPDATE documents SET total = 1 WHERE id = ?`, `UPDATE documents SET data = '{}' WHERE id = ?`,
			`UPDATE documents SET pdf = ? WHERE id = ?`, `UPDATE documents SET number = 'x' WHERE id = ?`, `DELETE FROM documents WHERE id = ?`} {
			args := []any{id}
			if strings.Contains(q, "pdf = ?") {
				args = []any{[]byte("%PDF-forged"), id}
			}
			err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, q, args...); return err })
			if err == nil || !strings.Contains(err.Error(), "immutable") {
				t.Errorf("%s: %v, want refused as immutable", q, err)
			}
		}
		_, after, _ := e.docs.PDF(ctx, id)
		if !bytes.Equal(before, after) {
			t.Error("the PDF changed")
		}
		// The stored data draws the stored PDF again, byte for byte.
		data, err := e.docs.DataOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := e.docs.Render(data); err != nil || !bytes.Equal(again, before) {
			t.Errorf("the data does not draw the issued PDF again (%d and %d bytes): %v", len(again), len(before), err)
		}
		// The status moves.
		if _, err := e.docs.MarkPaid(ctx, id); err != nil {
			t.Fatal(err)
		}
		if d, _ := e.docs.Get(ctx, id); d.Status != documents.Paid {
			t.Errorf("status %s", d.Status)
		}
		// A correction is a new document naming the old one.
		c, err := e.docs.Correct(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == id || c.Number != "2026-000002" || c.Corrects != id {
			t.Errorf("correction %+v", c)
		}
	})
}

func TestPaymentsCoverInvoices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, documents.Options{})
		p1 := e.point(t, "romashka-1", "ул. Советская, 3")
		p2 := e.point(t, "romashka-2", "ул. Советская, 5")
		e.org(1, "Ромашка", "6901234567", p1, p2)
		e.clk.Set(at(2026, 1, 25, 9))
		res, err := e.docs.Run(ctx, "2026-02")
		if err != nil || len(res.Issued) != 1 {
			t.Fatal(res, err)
		}
		inv := res.Issued[0] // 2400.00
		pay := func(acct int64, rub int64, ext string) int64 {
			var txn int64
			err := db.Write(ctx, func(tx *store.Tx) error {
				r, err := e.b.Credit(ctx, tx, acct, "bank", ext, money.Rub(rub), "", e.clk.Now())
				txn = r.TxnID
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return txn
		}
		// The bank import names the invoice: a part, then the rest; the same
		// payment applied twice counts once.
		e.clk.Set(at(2026, 1, 27, 10))
		t1 := pay(p1.AccountID, 1000, "pp-1")
		apply := func(txn int64, rub int64) documents.Document {
			var d documents.Document
			err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				d, err = e.docs.ApplyPaymentTx(ctx, tx, inv.ID, txn, money.Rub(rub))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := apply(t1, 1000); d.Status != documents.Issued || d.Paid != money.Rub(1000) {
			t.Errorf("after a part: %s paid %s", d.Status, d.Paid)
		}
		if d := apply(t1, 1000); d.Paid != money.Rub(1000) {
			t.Errorf("the same payment twice: paid %s", d.Paid)
		}
		// The rest comes in cash to the other point, naming nothing: Settle
		// counts it.
		pay(p2.AccountID, 1500, "cash-1")
		n, err := e.docs.Settle(ctx)
		if err != nil || n != 1 {
			t.Fatalf("settle: %d %v", n, err)
		}
		d, _ := e.docs.Get(ctx, inv.ID)
		if d.Status != documents.Paid || d.Paid != money.Rub(2400) {
			t.Errorf("after settle: %s paid %s", d.Status, d.Paid)
		}
		if n, _ := e.docs.Settle(ctx); n != 0 {
			t.Errorf("settle again: %d", n)
		}
		paid, _, _ := e.docs.List(ctx, documents.Filter{Kind: documents.Invoice, Status: documents.Paid})
		if len(paid) != 1 {
			t.Errorf("paid invoices: %d", len(paid))
		}
	})
}

// A company that pays ahead, before the invoice is issued, has the
// invoice marked paid; money that paid an earlier invoice does not count
// again, and what is left over pays the next one.
func TestPrepaymentCoversInvoice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, documents.Options{})
		p1 := e.point(t, "romashka-1", "ул. Советская, 3")
		e.org(1, "Ромашка", "6901234567", p1)
		pay := func(rub int64, ext string) {
			t.Helper()
			if err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := e.b.Credit(ctx, tx, p1.AccountID, "bank", ext, money.Rub(rub), "", e.clk.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		e.clk.Set(at(2026, 1, 20, 10))
		pay(1500, "ahead-1") // five days before February's invoice
		e.clk.Set(at(2026, 1, 25, 9))
		res, err := e.docs.Run(ctx, "2026-02")
		if err != nil || len(res.Issued) != 1 {
			t.Fatal(res, err)
		}
		feb := res.Issued[0] // 1200.00
		// March's invoice comes before anything is settled: one run
		// settles both, 300.00 left of the payment ahead going to March.
		e.clk.Set(at(2026, 2, 25, 9))
		res, err = e.docs.Run(ctx, "2026-03")
		if err != nil || len(res.Issued) != 1 {
			t.Fatal(res, err)
		}
		mar := res.Issued[0]
		if n, err := e.docs.Settle(ctx); err != nil || n != 1 {
			t.Fatalf("settle: %d %v", n, err)
		}
		if d, _ := e.docs.Get(ctx, feb.ID); d.Status != documents.Paid || d.Paid != feb.Total {
			t.Errorf("February's invoice paid ahead: %s paid %s of %s", d.Status, d.Paid, feb.Total)
		}
		if d, _ := e.docs.Get(ctx, mar.ID); d.Status == documents.Paid || d.Paid != money.Rub(300) {
			t.Errorf("March's invoice after 300.00 left over: %s paid %s", d.Status, d.Paid)
		}
		// 900.00 more in cash, after March's invoice.
		e.clk.Set(at(2026, 2, 27, 9))
		pay(900, "cash-2")
		if n, _ := e.docs.Settle(ctx); n != 1 {
			t.Errorf("March's invoice not paid by the rest")
		}
		if d, _ := e.docs.Get(ctx, mar.ID); d.Status != documents.Paid || d.Paid != mar.Total {
			t.Errorf("March's invoice: %s paid %s of %s", d.Status, d.Paid, mar.Total)
		}
	})
}

// A point that leaves the contract in the middle of a month is on that
// month's act with what it was charged until it left; what it is charged
// after, as a person's account, is not.
func TestFormerPointOnAct(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, documents.Options{})
		shop1 := e.point(t, "romashka-1", "ул. Советская, 3")
		shop2 := e.point(t, "romashka-2", "ул. Советская, 5")
		e.org(1, "Ромашка", "6901234567", shop1, shop2)
		e.billTo(t, at(2026, 2, 1, 0).Add(5*time.Minute))
		// 15 February: shop 2 leaves; on the 20th, its own now, it takes a
		// static IP.
		left := shop2
		left.Left = at(2026, 2, 15, 12)
		e.orgs[0].Points, e.orgs[0].Former = []documents.Point{shop1}, []documents.Point{left}
		e.clk.Set(at(2026, 2, 20, 10))
		e.connect(t, shop2.AccountID, "ip")
		e.billTo(t, at(2026, 3, 2, 9))
		res, err := e.docs.Run(ctx, "2026-02")
		if err != nil || res.Closing != 1 {
			t.Fatalf("run: %+v %v", res, err)
		}
		act := res.Issued[len(res.Issued)-1]
		want := charged(t, db, at(2026, 2, 1, 0), at(2026, 3, 1, 0), shop1.AccountID) + charged(t, db, at(2026, 2, 1, 0), left.Left, shop2.AccountID)
		if act.Kind != documents.Act || act.Total != want || want != money.Rub(2400) {
			t.Errorf("February's act: %s %s, want %s (both points' fees, not the IP taken after leaving)", act.Kind, act.Total, want)
		}
		data, err := e.docs.DataOf(ctx, act.ID)
		if err != nil || len(data.Lines) != 2 || !strings.Contains(data.Lines[1].Name, "ул. Советская, 5") {
			t.Errorf("act lines: %+v %v", data.Lines, err)
		}
		// March: shop 2 is gone for the whole month.
		e.billTo(t, at(2026, 4, 2, 9))
		res, err = e.docs.Run(ctx, "2026-03")
		if err != nil || res.Closing != 1 || res.Issued[len(res.Issued)-1].Total != money.Rub(1200) {
			t.Errorf("March's act: %+v %v", res, err)
		}
	})
}

func TestReconciliation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, documents.Options{})
		p1 := e.point(t, "romashka-1", "ул. Советская, 3")
		e.org(1, "Ромашка", "6901234567", p1)
		e.billTo(t, at(2026, 2, 1, 1))
		e.clk.Set(at(2026, 2, 10, 12))
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := e.b.Credit(ctx, tx, p1.AccountID, "bank", "777", money.Rub(3000), "", e.clk.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		e.billTo(t, at(2026, 3, 2, 9))
		if _, err := e.docs.Run(ctx, "2026-02"); err != nil {
			t.Fatal(err)
		}
		doc, err := e.docs.Reconcile(ctx, 1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := e.docs.DataOf(ctx, doc.ID)
		var bal int64
		db.QueryRow(ctx, `SELECT balance FROM ledger_accounts l JOIN accounts a ON a.ledger_id = l.id WHERE a.id = ?`, p1.AccountID).Scan(&bal)
		if data.Opening != 0 || data.Credits != money.Rub(3000) || data.Closing != money.Amount(-bal) || data.Debits != data.Closing+data.Credits {
			t.Errorf("reconciliation: opening %s debits %s credits %s closing %s; balance %d", data.Opening, data.Debits, data.Credits, data.Closing, bal)
		}
		text := pdfText(t, e, doc.ID, "Акт сверки", "взаимных расчётов за период: 01.01.2026 — 31.03.2026", "Сальдо начальное", "Обороты за период",
			"Сальдо конечное", "Оплата (п/п № 777)", "3 000,00", "Продажа (акт №", "По данным ООО «Ромашка»")
		found := false
		for _, en := range data.Entries {
			found = found || en.Text == "Продажа (акт № 2026-000001 от 28.02.2026)" && en.Date == "2026-02-28" && en.Debit == money.Rub(1200)
		}
		if !found {
			t.Errorf("February's services are not under their act: %+v", data.Entries)
		}
		_ = text
		// Another call is another document.
		again, err := e.docs.Reconcile(ctx, 1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC))
		if err != nil || again.Number != "2026-000002" {
			t.Errorf("second act: %+v %v", again, err)
		}
	})
}

func TestUPDWithoutVAT(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	e := newEnv(t, db, documents.Options{WithoutVAT: true, Closing: documents.UPD})
	e.org(1, "Ромашка", "6901234567", e.point(t, "romashka-1", "ул. Советская, 3"))
	e.clk.Set(at(2026, 1, 25, 9))
	res, err := e.docs.Run(ctx, "2026-02")
	if err != nil || len(res.Issued) != 1 {
		t.Fatal(res, err)
	}
	if res.Issued[0].VAT != 0 {
		t.Errorf("VAT %s without VAT", res.Issued[0].VAT)
	}
	pdfText(t, e, res.Issued[0].ID, "Без налога (НДС)", "Одна тысяча двести рублей 00 копеек")
	e.billTo(t, at(2026, 2, 1, 1))
	e.clk.Set(at(2026, 3, 1, 10))
	res, err = e.docs.Run(ctx, "2026-02")
	if err != nil || res.Closing != 1 || res.Issued[0].Kind != documents.UPD {
		t.Fatalf("%+v %v", res, err)
	}
	data, _ := e.docs.DataOf(ctx, res.Issued[0].ID)
	if data.UPDStatus != 2 {
		t.Errorf("UPD status %d without VAT, want 2", data.UPDStatus)
	}
	pdfText(t, e, res.Issued[0].ID, "Универсальный", "Статус:", "Счёт-фактура № 2026-000001 от 28.02.2026", "без НДС", "Всего к оплате", "1 200,00")
}

// TestNumbersConcurrent: two instances on PostgreSQL, each with two runs
// at once, issue every invoice once and number them 1..n without gaps.
func TestNumbersConcurrent(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db1, db2 := open(), open()
	e := newEnv(t, db1, documents.Options{})
	const n = 150 // more than a batch, so runs interleave
	var points []documents.Point
	for i := range n {
		points = append(points, e.point(t, fmt.Sprintf("org-%03d", i), ""))
	}
	for i := range n {
		e.org(int64(i+1), fmt.Sprintf("Org %d", i), fmt.Sprintf("69%08d", i), points[i])
	}
	e.clk.Set(at(2026, 1, 25, 9))
	other, err := documents.New(db2, e.clk, &e.orgs, fonts, documents.Options{Provider: config.Default().Provider.WithDemoDetails(), Zone: msk})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	issued := make([]int, 4)
	errs := make([]error, 4)
	for i, s := range []*documents.Service{e.docs, e.docs, other, other} {
		wg.Go(func() {
			r, err := s.Run(ctx, "2026-02")
			issued[i], errs[i] = r.Invoices, err
		})
	}
	wg.Wait()
	total := 0
	for i := range issued {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		total += issued[i]
	}
	if total != n {
		t.Errorf("issued %d invoices in all, want %d (%v)", total, n, issued)
	}
	var count, maxSeq, distinct int64
	db1.QueryRow(ctx, `SELECT COUNT(*), MAX(seq), COUNT(DISTINCT org_id) FROM documents WHERE kind = 'invoice' AND year = 2026`).Scan(&count, &maxSeq, &distinct)
	if count != n || maxSeq != n || distinct != n {
		t.Errorf("%d invoices, highest number %d, %d organisations; want %d of each", count, maxSeq, distinct, n)
	}
}

func TestSend(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	e := newEnv(t, db, documents.Options{})
	e.org(1, "Ромашка", "6901234567", e.point(t, "romashka-1", "ул. Советская, 3"))
	e.clk.Set(at(2026, 1, 25, 9))
	res, err := e.docs.Run(ctx, "2026-02")
	if err != nil || len(res.Issued) != 1 {
		t.Fatal(res, err)
	}
	if err := e.docs.Send(ctx, []int64{res.Issued[0].ID}, "", "ru"); err == nil {
		t.Error("sent without a mailer")
	}
	sender := &captured{}
	e.docs.Mailer = notify.New(db, e.clk, sender, e.b, notify.Options{From: "docs@set-region.example", Provider: config.Default().Provider.WithDemoDetails()})
	if err := e.docs.Send(ctx, []int64{res.Issued[0].ID}, "", "ru"); err != nil {
		t.Fatal(err)
	}
	d, _ := e.docs.Get(ctx, res.Issued[0].ID)
	if d.Status != documents.Sent || d.SentAt.IsZero() {
		t.Errorf("after send: %s", d.Status)
	}
	sent, _, err := e.docs.Mailer.(*notify.Notifier).Deliver(ctx)
	if err != nil || sent != 1 {
		t.Fatalf("delivered %d: %v", sent, err)
	}
	msg := string(sender.msgs[0])
	for _, w := range []string{"multipart/mixed", `filename="invoice-2026-000001.pdf"`, "Content-Type: application/pdf", "JVBERi0"} {
		if !strings.Contains(msg, w) {
			t.Errorf("letter lacks %q", w)
		}
	}
	if sender.to[0] != "6901234567@example.org" {
		t.Errorf("sent to %s", sender.to[0])
	}
}

type captured struct {
	mu   sync.Mutex
	to   []string
	msgs [][]byte
}

func (c *captured) Send(_ context.Context, _ string, to []string, msg []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.to = append(c.to, to...)
	c.msgs = append(c.msgs, msg)
	return nil
}
