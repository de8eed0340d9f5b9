package money

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
		err  bool
	}{
		{"500", 50000, false},
		{"500.50", 50050, false},
		{"500,50", 50050, false},
		{"500,5", 50050, false},
		{"0.01", 1, false},
		{"-12.30", -1230, false},
		{"1 234,56", 123456, false},
		{"1\u00a0234,56 ₽", 123456, false},
		{"+7", 700, false},
		{",5", 50, false},
		{"", 0, true},
		{"-", 0, true},
		{"abc", 0, true},
		{"1.234", 0, true},
		{"1.", 0, true},
		{"1e5", 0, true},
		{"12-3", 0, true},
		{"1.2.3", 0, true},
		{"9999999999999999", 0, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.err {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("Parse(%q) = %v, %v; want ErrFormat", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		a      Amount
		ru, en string
		dec    string
	}{
		{123456, "1\u00a0234,56\u00a0₽", "₽1,234.56", "1234.56"},
		{-50000, "−500,00\u00a0₽", "−₽500.00", "-500.00"},
		{5, "0,05\u00a0₽", "₽0.05", "0.05"},
		{123456789012, "1\u00a0234\u00a0567\u00a0890,12\u00a0₽", "₽1,234,567,890.12", "1234567890.12"},
	}
	for _, tt := range tests {
		if got := tt.a.Format("ru"); got != tt.ru {
			t.Errorf("Format(ru) = %q, want %q", got, tt.ru)
		}
		if got := tt.a.Format("en"); got != tt.en {
			t.Errorf("Format(en) = %q, want %q", got, tt.en)
		}
		if got := tt.a.Decimal(); got != tt.dec {
			t.Errorf("Decimal = %q, want %q", got, tt.dec)
		}
		if back, err := Parse(tt.a.Decimal()); err != nil || back != tt.a {
			t.Errorf("round trip %v: %v %v", tt.a, back, err)
		}
	}
}

func TestProrate(t *testing.T) {
	tests := []struct {
		m         Amount
		days, dim int
		want      Amount
	}{
		{50000, 15, 30, 25000},
		{50000, 1, 31, 1613}, // 1612.9 rounds up
		{50000, 31, 31, 50000},
		{50000, 0, 31, 0},
		{99900, 10, 29, 34448}, // 34448.27
	}
	for _, tt := range tests {
		if got := Prorate(tt.m, tt.days, tt.dim); got != tt.want {
			t.Errorf("Prorate(%v,%d,%d) = %v, want %v", tt.m, tt.days, tt.dim, got, tt.want)
		}
	}
}

// FuzzParse: any text either fails with ErrFormat or parses to an amount
// whose decimal form parses back to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"500", "500,50", "-1 234.5", "₽", "1e9", "0,00", "9999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse(%q): %v is not ErrFormat", s, err)
			}
			return
		}
		back, err := Parse(a.Decimal())
		if err != nil || back != a {
			t.Fatalf("Parse(%q) = %v, round trip %v %v", s, a, back, err)
		}
		_ = a.Format("ru") + a.Format("en")
	})
}
