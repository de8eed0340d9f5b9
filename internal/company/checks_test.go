package company

import (
	"errors"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// Real registration numbers (Sberbank, Gazprom, a published sole trader)
// pass; one changed digit fails.
func TestCheckDigits(t *testing.T) {
	tests := []struct {
		name  string
		check func() error
		ok    bool
	}{
		{"INN 10 Sberbank", func() error { return CheckINN("7707083893") }, true},
		{"INN 10 Gazprom", func() error { return CheckINN("7736050003") }, true},
		{"INN 10 last digit off", func() error { return CheckINN("7707083894") }, false},
		{"INN 10 letters", func() error { return CheckINN("77070838a3") }, false},
		{"INN 12", func() error { return CheckINN("500100732259") }, true},
		{"INN 12 11th digit off", func() error { return CheckINN("500100732269") }, false},
		{"INN 12 12th digit off", func() error { return CheckINN("500100732258") }, false},
		{"INN 11 digits", func() error { return CheckINN("50010073225") }, false},
		{"INN empty", func() error { return CheckINN("") }, false},
		{"KPP", func() error { return CheckKPP("773601001") }, true},
		{"KPP reason letters", func() error { return CheckKPP("7736AB001") }, true},
		{"KPP lower case", func() error { return CheckKPP("7736ab001") }, false},
		{"KPP 8", func() error { return CheckKPP("77360100") }, false},
		{"KPP letter in office", func() error { return CheckKPP("77A601001") }, false},
		{"OGRN Sberbank", func() error { return CheckOGRN("1027700132195") }, true},
		{"OGRN off", func() error { return CheckOGRN("1027700132196") }, false},
		{"OGRNIP", func() error { return CheckOGRN("304500116000157") }, true},
		{"OGRNIP off", func() error { return CheckOGRN("304500116000158") }, false},
		{"OGRN 14", func() error { return CheckOGRN("10277001321951") }, false},
		{"BIK", func() error { return CheckBIK("044525225") }, true},
		{"BIK not 04", func() error { return CheckBIK("144525225") }, false},
		{"BIK 8", func() error { return CheckBIK("04452522") }, false},
		{"account Sberbank", func() error { return CheckAccount("044525225", "40702810938000000001") }, true},
		{"account key off", func() error { return CheckAccount("044525225", "40702810938000000002") }, false},
		{"account other bank", func() error { return CheckAccount("044525187", "40702810938000000001") }, false},
		{"account VTB", func() error { return CheckAccount("044525187", "40702810700000012345") }, true},
		{"account 19", func() error { return CheckAccount("044525225", "4070281093800000000") }, false},
		{"corr Sberbank", func() error { return CheckCorrAccount("044525225", "30101810400000000225") }, true},
		{"corr VTB", func() error { return CheckCorrAccount("044525187", "30101810700000000187") }, true},
		{"corr Tinkoff", func() error { return CheckCorrAccount("044525974", "30101810145250000974") }, true},
		{"corr off", func() error { return CheckCorrAccount("044525225", "30101810400000000226") }, false},
		{"corr not 30101", func() error { return CheckCorrAccount("044525225", "40702810938000000001") }, false},
	}
	for _, tt := range tests {
		err := tt.check()
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && (!errors.Is(err, derrors.Invalid) || derrors.Code(err) == "" || derrors.Field(err) == "") {
			t.Errorf("%s: %v is not an Invalid with a code and a field", tt.name, err)
		}
	}
}

// A form's details are checked field by field: an entrepreneur's INN is 12
// digits and has no KPP, an organisation's OGRN is 13.
func TestDetailsCheck(t *testing.T) {
	good := Details{FullName: "ООО «Ромашка»", INN: "7707083893", KPP: "773601001", OGRN: "1027700132195", BIK: "044525225",
		SettlementAccount: "4070 2810 9380 0000 0001", CorrAccount: "30101810400000000225", Email: "buh@romashka.example"}
	tests := []struct {
		name   string
		change func(d *Details)
		fields []string
	}{
		{"good", func(d *Details) {}, nil},
		{"no name", func(d *Details) { d.FullName = " " }, []string{"full_name"}},
		{"entrepreneur with 10-digit INN", func(d *Details) { d.Kind = KindEntrepreneur; d.KPP = ""; d.OGRN = "" }, []string{"inn"}},
		{"entrepreneur", func(d *Details) { d.INN = "500100732259"; d.KPP = ""; d.OGRN = "304500116000157"; d.Kind = "" }, nil},
		{"entrepreneur with KPP", func(d *Details) { d.INN = "500100732259"; d.OGRN = "" }, []string{"kpp"}},
		{"OGRNIP for an organisation", func(d *Details) { d.OGRN = "304500116000157" }, []string{"ogrn"}},
		{"bad account and e-mail", func(d *Details) { d.SettlementAccount = "40702810938000000002"; d.Email = "x@" }, []string{"account", "email"}},
		{"bad BIK hides the account checks", func(d *Details) { d.BIK = "123" }, []string{"bik"}},
		{"bad date and mode", func(d *Details) { d.ContractDate = "01.02.2026"; d.BalanceMode = "x" }, []string{"contract_date", "balance_mode"}},
	}
	for _, tt := range tests {
		d := good
		tt.change(&d)
		errs := d.CheckAll()
		var fields []string
		for _, e := range errs {
			fields = append(fields, derrors.Field(e))
		}
		if len(fields) != len(tt.fields) {
			t.Errorf("%s: fields %v, want %v (%v)", tt.name, fields, tt.fields, errs)
			continue
		}
		for i := range fields {
			if fields[i] != tt.fields[i] {
				t.Errorf("%s: fields %v, want %v", tt.name, fields, tt.fields)
			}
		}
	}
	d := good
	d.CheckAll()
	if d.SettlementAccount != "40702810938000000001" || d.Kind != KindLegal || d.ShortName != d.FullName || d.VATMode != VATRate || d.BalanceMode != BalanceContract {
		t.Errorf("normalised: %+v", d)
	}
}
