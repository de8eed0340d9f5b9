package company

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// A bank client's export, as 1C writes it: CP1251, CRLF, the account
// section, a document with its purpose split over НазначениеПлатежа1…
const sample1C = "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\nОтправитель=Сбербанк Бизнес Онлайн\r\nПолучатель=Бухгалтерия предприятия\r\n" +
	"ДатаСоздания=21.12.2026\r\nДатаНачала=20.12.2026\r\nДатаКонца=20.12.2026\r\nРасчСчет=40702810938000000001\r\nДокумент=Платежное поручение\r\n" +
	"СекцияРасчСчет\r\nДатаНачала=20.12.2026\r\nРасчСчет=40702810938000000001\r\nНачальныйОстаток=0.00\r\nКонецРасчСчет\r\n" +
	"СекцияДокумент=Платежное поручение\r\nНомер=501\r\nДата=18.12.2026\r\nСумма=1999.99\r\nПлательщикСчет=40702810100000000091\r\n" +
	"Плательщик=ИНН 7707083893 ООО «Ромашка»\r\nПлательщикИНН=7707083893\r\nПлательщикКПП=773601001\r\nПлательщикБИК=044525225\r\n" +
	"ПолучательСчет=40702810938000000001\r\nПолучательИНН=7701234567\r\nДатаПоступило=20.12.2026\r\n" +
	"НазначениеПлатежа1=Оплата по счёту № СЧ-2026-000123\r\nНазначениеПлатежа2=от 10.12.2026, в т.ч. НДС 22% 360,65\r\nКонецДокумента\r\n" +
	"СекцияДокумент=Платежное поручение\r\nНомер=12\r\nДата=19.12.2026\r\nСумма=5000\r\nПлательщикСчет=40702810938000000001\r\n" +
	"ПолучательСчет=40702810700000012345\r\nНазначениеПлатежа=Аренда за декабрь\r\nКонецДокумента\r\nКонецФайла\r\n"

func TestParseStatement(t *testing.T) {
	cp, err := charmap.Windows1251.NewEncoder().String(sample1C)
	if err != nil {
		t.Fatal(err)
	}
	// CP866 has no «», so the DOS file quotes plainly.
	dos, err := charmap.CodePage866.NewEncoder().String(strings.NewReplacer("Кодировка=Windows", "Кодировка=DOS", "«", `"`, "»", `"`).Replace(sample1C))
	if err != nil {
		t.Fatal(err)
	}
	want := BankDocument{Kind: KindPaymentOrder, Number: "501", Date: "2026-12-18", Amount: money.Amount(199999), PayerAccount: "40702810100000000091",
		PayerINN: "7707083893", PayerKPP: "773601001", PayerName: "ООО «Ромашка»", PayerBIK: "044525225", RecipientAccount: "40702810938000000001",
		RecipientINN: "7701234567", Purpose: "Оплата по счёту № СЧ-2026-000123 от 10.12.2026, в т.ч. НДС 22% 360,65", Received: "2026-12-20", Line: 16}
	for enc, file := range map[string]string{"cp1251": cp, "cp866": dos, "utf-8": sample1C} {
		st, err := ParseStatement(strings.NewReader(file))
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if st.Encoding != enc || st.Version != "1.03" || !reflect.DeepEqual(st.Accounts, []string{"40702810938000000001"}) || len(st.Documents) != 2 {
			t.Fatalf("%s: %+v", enc, st)
		}
		w := want
		if enc == "cp866" {
			w.PayerName = `ООО "Ромашка"`
		}
		if got := st.Documents[0]; got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", enc, got, want)
		}
		if !st.Incoming(st.Documents[0], nil) || st.Incoming(st.Documents[1], nil) {
			t.Errorf("%s: incoming wrong", enc)
		}
	}
	for name, file := range map[string]string{
		"not 1C":    "Номер;Дата;Сумма\n",
		"truncated": strings.TrimSuffix(sample1C, "КонецФайла\r\n"),
		"bad sum":   strings.Replace(sample1C, "Сумма=5000", "Сумма=5 000,001", 1),
		"bad date":  strings.Replace(sample1C, "Дата=19.12.2026", "Дата=2026-12-19", 1),
		"no number": strings.Replace(sample1C, "Номер=12\r\n", "", 1),
	} {
		_, err := ParseStatement(strings.NewReader(file))
		if !errors.Is(err, derrors.Invalid) || derrors.Code(err) == "" {
			t.Errorf("%s: %v", name, err)
		}
		if name == "bad sum" && !strings.Contains(err.Error(), "line 31") {
			t.Errorf("bad sum does not name its line: %v", err)
		}
	}
	// What Write1C writes, ParseStatement reads back.
	var buf bytes.Buffer
	day := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	in := []BankDocument{{Number: "7", Date: "2026-12-20", Amount: money.Rub(15), PayerINN: "500100732259", PayerName: "ИП Петров П. П.",
		PayerAccount: "40802810000000000001", RecipientAccount: "40702810938000000001", Received: "2026-12-20", Purpose: "сч. 77, «без НДС» №5"}}
	if err := Write1C(&buf, "40702810938000000001", day, day, in); err != nil {
		t.Fatal(err)
	}
	st, err := ParseStatement(&buf)
	if err != nil || st.Encoding != "cp1251" || len(st.Documents) != 1 {
		t.Fatalf("round trip: %+v %v", st, err)
	}
	got := st.Documents[0]
	got.Line, got.Kind = 0, ""
	if got != in[0] {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, in[0])
	}
}

