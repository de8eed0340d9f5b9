package company_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

var (
	msk      = billing.DefaultRules().Zone
	cli      = operator.Actor{Login: "cli"}
	fastHash = password.Hash("secret-pass")
	// Our account at Sberbank, as the statements name it.
	ours = "40702810938000000001"
)

type env struct {
	db  *store.DB
	clk *clock.Fake
	b   *billing.Biller
	dir *subscriber.Directory
	svc *company.Service
}

func newEnv(t testing.TB, db *store.DB, start time.Time) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(start)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	dir := subscriber.New(db, clk, sealer, b)
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "office", Name: "Офис 100", Fee: money.Rub(1000), DownKbps: 100000, UpKbps: 100000, Public: true}, start); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, clk: clk, b: b, dir: dir, svc: company.New(db, clk, b, dir)}
}

func romashka() company.Details {
	return company.Details{FullName: "Общество с ограниченной ответственностью «Ромашка»", ShortName: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001",
		OGRN: "1027700132195", BIK: "044525225", SettlementAccount: "40702810100000000091", CorrAccount: "30101810400000000225",
		Email: "buh@romashka.example", Director: "Иванов И. И."}
}

func (e *env) point(t testing.TB, org int64, login string) subscriber.Account {
	t.Helper()
	a, err := e.svc.CreatePoint(context.Background(), cli, org, subscriber.NewAccount{Login: login, Password: "secret-pass", PasswordHash: fastHash, Tariff: "office", Address: "ул. Ленина, " + login}, login)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) verify(t testing.TB) {
	t.Helper()
	probs, err := ledger.Verify(context.Background(), e.db)
	if err != nil || len(probs) > 0 {
		t.Fatalf("ledger verify: %v %v", probs, err)
	}
}

