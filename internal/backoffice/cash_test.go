package backoffice_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// A cashier takes cash up to the limit alone; above it a manager confirms
// on the spot, and the payment and its audit entry naming the manager
// commit together. Nothing is credited without a valid confirmation.
func TestCashLimitAndConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testCashLimitAndConfirmation(t, db) })
}

func testCashLimitAndConfirmation(t *testing.T, db *store.DB) {
	ctx := context.Background()
	e := newEnv(t, db)
	a, err := e.o.SignContract(ctx, e.roles[operator.RoleManager], backoffice.NewContract{Name: "Смирнова Анна", Address: "ул. Советская, 2", Phone: "+7 900 000-00-02", Tariff: "home", City: "tver"})
	if err != nil {
		t.Fatal(err)
	}
	id := a.Account.ID
	cashier, admin := e.roles[operator.RoleCashier], e.roles[operator.RoleAdmin]
	if l := e.o.CashLimit(operator.RoleCashier); l != money.Rub(100000) {
		t.Fatalf("default cashier limit %s, want 100000.00", l)
	}
	if l := e.o.CashLimit(operator.RoleAdmin); l != 0 {
		t.Fatalf("admin limit %s, want none", l)
	}
	balance := func() money.Amount {
		s, err := e.o.Biller.Summary(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return s.Balance
	}
	start := balance()
	huge, _ := money.Parse("99999999999999.99")
	cash := func(amount money.Amount, receipt, manager, pw string) (backoffice.CashTaken, error) {
		return e.o.CashPayment(ctx, cashier, backoffice.Cash{CashIn: payment.CashIn{AccountID: id, Amount: amount, Receipt: receipt},
			Manager: manager, ManagerPassword: pw})
	}
	// A second cashier, who may take cash but not confirm it.
	if _, err := e.o.Operators.Add(ctx, operator.Actor{}, operator.NewOperator{Login: "cashier2", Role: operator.RoleCashier, Password: "long-enough-pw"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		amount        money.Amount
		manager, pass string
		want          error
	}{
		{"an amount far over the limit", huge, "", "", payment.ErrNeedsConfirmation},
		{"a kopeck above the limit", money.Rub(100000) + 1, "", "", payment.ErrNeedsConfirmation},
		{"wrong manager password", money.Rub(150000), "manager1", "wrong-password", backoffice.ErrConfirmationRefused},
		{"another cashier cannot confirm", money.Rub(150000), "cashier2", "long-enough-pw", backoffice.ErrConfirmationRefused},
		{"the cashier cannot confirm their own", money.Rub(150000), "cashier1", "long-enough-pw", backoffice.ErrConfirmationRefused},
		{"unknown manager", money.Rub(150000), "nobody", "long-enough-pw", backoffice.ErrConfirmationRefused},
	} {
		if _, err := cash(tc.amount, "R-"+tc.name, tc.manager, tc.pass); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if b := balance(); b != start {
		t.Fatalf("refused payments moved money: %s → %s", start, b)
	}
	if got := e.audit(t, operator.AuditQuery{Action: "money.cash"}); len(got) != 0 {
		t.Errorf("refused payments audited as taken: %+v", got)
	}

	// At the limit the cashier is alone.
	if res, err := cash(money.Rub(100000), "R-1", "", ""); err != nil || res.Repeated {
		t.Fatalf("at the limit: %+v %v", res, err)
	}
	// Above it, with the manager's login and password.
	res, err := cash(money.Rub(150000), "R-2", "manager1", "long-enough-pw")
	if err != nil || res.Repeated {
		t.Fatalf("confirmed: %+v %v", res, err)
	}
	if b := balance(); b != start+money.Rub(250000) {
		t.Errorf("balance %s, want %s", b, start+money.Rub(250000))
	}
	ent := e.audit(t, operator.AuditQuery{Action: "money.cash"})
	var confirmed bool
	for _, en := range ent {
		confirmed = confirmed || (en.OperatorLogin == "cashier1" && strings.Contains(en.AfterJSON(), `"confirmed_by":"manager1"`))
	}
	if len(ent) != 2 || !confirmed {
		t.Errorf("audit: %+v", ent)
	}
	// The form sent again, without the manager: "already recorded", the
	// first payment, nothing credited.
	again, err := cash(money.Rub(150000), "R-2", "", "")
	if err != nil || !again.Repeated || again.Payment.ID != res.Payment.ID {
		t.Errorf("repeat: %+v %v", again, err)
	}
	if again, err := cash(money.Rub(100000), "R-1", "", ""); err != nil || !again.Repeated {
		t.Errorf("repeat under the limit: %+v %v", again, err)
	}
	if b := balance(); b != start+money.Rub(250000) {
		t.Errorf("a repeat credited: balance %s", b)
	}
	// An admin has no limit by default.
	if _, err := e.o.CashPayment(ctx, admin, backoffice.Cash{CashIn: payment.CashIn{AccountID: id, Amount: money.Rub(500000), Receipt: "A-1"}}); err != nil {
		t.Errorf("admin: %v", err)
	}
	// Limits come from config.
	e.o.CashLimits = map[operator.Role]money.Amount{operator.RoleCashier: money.Rub(1000)}
	if _, err := cash(money.Rub(1001), "R-3", "", ""); !errors.Is(err, payment.ErrNeedsConfirmation) {
		t.Errorf("configured limit: %v", err)
	}
}
