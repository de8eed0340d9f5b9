package documents_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/browsertest"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// sample is a document of kind as a run would make it, with many lines so
// that tables run onto a second page.
func sample(kind documents.Kind, lines int, vat int64) documents.Data {
	p := config.Default().Provider.WithDemoDetails()
	seller := documents.Party{Name: p.LegalName, INN: p.INN, KPP: p.KPP, Address: p.Address, Phone: p.Phone, Bank: p.Bank, BIK: p.BIK,
		Account: p.Account, CorrAccount: p.CorrAccount, Director: p.Director, DirectorTitle: p.DirectorTitle, Accountant: p.Accountant}
	buyer := documents.Party{ID: 1, Name: "Общество с ограниченной ответственностью «Аптечная сеть Здоровье»", ShortName: "ООО «Аптечная сеть Здоровье»",
		INN: "6950012345", KPP: "695001001", Address: "170100, г. Тверь, ул. Новоторжская, д. 12, офис 4", Director: "Кузнецова А. В."}
	d := documents.Data{Kind: kind, Number: "2026-000123", Date: "2026-01-31", Period: "2026-01", From: "2026-01-01", To: "2026-01-31",
		Seller: seller, Buyer: buyer, Basis: "Договор № Ю-017 от 01.12.2025", VATRate: vat, PayBy: "2026-01-30"}
	if kind == documents.Invoice {
		d.Date = "2025-12-25"
	}
	if kind == documents.UPD {
		d.UPDStatus = 1
		if vat < 0 {
			d.UPDStatus = 2
		}
	}
	for i := range lines {
		sum := money.Rub(1200 + int64(i%3)*300)
		l := documents.Line{Name: fmt.Sprintf("Услуги доступа в интернет по тарифу «Бизнес 100» за январь 2026 г. (г. Тверь, ул. Советская, д. %d, логин apteka-%d)", i+1, i+1),
			Qty: 1, Unit: "мес.", Price: sum, Sum: sum}
		if vat > 0 {
			l.VAT = documents.VATIn(sum, vat)
		}
		d.Lines = append(d.Lines, l)
		d.Total += l.Sum
		d.VAT += l.VAT
	}
	if kind == documents.Reconciliation {
		d.VATRate = -1
		d.Opening = money.Rub(1500)
		for m := 1; m <= 3; m++ {
			d.Entries = append(d.Entries, documents.Entry{Date: fmt.Sprintf("2026-%02d-10", m), Text: fmt.Sprintf("Оплата (п/п № %d)", 100+m), Credit: money.Rub(9600)})
			d.Entries = append(d.Entries, documents.Entry{Date: fmt.Sprintf("2026-%02d-28", m), Text: fmt.Sprintf("Продажа (акт № 2026-0000%02d от 28.%02d.2026)", 40+m, m), Debit: money.Rub(9600)})
			d.Debits += money.Rub(9600)
			d.Credits += money.Rub(9600)
		}
		d.Period, d.From, d.To = "2026-01-01..2026-03-31", "2026-01-01", "2026-03-31"
		d.Closing = d.Opening + d.Debits - d.Credits
	}
	return d
}

// TestPDFPages draws each kind of document, checks its text and saves its
// pages as pictures (KABINET_SCREENSHOTS or a temporary directory) to be
// looked at.
func TestPDFPages(t *testing.T) {
	s, err := documents.New(nil, clock.System, documents.Parties{}, fonts, documents.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := browsertest.Shots(t)
	for _, tt := range []struct {
		name string
		data documents.Data
		want []string
	}{
		{"invoice", sample(documents.Invoice, 8, 22), []string{"Счёт на оплату № 2026-000123 от 25 декабря 2025 г.", "Всего наименований 8, на сумму 11 700,00 руб.",
			"Одиннадцать тысяч семьсот рублей 00 копеек", "В том числе НДС (22%): 2 109,82", "6950012345", "ИНН 7701234567", "БИК 042809679", "Сч. № 40702810863000000100", "М.П."}},
		{"invoice-long", sample(documents.Invoice, 40, 22), []string{"Всего наименований 40", "Пятьдесят девять тысяч семьсот рублей 00 копеек"}},
		{"act", sample(documents.Act, 5, 22), []string{"Акт оказанных услуг № 2026-000123 от 31 января 2026 г.", "ИСПОЛНИТЕЛЬ", "ЗАКАЗЧИК", "Кузнецова А. В."}},
		{"act-usn", sample(documents.Act, 2, -1), []string{"Без налога (НДС)"}},
		{"upd", sample(documents.UPD, 5, 22), []string{"Универсальный", "Счёт-фактура № 2026-000123 от 31.01.2026", "Российский рубль, 643", "22%", "Главный бухгалтер"}},
		{"upd-usn", sample(documents.UPD, 2, -1), []string{"без НДС"}},
		{"reconciliation", sample(documents.Reconciliation, 0, -1), []string{"Акт сверки", "Сальдо начальное", "1 500,00", "Обороты за период", "28 800,00", "Генеральный директор ООО «Сеть-Регион» Петров П. П.", "10.01.2026",
			"задолженность в пользу ООО «Сеть-Регион» 1 500,00 руб. (Одна тысяча пятьсот рублей 00 копеек)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pdf, err := s.Render(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			checkText(t, pdf, tt.want...)
			path := filepath.Join(dir, "document-"+tt.name+".pdf")
			if err := os.WriteFile(path, pdf, 0o644); err != nil {
				t.Fatal(err)
			}
			tool, err := exec.LookPath("pdftoppm")
			if err != nil {
				t.Log("pdftoppm (poppler-utils) not installed: no pictures of the pages")
				return
			}
			if out, err := exec.Command(tool, "-png", "-r", "80", path, filepath.Join(dir, "document-"+tt.name)).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v: %s", err, out)
			}
		})
	}
	t.Logf("pages in %s", dir)
}