func statement(t testing.TB, docs ...company.BankDocument) []byte {
	t.Helper()
	var buf bytes.Buffer
	for i := range docs {
		if docs[i].RecipientAccount == "" {
			docs[i].RecipientAccount = ours
		}
		if docs[i].Received == "" && docs[i].RecipientAccount == ours {
			docs[i].Received = docs[i].Date
		}
	}
	if err := company.Write1C(&buf, ours, time.Date(2026, 12, 1, 0, 0, 0, 0, msk), time.Date(2026, 12, 31, 0, 0, 0, 0, msk), docs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) importFile(t testing.TB, file []byte) company.ImportReport {
	t.Helper()
	rep, err := e.svc.ImportStatement(context.Background(), cli, "statement.txt", bytes.NewReader(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestOrganisations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 15, 12, 0, 0, 0, msk))
		o, err := e.svc.Create(ctx, cli, romashka())
		if err != nil {
			t.Fatal(err)
		}
		if o.ContractNo != "К-2026-00001" || o.ContractDate != "2026-12-15" || o.Kind != company.KindLegal || o.LedgerID == 0 {
			t.Errorf("created %+v", o)
		}
		if _, err := e.svc.Create(ctx, cli, romashka()); !errors.Is(err, derrors.Conflict) {
			t.Errorf("the same INN and KPP again: %v", err)
		}
		branch := romashka()
		branch.KPP, branch.ShortName = "773602001", "Ромашка, филиал"
		if _, err := e.svc.Create(ctx, cli, branch); err != nil {
			t.Errorf("a branch with its own KPP: %v", err)
		}
		ip := company.Details{FullName: "ИП Петров Пётр Петрович", INN: "500100732259", OGRN: "304500116000157"}
		if _, err := e.svc.Create(ctx, cli, ip); err != nil {
			t.Fatal(err)
		}
		bad := romashka()
		bad.INN = "7707083894"
		if _, err := e.svc.Create(ctx, cli, bad); derrors.Field(err) != "inn" || derrors.Code(err) != company.CodeINN {
			t.Errorf("bad INN: %v", err)
		}
		got, err := e.svc.ByINN(ctx, "7707083893")
		if err != nil || got.ID != o.ID {
			t.Errorf("by INN: %+v %v", got, err)
		}
		if _, err := e.svc.ByINN(ctx, "7736050003"); !errors.Is(err, derrors.NotFound) {
			t.Errorf("unknown INN: %v", err)
		}
		for q, want := range map[string]int{"РОМАШ": 2, "петров": 1, "770708": 2, "": 3, "нет такой": 0} {
			page, err := e.svc.List(ctx, company.Query{Q: q})
			if err != nil || page.Total != want || len(page.Items) != want {
				t.Errorf("search %q: %d of %d, %v; want %d", q, len(page.Items), page.Total, err, want)
			}
		}
		page, _ := e.svc.List(ctx, company.Query{Limit: 2, Offset: 2})
		if page.Total != 3 || len(page.Items) != 1 {
			t.Errorf("second page: %d of %d", len(page.Items), page.Total)
		}
		d := o.Details
		d.Email = "docs@romashka.example"
		d.BalanceMode = company.BalancePoints
		if _, err := e.svc.Update(ctx, cli, o.ID, d); err != nil {
			t.Fatal(err)
		}
		got, _ = e.svc.Get(ctx, o.ID)
		if got.Email != "docs@romashka.example" || got.BalanceMode != company.BalancePoints || got.ContractNo != o.ContractNo {
			t.Errorf("updated %+v", got)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE object = ? AND action IN ('company.create', 'company.update')`, "organisation:"+strconv.FormatInt(o.ID, 10)).Scan(&n)
		if n != 2 {
			t.Errorf("%d audit entries, want 2", n)
		}
	})
}

// One balance for the contract: the points' fees are covered from it all
// together or not at all, debt limits every point, a payment that covers
// it lifts every limit; the books stay whole.
func TestContractBalance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 15, 12, 0, 0, 0, msk))
		o, err := e.svc.Create(ctx, cli, romashka())
		if err != nil {
			t.Fatal(err)
		}
		p1, p2 := e.point(t, o.ID, "shop-1"), e.point(t, o.ID, "shop-2")
		points, err := e.svc.Points(ctx, o.ID)
		if err != nil || len(points) != 2 || points[0].AccountID != p1.ID || points[1].TariffCode != "office" {
			t.Fatalf("points %+v %v", points, err)
		}
		if org, found, _ := e.svc.OrganisationOf(ctx, p2.ID); !found || org.ID != o.ID {
			t.Errorf("organisation of point 2: %v %+v", found, org)
		}
		balance := func(want company.Balance) {
			t.Helper()
			b, err := e.svc.Balance(ctx, o.ID)
			if err != nil || b.Contract != want.Contract || b.Points != want.Points || b.Total != want.Contract+want.Points {
				t.Errorf("balance %+v %v, want %+v", b, err, want)
			}
		}
		balance(company.Balance{Contract: 0, Points: -money.Rub(2000)})
		pay := func(no string, rub int64) {
			t.Helper()
			rep := e.importFile(t, statement(t, company.BankDocument{Number: no, Date: e.clk.Now().In(msk).Format("2006-01-02"), Amount: money.Rub(rub),
				PayerAccount: "40702810100000000091", PayerINN: "7707083893", PayerKPP: "773601001", PayerName: "ООО «Ромашка»", Purpose: "Оплата услуг связи. НДС не облагается"}))
			if rep.Credited != 1 {
				t.Fatalf("payment %s: %+v", no, rep)
			}
		}
		pay("11", 1500) // not enough for both: none covered
		balance(company.Balance{Contract: money.Rub(1500), Points: -money.Rub(2000)})
		pay("12", 600)
		balance(company.Balance{Contract: money.Rub(100), Points: 0})
		// January: both charged; 100 covers neither. February: the debt
		// is overdue and limits both points.
		e.clk.Set(time.Date(2027, 1, 1, 0, 5, 0, 0, msk))
		if _, err := e.b.Run(ctx, e.clk.Now(), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.PoolAll(ctx); err != nil {
			t.Fatal(err)
		}
		balance(company.Balance{Contract: money.Rub(100), Points: -money.Rub(2000)})
		e.clk.Set(time.Date(2027, 2, 1, 0, 5, 0, 0, msk))
		if _, err := e.b.Run(ctx, e.clk.Now(), nil); err != nil {
			t.Fatal(err)
		}
		status := func(want string) {
			t.Helper()
			for _, p := range []int64{p1.ID, p2.ID} {
				a, _ := e.dir.ByID(ctx, p)
				if a.Status != want {
					t.Errorf("point %s is %s, want %s", a.Login, a.Status, want)
				}
			}
		}
		status(billing.StatusLimited)
		debtors, err := e.svc.Debtors(ctx, 0)
		if err != nil || len(debtors) != 1 || debtors[0].Balance.Total != -money.Rub(3900) {
			t.Errorf("debtors %+v %v", debtors, err)
		}
		pay("13", 3900)
		status(billing.StatusActive)
		balance(company.Balance{Contract: 0, Points: 0})
		if debtors, _ := e.svc.Debtors(ctx, 0); len(debtors) != 0 {
			t.Errorf("debtors after paying: %+v", debtors)
		}
		e.verify(t)
	})
}

// Separate balances: a point's own payment stays on it; money on the
// contract covers the points' debts one by one.
func TestPointsBalance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 15, 12, 0, 0, 0, msk))
		d := romashka()
		d.BalanceMode = company.BalancePoints
		o, err := e.svc.Create(ctx, cli, d)
		if err != nil {
			t.Fatal(err)
		}
		e.point(t, o.ID, "shop-1")
		e.point(t, o.ID, "shop-2")
		e.importFile(t, statement(t, company.BankDocument{Number: "1", Date: "2026-12-15", Amount: money.Rub(1500), PayerAccount: "40702810100000000091", PayerINN: "7707083893"}))
		points, _ := e.svc.Points(ctx, o.ID)
		b, _ := e.svc.Balance(ctx, o.ID)
		if points[0].Balance != 0 || points[1].Balance != -money.Rub(1000) || b.Contract != money.Rub(500) {
			t.Errorf("points %d, %d, contract %d", points[0].Balance, points[1].Balance, b.Contract)
		}
		e.verify(t)
	})
}

type fakeInvoices struct {
	mu   sync.Mutex
	org  int64
	paid []string
}

func (f *fakeInvoices) InvoiceByNumber(ctx context.Context, tx *store.Tx, number string) (company.Invoice, bool, error) {
	if strings.EqualFold(number, "СЧ-2026-000123") {
		return company.Invoice{ID: 123, Number: "СЧ-2026-000123", OrganisationID: f.org, Amount: money.Rub(2000)}, true, nil
	}
	return company.Invoice{}, false, nil
}

func (f *fakeInvoices) Numbers(string) []string { return nil }

func (f *fakeInvoices) InvoicePaid(ctx context.Context, tx *store.Tx, inv company.Invoice, paymentID int64, amount money.Amount) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paid = append(f.paid, inv.Number+" "+amount.Decimal())
	return nil
}

// A statement is credited once however often it is imported; a payment
// that matches nothing waits to be sorted, then is assigned once, audited.
func TestBankImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 20, 12, 0, 0, 0, msk))
		o, err := e.svc.Create(ctx, cli, romashka())
		if err != nil {
			t.Fatal(err)
		}
		inv := &fakeInvoices{org: o.ID}
		e.svc.SetInvoices(inv)
		file := statement(t,
			company.BankDocument{Number: "501", Date: "2026-12-18", Amount: amt("1999.99"), PayerAccount: "40702810100000000091", PayerINN: "7707083893",
				PayerName: "ООО «Ромашка»", Purpose: "Оплата по счёту № СЧ-2026-000123 от 10.12.2026 за услуги связи, в т.ч. НДС 22%"},
			// A third party pays the invoice: the invoice decides.
			company.BankDocument{Number: "77", Date: "2026-12-18", Amount: money.Rub(10), PayerAccount: "40702810700000012345", PayerINN: "7736050003",
				Purpose: "за ООО Ромашка по сч. СЧ-2026-000123"},
			company.BankDocument{Number: "9", Date: "2026-12-19", Amount: money.Rub(300), PayerAccount: "40817810000000000001", PayerINN: "",
				PayerName: "Сидоров С. С.", Purpose: "за интернет"},
			// Ours to someone else: not an incoming payment.
			company.BankDocument{Number: "1000", Date: "2026-12-19", Amount: money.Rub(5000), PayerAccount: ours, RecipientAccount: "40702810700000012345",
				PayerINN: "7701234567", Purpose: "аренда"},
		)
		rep := e.importFile(t, file)
		if rep.Documents != 4 || rep.Outgoing != 1 || rep.Credited != 2 || rep.Invoices != 2 || rep.Unsorted != 1 || rep.CreditedAmount != amt("2009.99") {
			t.Errorf("first import %+v", rep)
		}
		again := e.importFile(t, file)
		if again.Credited != 0 || again.Duplicates != 3 || again.Unsorted != 0 {
			t.Errorf("second import %+v", again)
		}
		if len(inv.paid) != 2 || inv.paid[0] != "СЧ-2026-000123 1999.99" {
			t.Errorf("invoices told %v", inv.paid)
		}
		b, _ := e.svc.Balance(ctx, o.ID)
		if b.Total != amt("2009.99") {
			t.Errorf("balance %+v", b)
		}
		list, total, err := e.svc.Unsorted(ctx, 0, 0)
		if err != nil || total != 1 || list[0].PayerName != "Сидоров С. С." {
			t.Fatalf("unsorted %+v %d %v", list, total, err)
		}
		op := operator.Actor{ID: 0, Login: "anna"}
		if err := e.svc.Assign(ctx, op, list[0].ID, o.ID, "звонил бухгалтер"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Assign(ctx, op, list[0].ID, o.ID, ""); !errors.Is(err, company.ErrSorted) {
			t.Errorf("assigned twice: %v", err)
		}
		b, _ = e.svc.Balance(ctx, o.ID)
		if b.Total != amt("2309.99") {
			t.Errorf("balance after assigning %+v", b)
		}
		pays, _ := e.svc.Payments(ctx, o.ID, 0)
		if len(pays) != 3 || pays[0].AssignedBy != "anna" {
			t.Errorf("organisation's payments %+v", pays)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'company.bank_assign' AND operator_login = 'anna' AND note = 'звонил бухгалтер'`).Scan(&n)
		if n != 1 {
			t.Errorf("%d assign audit entries", n)
		}
		e.verify(t)
	})
}

