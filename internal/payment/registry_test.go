package payment

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

const sampleRegistry = `txn_id;дата;лицевой счёт;сумма
1001;01.12.2026 10:00:00;100045;500,00
1002;01.12.2026 11:30:15;100046;1 234,56
1003;01.12.2026;100047;10.45
=3;1745,01
`

func TestParseRegistryEncodings(t *testing.T) {
	cp, err := charmap.Windows1251.NewEncoder().String(sampleRegistry)
	if err != nil {
		t.Fatal(err)
	}
	msk := time.FixedZone("MSK", 3*3600)
	for name, tc := range map[string]struct {
		data, enc string
	}{
		"utf-8":     {sampleRegistry, "utf-8"},
		"utf-8 bom": {"\xef\xbb\xbf" + sampleRegistry, "utf-8"},
		"cp1251":    {cp, "cp1251"},
		"crlf":      {strings.ReplaceAll(cp, "\n", "\r\n"), "cp1251"},
	} {
		t.Run(name, func(t *testing.T) {
			reg, err := ParseRegistry(strings.NewReader(tc.data), DefaultRegistryLayout, msk)
			if err != nil {
				t.Fatal(err)
			}
			if reg.Encoding != tc.enc || len(reg.Lines) != 3 || reg.Total != 174501 || reg.Count != 3 {
				t.Fatalf("%+v", reg)
			}
			l := reg.Lines[1]
			if l.Line != 3 || l.TxnID != "1002" || l.Account != "100046" || l.Sum != 123456 ||
				!l.Date.Equal(time.Date(2026, 12, 1, 8, 30, 15, 0, time.UTC)) {
				t.Errorf("line %+v", l)
			}
			if !reg.Lines[2].Date.Equal(time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC)) {
				t.Errorf("date-only line %v", reg.Lines[2].Date)
			}
		})
	}
}

func TestParseRegistryRefuses(t *testing.T) {
	tests := map[string]struct {
		data   string
		totals bool // refused because of the totals
	}{
		"sum differs":      {"1001;01.12.2026;100045;500,00\n=1;500,01\n", true},
		"count differs":    {"1001;01.12.2026;100045;500,00\n=2;500,00\n", true},
		"no totals":        {"1001;01.12.2026;100045;500,00\n", true},
		"line after total": {"1001;01.12.2026;100045;500,00\n=1;500,00\n1002;01.12.2026;100045;1,00\n", false},
		"bad sum":          {"1001;01.12.2026;100045;abc\n=1;0\n", false},
		"zero sum":         {"1001;01.12.2026;100045;0\n=1;0\n", false},
		"bad date":         {"1001;2026-12-01;100045;5\n=1;5\n", false},
		"bad txn":          {"1;01.12.2026;100045;5\n10x1;01.12.2026;100045;5\n=2;10\n", false},
		"repeated txn":     {"1001;01.12.2026;100045;5\n1001;01.12.2026;100045;5\n=2;10\n", false},
		"repeated number":  {"1001;01.12.2026;100045;5\n01001;01.12.2026;100045;5\n=2;10\n", false},
	}
	for name, tt := range tests {
		_, err := ParseRegistry(strings.NewReader(tt.data), DefaultRegistryLayout, nil)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if errors.Is(err, ErrRegistryTotals) != tt.totals {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseRegistryCommaAndTotalWord(t *testing.T) {
	data := "1001,01.12.2026 10:00:00,100045,500.00\nИТОГО,1,500.00\n"
	cp, _ := charmap.Windows1251.NewEncoder().String(data)
	reg, err := ParseRegistry(bytes.NewReader([]byte(cp)), DefaultRegistryLayout, nil)
	if err != nil || len(reg.Lines) != 1 || reg.Total != 50000 {
		t.Fatalf("%+v %v", reg, err)
	}
}
