package documents_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// TestBankStatementPaysInvoice: an organisation of internal/company gets
// its invoice; a 1C statement whose purpose names the invoice credits the
// organisation and marks the invoice paid; the same statement again
// credits nothing and counts nothing twice.
func TestBankStatementPaysInvoice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, documents.Options{})
		co := company.New(db, e.clk, e.b, e.subs)
		actor := operator.Actor{Login: "test"}
		org, err := co.Create(ctx, actor, company.Details{FullName: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001", LegalAddress: "г. Тверь, ул. Советская, 1",
			Email: "buh@romashka.example", ContractNo: "К-2026-00001", ContractDate: "2026-01-09"})
		if err != nil {
			t.Fatal(err)
		}
		for _, login := range []string{"romashka-1", "romashka-2"} {
			if _, err := co.CreatePoint(ctx, actor, org.ID, subscriber.NewAccount{Login: login, Password: "secret-pass", PasswordHash: hash, Tariff: "biz100", Address: "ул. Советская, 1"}, "Магазин"); err != nil {
				t.Fatal(err)
			}
		}
		opts := documents.Options{Provider: config.Default().Provider.WithDemoDetails(), Zone: msk}
		s, err := documents.New(db, e.clk, documents.Companies{C: co}, fonts, opts)
		if err != nil {
			t.Fatal(err)
		}
		co.SetInvoices(s.BankInvoices())
		e.clk.Set(at(2026, 1, 25, 9))
		res, err := s.Run(ctx, "2026-02")
		if err != nil || res.Invoices != 1 {
			t.Fatalf("run: %+v %v", res, err)
		}
		inv := res.Issued[0]
		if inv.Total != money.Rub(2400) || inv.OrgINN != "7707083893" {
			t.Fatalf("invoice %+v", inv)
		}
		data, _ := s.DataOf(ctx, inv.ID)
		if data.Buyer.Name != "ООО «Ромашка»" || data.Basis != "Договор № К-2026-00001 от 09.01.2026" || len(data.Lines) != 2 {
			t.Errorf("invoice data: %+v", data)
		}
		e.clk.Set(at(2026, 1, 28, 11))
		doc := company.BankDocument{Kind: company.KindPaymentOrder, Number: "123", Date: "2026-01-28", Received: "2026-01-28", Amount: money.Rub(2400),
			PayerINN: "7707083893", PayerKPP: "773601001", PayerName: "ООО «Ромашка»", PayerAccount: "40702810938000000001", PayerBIK: "044525225",
			RecipientAccount: opts.Provider.Account, RecipientINN: opts.Provider.INN, Purpose: "Оплата по счёту № 2026-000001 от 25.01.2026 за услуги связи. В т.ч. НДС 22% 432,79"}
		var file bytes.Buffer
		if err := company.Write1C(&file, opts.Provider.Account, at(2026, 1, 28, 0), at(2026, 1, 28, 0), []company.BankDocument{doc}); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			rep, err := co.ImportStatement(ctx, actor, "kl_to_1c.txt", bytes.NewReader(file.Bytes()), []string{opts.Provider.Account})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && (rep.Credited != 1 || rep.Invoices != 1) || i == 1 && (rep.Credited != 0 || rep.Duplicates != 1) {
				t.Errorf("import %d: %+v", i+1, rep)
			}
			d, _ := s.Get(ctx, inv.ID)
			if d.Status != documents.Paid || d.Paid != money.Rub(2400) {
				t.Errorf("after import %d: %s, paid %s", i+1, d.Status, d.Paid)
			}
		}
		// March's invoice, paid by someone else (an unknown INN) naming
		// only its bare number: found by the number alone.
		e.clk.Set(at(2026, 2, 25, 9))
		res, err = s.Run(ctx, "2026-03")
		if err != nil || res.Invoices != 1 {
			t.Fatalf("run: %+v %v", res, err)
		}
		march := res.Issued[0]
		doc = company.BankDocument{Kind: company.KindPaymentOrder, Number: "77", Date: "2026-02-26", Received: "2026-02-26", Amount: money.Rub(2400),
			PayerINN: "7700000006", PayerName: "ООО «Управляющая компания»", PayerAccount: "40702810938000000077", PayerBIK: "044525225",
			RecipientAccount: opts.Provider.Account, RecipientINN: opts.Provider.INN, Purpose: "Оплата " + march.Number + " за ООО «Ромашка», НДС 22% 432,79"}
		file.Reset()
		if err := company.Write1C(&file, opts.Provider.Account, at(2026, 2, 26, 0), at(2026, 2, 26, 0), []company.BankDocument{doc}); err != nil {
			t.Fatal(err)
		}
		rep, err := co.ImportStatement(ctx, actor, "kl_to_1c.txt", bytes.NewReader(file.Bytes()), []string{opts.Provider.Account})
		if err != nil || rep.Credited != 1 || rep.Invoices != 1 || rep.Unsorted != 0 {
			t.Errorf("bare number: %+v %v", rep, err)
		}
		if d, _ := s.Get(ctx, march.ID); d.Status != documents.Paid {
			t.Errorf("invoice %s after its bare number's payment: %s", march.Number, d.Status)
		}
		// A reconciliation act over the organisation's balance and points.
		rec, err := s.Reconcile(ctx, org.ID, at(2026, 1, 1, 0), at(2026, 1, 31, 0))
		if err != nil {
			t.Fatal(err)
		}
		rd, _ := s.DataOf(ctx, rec.ID)
		if rd.Credits != money.Rub(2400) {
			t.Errorf("reconciliation credits %s, want the bank payment", rd.Credits)
		}
	})
}

// TestOrganisationClosing: an organisation that chose UPD gets a UPD for
// the past month, another (no choice) the provider's act.
func TestOrganisationClosing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, documents.Options{})
		co := company.New(db, e.clk, e.b, e.subs)
		actor := operator.Actor{Login: "test"}
		for i, closing := range []string{"", company.ClosingUPD} {
			org, err := co.Create(ctx, actor, company.Details{FullName: "ООО «Ромашка»", INN: "7707083893", KPP: []string{"773601001", "773602001"}[i],
				LegalAddress: "г. Тверь, ул. Советская, 1", ContractDate: "2026-01-09", Closing: closing})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := co.CreatePoint(ctx, actor, org.ID, subscriber.NewAccount{Login: []string{"romashka-1", "romashka-2"}[i], Password: "secret-pass", PasswordHash: hash,
				Tariff: "biz100", Address: "ул. Советская, 1"}, ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := co.Create(ctx, actor, company.Details{FullName: "ООО «Ромашка»", INN: "7707083893", KPP: "773603001", Closing: "invoice"}); err == nil {
			t.Error("closing \"invoice\" accepted")
		}
		s, err := documents.New(db, e.clk, documents.Companies{C: co}, fonts, documents.Options{Provider: config.Default().Provider.WithDemoDetails(), Zone: msk})
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Set(at(2026, 2, 1, 9))
		res, err := s.Run(ctx, "2026-01")
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]documents.Kind{}
		for _, d := range res.Issued {
			if d.Kind != documents.Invoice {
				kinds[d.OrgINN+"/"+fmt.Sprint(d.OrgID)] = d.Kind
			}
		}
		if len(kinds) != 2 || kinds["7707083893/1"] != documents.Act || kinds["7707083893/2"] != documents.UPD {
			t.Errorf("closing documents: %v", kinds)
		}
	})
}