// Two imports of the same statement at once (two operators, two
// instances): each payment is credited once.
func TestBankImportConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 20, 12, 0, 0, 0, msk))
		o, err := e.svc.Create(ctx, cli, romashka())
		if err != nil {
			t.Fatal(err)
		}
		var docs []company.BankDocument
		for i := range 2500 {
			docs = append(docs, company.BankDocument{Number: strings.Repeat("1", 1+i%3) + "-" + itoa(i), Date: "2026-12-18", Amount: money.Rub(1),
				PayerAccount: "40702810100000000091", PayerINN: "7707083893", Purpose: "оплата"})
		}
		file := statement(t, docs...)
		// A second service over its own pool: another instance.
		db2, err := store.Open(ctx, db.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		svc2 := company.New(db2, e.clk, billing.New(db2, e.clk, billing.DefaultRules()), nil)
		var wg sync.WaitGroup
		reps := make([]company.ImportReport, 2)
		errs := make([]error, 2)
		for i, s := range []*company.Service{e.svc, svc2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[i], errs[i] = s.ImportStatement(ctx, cli, "same.txt", bytes.NewReader(file), nil)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		if c := reps[0].Credited + reps[1].Credited; c != 2500 || reps[0].Duplicates+reps[1].Duplicates != 2500 {
			t.Errorf("credited %d: %+v %+v", c, reps[0], reps[1])
		}
		b, _ := e.svc.Balance(ctx, o.ID)
		if b.Total != money.Rub(2500) {
			t.Errorf("balance %s", b.Total.Decimal())
		}
		e.verify(t)
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func amt(s string) money.Amount {
	a, err := money.Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

func TestEmployees(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 20, 12, 0, 0, 0, msk))
		o, _ := e.svc.Create(ctx, cli, romashka())
		if _, err := e.svc.AddEmployee(ctx, cli, o.ID, "ivanov", "Иванов", "secret-pass"); derrors.Field(err) != "login" {
			t.Errorf("a login that is not an e-mail: %v", err)
		}
		em, err := e.svc.AddEmployee(ctx, cli, o.ID, "Buh@Romashka.example", "Главный бухгалтер", "secret-pass")
		if err != nil || em.Login != "buh@romashka.example" {
			t.Fatalf("%+v %v", em, err)
		}
		if _, err := e.svc.AddEmployee(ctx, cli, o.ID, "buh@romashka.example", "", "secret-pass"); !errors.Is(err, derrors.Conflict) {
			t.Errorf("the same login twice: %v", err)
		}
		if got, err := e.svc.Authenticate(ctx, "BUH@romashka.example ", "secret-pass"); err != nil || got.OrganisationID != o.ID {
			t.Errorf("login: %+v %v", got, err)
		}
		if _, err := e.svc.Authenticate(ctx, "buh@romashka.example", "wrong-pass"); !errors.Is(err, company.ErrBadPassword) {
			t.Errorf("wrong password: %v", err)
		}
		if err := e.svc.SetEmployeeActive(ctx, cli, o.ID, em.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, "buh@romashka.example", "secret-pass"); !errors.Is(err, company.ErrBadPassword) {
			t.Errorf("inactive employee: %v", err)
		}
		list, _ := e.svc.Employees(ctx, o.ID)
		if len(list) != 1 || list[0].Active {
			t.Errorf("employees %+v", list)
		}
	})
}

