package backoffice_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// TestContractRules: a contract states who, where and how to reach them;
// each wrong or missing part is refused naming its field, and nothing is
// signed. The passport is asked as [contract] passport says.
func TestContractRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testContractRules(t, db) })
}

func testContractRules(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	ctx := context.Background()
	if _, err := billing.AddCity(ctx, e.o.DB, billing.City{Code: "torzhok", Name: "Торжок"}); err != nil {
		t.Fatal(err)
	}
	torzhok, _ := billing.CityByCode(ctx, e.o.DB, "torzhok")
	if _, err := billing.AddTariff(ctx, e.o.DB, billing.Tariff{Code: "torzhok100", Name: "Торжок 100", Fee: money.Rub(400), DownKbps: 100000, UpKbps: 100000,
		Public: true, CityID: torzhok.ID}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	good := backoffice.NewContract{Name: "Иванова Анна Сергеевна", City: "tver", Address: "ул. Советская, д. 1, кв. 5", Phone: "+7 900 123-45-67", Tariff: "home"}
	passport := subscriber.Passport{Series: "2804", Number: "123456", IssuedBy: "УМВД России по Тверской области", IssuedOn: "2015-05-15"}
	with := func(f func(*backoffice.NewContract)) backoffice.NewContract { n := good; f(&n); return n }
	for _, tc := range []struct {
		name     string
		passport string
		n        backoffice.NewContract
		field    string // "" when it is signed
	}{
		{"complete", config.PassportOptional, good, ""},
		{"latin name", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Name = "Smith John" }), ""},
		{"double surname", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Name = "Римская-Корсакова Анна" }), ""},
		{"e-mail only", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Phone, n.Email = "", "anna@example.net" }), ""},
		{"name x", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Name = "x" }), "name"},
		{"one word", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Name = "Анна" }), "name"},
		{"digits in name", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Name = "Test 1 2" }), "name"},
		{"mixed alphabets", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Name = "Ivanов Пётр" }), "name"},
		{"no city", config.PassportOptional, with(func(n *backoffice.NewContract) { n.City = "" }), "city"},
		{"no address", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Address = "" }), "address"},
		{"no house", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Address = "где-то там" }), "address"},
		{"no way to reach", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Phone = "" }), "phone"},
		{"bad phone", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Phone = "12-34" }), "phone"},
		{"bad e-mail", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Email = "anna@" }), "email"},
		{"another city's tariff", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Tariff = "torzhok100" }), "-"},
		{"passport given", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Passport = passport }), ""},
		{"passport required, missing", config.PassportRequired, good, "passport_series"},
		{"passport required, given", config.PassportRequired, with(func(n *backoffice.NewContract) { n.Passport = passport }), ""},
		{"passport series", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Passport = passport; n.Passport.Series = "28" }), "passport_series"},
		{"passport number", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Passport = passport; n.Passport.Number = "12345a" }), "passport_number"},
		{"passport issuer", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Passport = passport; n.Passport.IssuedBy = "" }), "passport_issued_by"},
		{"passport from the future", config.PassportOptional, with(func(n *backoffice.NewContract) { n.Passport = passport; n.Passport.IssuedOn = "2031-01-01" }), "passport_issued_on"},
		{"passport off: not kept", config.PassportOff, with(func(n *backoffice.NewContract) { n.Passport = subscriber.Passport{Series: "x"} }), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.o.Passport = tc.passport
			s, err := e.o.SignContract(ctx, e.roles[operator.RoleManager], tc.n)
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field == "-":
				if !errors.Is(err, billing.ErrNotOffered) {
					t.Fatalf("%v, want not offered", err)
				}
			case tc.field != "":
				if !errors.Is(err, derrors.Invalid) || derrors.Field(err) != tc.field {
					t.Fatalf("%v (field %q), want invalid %q", err, derrors.Field(err), tc.field)
				}
				if derrors.Code(err) == "" {
					t.Error("no message code")
				}
			default:
				p, err := e.o.Dir.PassportOf(ctx, s.Account.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := tc.n.Passport; tc.passport != config.PassportOff && !want.Empty() && (p.Series != "28 04" || p.Number != "123456" || p.IssuedOn != "2015-05-15") {
					t.Errorf("passport kept as %+v", p)
				}
				if tc.passport == config.PassportOff && !p.Empty() {
					t.Errorf("passport kept although [contract] passport is off: %+v", p)
				}
			}
		})
	}
}
