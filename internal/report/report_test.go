package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/report"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

func TestReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testReports(t, db) })
}

func testReports(t *testing.T, db *store.DB) {
	ctx := context.Background()
	msk := billing.DefaultRules().Zone
	clk := clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, msk))
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	dir := subscriber.New(db, clk, sealer, b)
	pay := payment.NewService(db, clk, b, nil, payment.Options{})
	for _, tr := range []billing.Tariff{
		{Code: "a", Name: "Дом 100", Fee: money.Rub(300), DownKbps: 1000, UpKbps: 1000, Public: true},
		{Code: "b", Name: "Дом 300", Fee: money.Rub(800), DownKbps: 1000, UpKbps: 1000, Public: true},
	} {
		if _, err := billing.AddTariff(ctx, db, tr, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]int64{}
	// A name or phone a spreadsheet would run as a formula must reach the
	// CSV as text.
	for _, x := range []struct{ login, tariff, name string }{{"one", "a", "Один"}, {"two", "a", "=HYPERLINK(\"http://evil\";\"x\")"}, {"three", "b", "Три"}} {
		a, err := dir.Create(ctx, subscriber.NewAccount{Login: x.login, Name: x.name, Password: "secret-pass", Tariff: x.tariff, Phone: "+7 900 " + x.login})
		if err != nil {
			t.Fatal(err)
		}
		ids[x.login] = a.ID
	}
	// Dec 1 23:30 Moscow is still Dec 1 there, Dec 1 20:30 UTC.
	clk.Set(time.Date(2026, 12, 1, 23, 30, 0, 0, msk))
	if _, err := pay.CashPayment(ctx, payment.CashIn{AccountID: ids["one"], Amount: money.Rub(300), Operator: "kassa", Receipt: "1"}); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 12, 2, 0, 30, 0, 0, msk))
	if _, err := pay.CashPayment(ctx, payment.CashIn{AccountID: ids["three"], Amount: money.Rub(1000), Operator: "kassa", Receipt: "2"}); err != nil {
		t.Fatal(err)
	}
	jan := time.Date(2027, 1, 1, 0, 5, 0, 0, msk)
	clk.Set(jan)
	if _, err := b.Run(ctx, jan, nil); err != nil {
		t.Fatal(err)
	}
	r := report.New(db, msk)

	pays, err := r.PaymentsByChannelDay(ctx, time.Date(2026, 12, 1, 0, 0, 0, 0, msk), jan)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	report.WriteCSV(&buf, report.PaymentsTable(pays), "ru")
	if want := "\ufeffday;channel;count;amount\r\n2026-12-01;cash;1;300,00\r\n2026-12-02;cash;1;1000,00\r\n"; buf.String() != want {
		t.Errorf("payments CSV:\n%s\nwant\n%s", buf.String(), want)
	}

	charges, err := r.ChargesByTariffMonth(ctx, "2026-12", "2027-01")
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	report.WriteCSV(&buf, report.ChargesTable(charges), "en")
	want := "\ufeffperiod,service,name,count,amount\r\n2026-12,a,Дом 100,2,600.00\r\n2026-12,b,Дом 300,1,800.00\r\n2027-01,a,Дом 100,2,600.00\r\n2027-01,b,Дом 300,1,800.00\r\n"
	if buf.String() != want {
		t.Errorf("charges CSV:\n%s\nwant\n%s", buf.String(), want)
	}

	arpu, err := r.ARPUFor(ctx, "2027-01")
	if err != nil || arpu.Accounts != 3 || arpu.Revenue != money.Rub(1400) || arpu.ARPU != money.Amount(46666) {
		t.Errorf("ARPU: %+v %v", arpu, err)
	}

	st, err := r.SubscribersByStatusTariff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	report.WriteCSV(&buf, report.SubscribersTable(st), "ru")
	// "two" paid nothing since Dec 1: limited on Jan 1; "one" owes since Jan 1.
	if want := "\ufefftariff;name;status;count\r\na;Дом 100;active;1\r\na;Дом 100;limited;1\r\nb;Дом 300;active;1\r\n"; buf.String() != want {
		t.Errorf("subscribers CSV:\n%s\nwant\n%s", buf.String(), want)
	}

	debt, err := r.Debt(ctx)
	if err != nil || debt.Debtors != 3 || debt.Total != money.Rub(300+600+600) {
		t.Errorf("debt: %+v %v", debt, err)
	}
	clk.Set(time.Date(2027, 1, 11, 12, 0, 0, 0, msk))
	debtors, err := r.Debtors(ctx, clk.Now(), 0)
	if err != nil || len(debtors) != 3 {
		t.Fatalf("debtors: %+v %v", debtors, err)
	}
	if d := debtors[0]; d.Login != "two" || d.DaysInDebt != 41 || d.Balance != money.Rub(-600) {
		t.Errorf("longest debtor: %+v", d)
	}
	limited, err := r.Limited(ctx, clk.Now(), 0)
	if err != nil || len(limited) != 1 || limited[0].Login != "two" || limited[0].LimitedSince.IsZero() {
		t.Errorf("limited: %+v %v", limited, err)
	}
	// The back office's pages sort in the database the same way on each:
	// an account without a date sorts as zero days or the zero time.
	for _, tc := range []struct {
		q           report.DebtorQuery
		first, last string // logins on the page
		rows        int
	}{
		{report.DebtorQuery{Sort: "days", Desc: true}, "two", "", 3},
		{report.DebtorQuery{Sort: "days"}, "", "two", 3},
		{report.DebtorQuery{Sort: "limited", Desc: true}, "two", "", 3},
		{report.DebtorQuery{Sort: "limited"}, "", "two", 3},
		{report.DebtorQuery{Sort: "days", Desc: true, Offset: 1, Limit: 5}, "", "", 2},
	} {
		page, total, err := r.DebtorsPage(ctx, clk.Now(), tc.q)
		if err != nil || total != 3 || len(page) != tc.rows || (tc.first != "" && page[0].Login != tc.first) || (tc.last != "" && page[len(page)-1].Login != tc.last) {
			t.Errorf("debtors page %+v: %+v of %d, %v", tc.q, page, total, err)
		}
	}
	if page, total, err := r.LimitedPage(ctx, clk.Now(), report.DebtorQuery{Sort: "balance"}); err != nil || total != 1 || len(page) != 1 || page[0].Login != "two" {
		t.Errorf("limited page: %+v of %d, %v", page, total, err)
	}
	buf.Reset()
	report.WriteCSV(&buf, report.DebtorsTable(debtors, msk), "ru")
	if !strings.HasPrefix(buf.String(), "\ufefflogin;contract;name;phone;status;balance;debt_since;days_in_debt;limited_since\r\ntwo;") ||
		!strings.Contains(buf.String(), ";\"'=HYPERLINK(\"\"http://evil\"\";\"\"x\"\")\";'+7 900 two;limited;-600,00;") {
		t.Errorf("debtors CSV:\n%s", buf.String())
	}
}