// Two instances settling the same contract at once (serve's minute loop on
// each): every point is covered once and the books stay whole.
func TestPoolTwoInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 15, 12, 0, 0, 0, msk))
		o, err := e.svc.Create(ctx, cli, romashka())
		if err != nil {
			t.Fatal(err)
		}
		for _, login := range []string{"shop-1", "shop-2", "shop-3"} {
			e.point(t, o.ID, login)
		}
		// Money reaches the contract's account without a Pool, as a
		// transfer an instance has not settled yet.
		err = db.Write(ctx, func(tx *store.Tx) error {
			cash, err := ledger.Account(ctx, tx, ledger.CashCode("bank"), ledger.KindCash)
			if err != nil {
				return err
			}
			_, err = ledger.Post(ctx, tx, ledger.Txn{Key: "test:contract", Kind: ledger.TxnPayment, Amount: money.Rub(3500),
				Postings: []ledger.Posting{{LedgerAccountID: o.LedgerID, Amount: money.Rub(3500)}, {LedgerAccountID: cash, Amount: -money.Rub(3500)}}}, e.clk.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		db2, err := store.Open(ctx, db.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		svc2 := company.New(db2, e.clk, billing.New(db2, e.clk, billing.DefaultRules()), nil)
		var wg sync.WaitGroup
		moves := make([]int, 2)
		errs := make([]error, 2)
		for i, s := range []*company.Service{e.svc, svc2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				moves[i], errs[i] = s.PoolAll(ctx)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || moves[0]+moves[1] != 3 {
			t.Fatalf("moves %v, errors %v", moves, errs)
		}
		b, _ := e.svc.Balance(ctx, o.ID)
		if b.Contract != money.Rub(500) || b.Points != 0 {
			t.Errorf("balance %+v", b)
		}
		e.verify(t)
	})
}

// A point leaves the contract (a branch closes and the line passes to a
// person): the contract settles with it first; one in debt the contract
// cannot cover stays, as that debt is the company's; once out it is an
// ordinary account that another company may take.
func TestDetachPoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 15, 12, 0, 0, 0, msk))
		o, err := e.svc.Create(ctx, cli, romashka())
		if err != nil {
			t.Fatal(err)
		}
		p1, p2 := e.point(t, o.ID, "shop-1"), e.point(t, o.ID, "shop-2")
		// Both points charged 1,000 on signing and nothing paid: in debt.
		if err := e.svc.DetachPoint(ctx, cli, o.ID, p1.ID); !errors.Is(err, company.ErrPointDebt) {
			t.Fatalf("detaching a point in debt: %v", err)
		}
		if points, _ := e.svc.Points(ctx, o.ID); len(points) != 2 {
			t.Fatalf("a refused detach changed the points: %d", len(points))
		}
		rep := e.importFile(t, statement(t, company.BankDocument{Number: "21", Date: "2026-12-15", Amount: money.Rub(2500),
			PayerAccount: "40702810100000000091", PayerINN: "7707083893", PayerKPP: "773601001", PayerName: "ООО «Ромашка»", Purpose: "Оплата услуг связи"}))
		if rep.Credited != 1 {
			t.Fatalf("payment: %+v", rep)
		}
		if org, ok, err := e.svc.PointOrg(ctx, p1.ID); err != nil || !ok || org != o.ID {
			t.Errorf("PointOrg before the detach: %d %v %v", org, ok, err)
		}
		if err := e.svc.DetachPoint(ctx, cli, o.ID, p1.ID); err != nil {
			t.Fatalf("detach: %v", err)
		}
		if _, ok, _ := e.svc.PointOrg(ctx, p1.ID); ok {
			t.Error("PointOrg still names the organisation after the detach")
		}
		if gone, err := e.svc.Departures(ctx, e.clk.Now().Add(-time.Hour)); err != nil || len(gone[o.ID]) != 1 || gone[o.ID][0].AccountID != p1.ID ||
			!gone[o.ID][0].LeftAt.Equal(e.clk.Now()) || gone[o.ID][0].Label != "shop-1" {
			t.Errorf("departures: %+v %v", gone, err)
		}
		points, err := e.svc.Points(ctx, o.ID)
		if err != nil || len(points) != 1 || points[0].AccountID != p2.ID {
			t.Fatalf("points after the detach: %+v %v", points, err)
		}
		if _, found, _ := e.svc.OrganisationOf(ctx, p1.ID); found {
			t.Error("the detached account still names the organisation")
		}
		if s, _ := e.b.Summary(ctx, p1.ID); s.Balance != 0 {
			t.Errorf("the detached point's balance %s, want 0 (its debt was covered by the contract)", s.Balance.Decimal())
		}
		if b, _ := e.svc.Balance(ctx, o.ID); b.Contract != money.Rub(500) || b.Points != 0 {
			t.Errorf("the contract after the detach: %+v", b)
		}
		if err := e.svc.DetachPoint(ctx, cli, o.ID, p1.ID); !errors.Is(err, company.ErrNotPoint) || !errors.Is(err, derrors.NotFound) {
			t.Errorf("detaching it again: %v", err)
		}
		entries, err := operator.New(db, e.clk).Search(ctx, operator.AuditQuery{Action: "company.point_remove"})
		if err != nil || len(entries) != 1 || entries[0].Object != fmt.Sprintf("organisation:%d", o.ID) {
			t.Errorf("audit %+v %v", entries, err)
		}
		other := romashka()
		other.INN, other.KPP, other.OGRN, other.ShortName = "7736207543", "773601001", "1027700229193", "ООО «Лютик»"
		o2, err := e.svc.Create(ctx, cli, other)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.AttachPoint(ctx, cli, o2.ID, p1.ID, "бывшая shop-1"); err != nil {
			t.Errorf("attaching the detached account to another company: %v", err)
		}
		e.verify(t)
	})
}