func TestInvoiceNumbers(t *testing.T) {
	for purpose, want := range map[string][]string{
		"Оплата по счёту № СЧ-2026-000123 от 10.12.2026":        {"СЧ-2026-000123"},
		"Оплата по счету №123 от 01.12.2026, НДС не облагается": {"123"},
		"Оплата сч. 45/2026 за декабрь":                         {"45/2026"},
		"опл. по сч.№ 17": {"17"},
		"Предоплата согласно СЧ-2026-000007; без НДС":    {"СЧ-2026-000007"},
		"Оплата по счетам № 12, 13":                      {"12"},
		"Перевод на расчетный счет 40702810938000000001": nil,
		"Оплата по счет-фактуре № 99":                    nil,
		"Оплата услуг связи по договору № К-2026-00003":  nil,
		"Счет N 55": {"55"},
	} {
		if got := InvoiceNumbers(purpose); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, want %q", purpose, got, want)
		}
	}
	if got := contractNumbers("Оплата услуг связи по договору № К-2026-00003. НДС 22%"); !reflect.DeepEqual(got, []string{"к-2026-00003"}) {
		t.Errorf("contract numbers: %q", got)
	}
}

// The VAT inside an amount at 22%, to the kopeck, rounded half away from
// zero: 1,220.00 holds 220.00; 1,000.00 holds 180.33 (180.327…).
func TestVATPart(t *testing.T) {
	for _, tt := range []struct {
		gross money.Amount
		rate  int
		want  money.Amount
	}{
		{money.Rub(1220), 22, money.Rub(220)},
		{money.Rub(1000), 22, 18033},
		{money.Rub(1200), 20, money.Rub(200)},
		{1, 22, 0},
		{3, 22, 1}, // 0.54 of a kopeck
		{-122000, 22, -22000},
		{money.Rub(1000), 0, 0},
	} {
		if got := VATPart(tt.gross, tt.rate); got != tt.want {
			t.Errorf("VAT %d%% of %s: %s, want %s", tt.rate, tt.gross.Decimal(), got.Decimal(), tt.want.Decimal())
		}
	}
}

// FuzzParseStatement: whatever a bank's client exports, parsing answers a
// statement or an Invalid error, never a panic; a parsed document has a
// number, a date and a positive sum, and its purpose's invoice numbers are
// read without a panic either.
func FuzzParseStatement(f *testing.F) {
	cp, _ := charmap.Windows1251.NewEncoder().String(sample1C)
	for _, s := range []string{cp, sample1C, "1CClientBankExchange\r\nКонецФайла\r\n", "1CClientBankExchange\nСекцияДокумент=Платежное поручение\nКонецФайла\n",
		strings.TrimSuffix(sample1C, "КонецФайла\r\n"), "1CClientBankExchange\nКодировка=DOS\n\xa0\xa1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseStatement(bytes.NewReader(b))
		if err != nil {
			if derrors.Kind(err) == nil {
				t.Fatalf("an error of no kind: %v", err)
			}
			return
		}
		for _, d := range st.Documents {
			if d.Number == "" || d.Date == "" || d.Amount <= 0 {
				t.Fatalf("a document without its number, date or sum: %+v", d)
			}
			InvoiceNumbers(d.Purpose)
			contractNumbers(d.Purpose)
		}
	})
}
