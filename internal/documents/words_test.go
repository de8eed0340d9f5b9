package documents

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/money"
)

func TestInWords(t *testing.T) {
	for _, tt := range []struct {
		kop  int64
		want string
	}{
		{0, "Ноль рублей 00 копеек"},
		{1, "Ноль рублей 01 копейка"},
		{2, "Ноль рублей 02 копейки"},
		{5, "Ноль рублей 05 копеек"},
		{11, "Ноль рублей 11 копеек"},
		{21, "Ноль рублей 21 копейка"},
		{100, "Один рубль 00 копеек"},
		{200, "Два рубля 00 копеек"},
		{500, "Пять рублей 00 копеек"},
		{1100, "Одиннадцать рублей 00 копеек"},
		{1400, "Четырнадцать рублей 00 копеек"},
		{2100, "Двадцать один рубль 00 копеек"},
		{2234, "Двадцать два рубля 34 копейки"},
		{11100, "Сто одиннадцать рублей 00 копеек"},
		{120000, "Одна тысяча двести рублей 00 копеек"},
		{200000, "Две тысячи рублей 00 копеек"},
		{255000, "Две тысячи пятьсот пятьдесят рублей 00 копеек"},
		{500000, "Пять тысяч рублей 00 копеек"},
		{1100000, "Одиннадцать тысяч рублей 00 копеек"},
		{2100000, "Двадцать одна тысяча рублей 00 копеек"},
		{2200000, "Двадцать две тысячи рублей 00 копеек"},
		{11111111, "Сто одиннадцать тысяч сто одиннадцать рублей 11 копеек"},
		{100000000, "Один миллион рублей 00 копеек"},
		{200000100, "Два миллиона один рубль 00 копеек"},
		{500100000, "Пять миллионов одна тысяча рублей 00 копеек"},
		{123456789012, "Один миллиард двести тридцать четыре миллиона пятьсот шестьдесят семь тысяч восемьсот девяносто рублей 12 копеек"},
		{99999999999, "Девятьсот девяносто девять миллионов девятьсот девяносто девять тысяч девятьсот девяносто девять рублей 99 копеек"},
		{-150, "Минус один рубль 50 копеек"},
		{100000000000000, "Один триллион рублей 00 копеек"},
	} {
		if got := InWords(money.Amount(tt.kop)); got != tt.want {
			t.Errorf("InWords(%d) = %q, want %q", tt.kop, got, tt.want)
		}
	}
}

func TestVATIn(t *testing.T) {
	for _, tt := range []struct {
		sum, rate, want int64
	}{
		{120000, 22, 21639}, // 1200.00 × 22/122 = 216.393…
		{15000, 22, 2705},   // 150.00 × 22/122 = 27.049…
		{12200, 22, 2200},   // exact
		{120000, 20, 20000}, // 1200.00 × 20/120
		{100, 20, 17},       // 16.67 → 17
		{61, 22, 11},        // 10.999… → 11
		{50, 22, 9},         // 9.016… → 9
		{100000, 0, 0},
		{-120000, 22, -21639},
		{1, 22, 0},
	} {
		if got := VATIn(money.Amount(tt.sum), tt.rate); int64(got) != tt.want {
			t.Errorf("VATIn(%d, %d) = %d, want %d", tt.sum, tt.rate, got, tt.want)
		}
	}
}

func TestRateOn(t *testing.T) {
	rates := DefaultVATRates()
	for _, tt := range []struct {
		day  string
		want int64
	}{{"2025-12-31", 20}, {"2026-01-01", 22}, {"2027-06-15", 22}, {"2018-12-31", -1}} {
		if got := RateOn(rates, parseDay(tt.day)); got != tt.want {
			t.Errorf("RateOn(%s) = %d, want %d", tt.day, got, tt.want)
		}
	}
	if _, err := ParseVATRates([]string{"2026-01-01:22", "2019-01-01:20"}); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"2026-01-01", "22", "2026-13-01:22", "2026-01-01:x", "2026-01-01:120"} {
		if _, err := ParseVATRates([]string{bad}); err == nil {
			t.Errorf("ParseVATRates(%q) accepted", bad)
		}
	}
}

func TestInvoiceNumbers(t *testing.T) {
	for _, tt := range []struct {
		purpose string
		want    []string
	}{
		{"Оплата по счёту № 2026-000123 от 25.12.2025 за услуги связи. НДС 22%", []string{"2026-000123"}},
		{"Оплата сч.2026/123, сч. 2026-124 и 2026-000123", []string{"2026-000123", "2026-000124"}},
		{"Оплата за услуги по договору 15 от 2025-12-25", nil},
		{"Оплата по сч 2025-000007;", []string{"2025-000007"}},
		{"тел. 8-4822-55-00-00", nil},
		{"№2026-1234567", nil},
		{"", nil},
	} {
		got := InvoiceNumbers(tt.purpose)
		if len(got) != len(tt.want) {
			t.Errorf("InvoiceNumbers(%q) = %q, want %q", tt.purpose, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("InvoiceNumbers(%q) = %q, want %q", tt.purpose, got, tt.want)
			}
		}
	}
}

// TestVATFromConfig: [documents] vat_rates and without_vat are the one VAT
// setting; the rate is the one in force on the day, and a [company] vat
// (which once duplicated it) is refused as an unknown key.
func TestVATFromConfig(t *testing.T) {
	for _, tt := range []struct {
		name  string
		toml  string
		day   string
		want  int64
		wrong bool
	}{
		{"default before 2026", "", "2025-12-01", 20, false},
		{"default from 2026", "", "2026-01-01", 22, false},
		{"own rates", "[documents]\nvat_rates = [\"2019-01-01:20\", \"2026-01-01:22\", \"2027-07-01:25\"]\n", "2027-07-01", 25, false},
		{"own rates, the day before", "[documents]\nvat_rates = [\"2019-01-01:20\", \"2026-01-01:22\", \"2027-07-01:25\"]\n", "2027-06-30", 22, false},
		{"without VAT", "[documents]\nwithout_vat = true\n", "2026-03-01", -1, false},
		{"company vat refused", "[company]\nvat = 22\n", "", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kabinet.toml")
			if err := os.WriteFile(path, []byte(tt.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path)
			if tt.wrong {
				if err == nil {
					t.Fatal("loaded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o, err := OptionsFrom(cfg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(nil, clock.System, Parties{}, testFonts(t), o)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.vatRate(parseDay(tt.day)); got != tt.want {
				t.Errorf("rate on %s = %d, want %d", tt.day, got, tt.want)
			}
		})
	}
}

func testFonts(t *testing.T) contract.Fonts {
	f, err := contract.LoadFonts(os.DirFS("../../web"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
