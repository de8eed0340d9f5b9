package backoffice_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

type env struct {
	o     *backoffice.Office
	clk   *clock.Fake
	roles map[operator.Role]backoffice.Who
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC))
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	fonts, err := contract.LoadFonts(os.DirFS("../../web"))
	if err != nil {
		t.Fatal(err)
	}
	ops := operator.New(db, clk)
	o := &backoffice.Office{DB: db, Clock: clk, Operators: ops, Dir: subscriber.New(db, clk, sealer, b), Biller: b,
		Payments: payment.NewService(db, clk, b, nil, payment.Options{}),
		Mail:     notify.New(db, clk, nil, b, notify.Options{Provider: config.Default().Provider, Log: slog.New(slog.DiscardHandler)}),
		Fonts:    fonts, Provider: config.Default().Provider, PortalURL: "https://my.example"}
	e := &env{o: o, clk: clk, roles: map[operator.Role]backoffice.Who{}}
	for _, r := range operator.Roles {
		op, err := ops.Add(ctx, operator.Actor{}, operator.NewOperator{Login: string(r) + "1", Role: r, Password: "long-enough-pw"})
		if err != nil {
			t.Fatal(err)
		}
		e.roles[r] = backoffice.Who{Op: op, Address: "192.0.2.10"}
	}
	if _, err := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь"}); err != nil {
		t.Fatal(err)
	}
	if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "home", Name: "Дом 100", Fee: money.Rub(500), DownKbps: 100000, UpKbps: 100000, Public: true}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) audit(t *testing.T, q operator.AuditQuery) []operator.Entry {
	t.Helper()
	got, err := e.o.Operators.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRoleBoundaries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testRoleBoundaries(t, db) })
}

func testRoleBoundaries(t *testing.T, db *store.DB) {
	ctx := context.Background()
	e := newEnv(t, db)
	a, err := e.o.SignContract(ctx, e.roles[operator.RoleManager], backoffice.NewContract{Name: "Смирнова Анна", Address: "ул. Советская, 2", Phone: "+7 900 000-00-02", Tariff: "home", City: "tver"})
	if err != nil {
		t.Fatal(err)
	}
	id := a.Account.ID
	actions := map[string]func(w backoffice.Who) error{
		"sign contract": func(w backoffice.Who) error {
			_, err := e.o.SignContract(ctx, w, backoffice.NewContract{Name: "Иванов Пётр Ильич", City: "tver", Address: "ул. Советская, 1", Phone: "+7 900 000-00-00", Tariff: "home"})
			return err
		},
		"reset password": func(w backoffice.Who) error {
			_, err := e.o.ResetPassword(ctx, w, id, "passport")
			return err
		},
		"block": func(w backoffice.Who) error { return e.o.SetStatus(ctx, w, id, billing.StatusActive, "") },
		"cash": func(w backoffice.Who) error {
			_, err := e.o.CashPayment(ctx, w, backoffice.Cash{CashIn: payment.CashIn{AccountID: id, Amount: money.Rub(1), Receipt: "r-" + w.Op.Login}})
			return err
		},
		"correct": func(w backoffice.Who) error {
			_, err := e.o.Correct(ctx, w, payment.Correction{AccountID: id, Amount: money.Rub(1), Reason: "test", Key: "k-" + w.Op.Login})
			return err
		},
		"edit tariff": func(w backoffice.Who) error { return e.o.ArchiveTariff(ctx, w, 1, false) },
	}
	allowed := map[operator.Role][]string{
		operator.RoleAdmin:   {"sign contract", "reset password", "block", "cash", "correct", "edit tariff"},
		operator.RoleManager: {"sign contract", "reset password", "block", "edit tariff"},
		operator.RoleCashier: {"cash"},
		operator.RoleSupport: {},
	}
	for role, ok := range allowed {
		for name, act := range actions {
			want := false
			for _, n := range ok {
				want = want || n == name
			}
			before := len(e.audit(t, operator.AuditQuery{Operator: string(role) + "1"}))
			err := act(e.roles[role])
			switch {
			case want && err != nil:
				t.Errorf("%s: %s: %v", role, name, err)
			case !want && !errors.Is(err, derrors.Forbidden):
				t.Errorf("%s: %s: %v, want ErrForbidden", role, name, err)
			}
			after := len(e.audit(t, operator.AuditQuery{Operator: string(role) + "1"}))
			if want && after != before+1 {
				t.Errorf("%s: %s: %d audit entries, want 1", role, name, after-before)
			}
			if !want && after != before {
				t.Errorf("%s: %s: refused action audited as done", role, name)
			}
		}
	}
}

func TestContractAndPasswordReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testContractAndPasswordReset(t, db) })
}

func testContractAndPasswordReset(t *testing.T, db *store.DB) {
	ctx := context.Background()
	e := newEnv(t, db)
	mgr := e.roles[operator.RoleManager]
	s, err := e.o.SignContract(ctx, mgr, backoffice.NewContract{Name: "Иванова Анна", Address: "ул. Советская, 1", City: "tver", Phone: "+7 900 111-22-33", Email: "anna@example.net", Tariff: "home"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Account.Login, "u") || len(s.Password) != 10 || !s.Mailed || !bytes.HasPrefix(s.PDF, []byte("%PDF")) {
		t.Errorf("signed: %+v mailed=%v", s.Account, s.Mailed)
	}
	if _, err := e.o.Dir.Authenticate(ctx, s.Account.Login, s.Password); err != nil {
		t.Errorf("the printed password does not log in: %v", err)
	}
	for _, q := range []string{"900 111-22", "Иванова", s.Account.ContractNo, s.Account.Login, "Советская", "ANNA@example"} {
		found, err := e.o.Dir.Search(ctx, q, 10)
		if err != nil || len(found) != 1 || found[0].ID != s.Account.ID {
			t.Errorf("search %q: %+v %v", q, found, err)
		}
	}
	if found, _ := e.o.Dir.Search(ctx, "nobody-like-this", 10); len(found) != 0 {
		t.Errorf("search found %+v", found)
	}
	q, _ := e.o.Mail.List(ctx, s.Account.ID, "", 10)
	if len(q) != 1 || q[0].Kind != notify.KindCredentials || !strings.Contains(q[0].Body, s.Password) {
		t.Errorf("credentials letter: %+v", q)
	}
	for _, ent := range e.audit(t, operator.AuditQuery{Object: "account:1"}) {
		if strings.Contains(ent.AfterJSON()+ent.Note, s.Password) {
			t.Errorf("the audit log keeps the password: %+v", ent)
		}
	}

	// Reset needs a note on how identity was confirmed.
	if _, err := e.o.ResetPassword(ctx, mgr, s.Account.ID, " "); !errors.Is(err, backoffice.ErrNoteRequired) {
		t.Errorf("reset without note: %v", err)
	}
	r, err := e.o.ResetPassword(ctx, mgr, s.Account.ID, "паспорт 28 04 123456")
	if err != nil {
		t.Fatal(err)
	}
	if r.MailedTo != "anna@example.net" || r.Password != "" || r.PDF != nil {
		t.Errorf("reset with e-mail showed the password: %+v", r)
	}
	if _, err := e.o.Dir.Authenticate(ctx, s.Account.Login, s.Password); err == nil {
		t.Error("the old password still works")
	}
	q, _ = e.o.Mail.List(ctx, s.Account.ID, "", 10)
	if len(q) != 2 || q[0].Kind != notify.KindPasswordReset {
		t.Fatalf("reset letter: %+v", q)
	}
	newPW := q[0].Body[strings.Index(q[0].Body, "Новый пароль: ")+len("Новый пароль: "):]
	newPW = strings.TrimSpace(newPW[:strings.IndexByte(newPW, '\n')])
	if _, err := e.o.Dir.Authenticate(ctx, s.Account.Login, newPW); err != nil {
		t.Errorf("the mailed password does not log in: %v", err)
	}
	ent := e.audit(t, operator.AuditQuery{Action: "subscriber.password_reset"})
	if len(ent) != 1 || !strings.Contains(ent[0].Note, "паспорт 28 04 123456") || ent[0].OperatorLogin != "manager1" {
		t.Errorf("reset audit: %+v", ent)
	}

	// Without e-mail the password is shown (and printed) once.
	noMail, err := e.o.SignContract(ctx, mgr, backoffice.NewContract{Name: "Петров Пётр", City: "tver", Address: "ул. Советская, 3", Phone: "+7 900 000-00-03", Tariff: "home"})
	if err != nil || noMail.Mailed {
		t.Fatalf("%+v %v", noMail, err)
	}
	r, err = e.o.ResetPassword(ctx, mgr, noMail.Account.ID, "в офисе, паспорт")
	if err != nil || r.MailedTo != "" || len(r.Password) != 10 || !bytes.HasPrefix(r.PDF, []byte("%PDF")) {
		t.Fatalf("reset without e-mail: %+v %v", r, err)
	}
	if _, err := e.o.Dir.Authenticate(ctx, noMail.Account.Login, r.Password); err != nil {
		t.Errorf("shown password does not log in: %v", err)
	}
}

func TestCorrectionNeedsReasonAndIsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testCorrectionNeedsReasonAndIsAudited(t, db) })
}

func testCorrectionNeedsReasonAndIsAudited(t *testing.T, db *store.DB) {
	ctx := context.Background()
	e := newEnv(t, db)
	admin := e.roles[operator.RoleAdmin]
	s, err := e.o.SignContract(ctx, admin, backoffice.NewContract{Name: "Иванов Пётр Ильич", City: "tver", Address: "ул. Советская, 1", Phone: "+7 900 000-00-00", Tariff: "home"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.Correct(ctx, admin, payment.Correction{AccountID: s.Account.ID, Amount: money.Rub(500), Key: "x"}); !errors.Is(err, payment.ErrReasonRequired) {
		t.Errorf("correction without reason: %v", err)
	}
	if _, err := e.o.Correct(ctx, admin, payment.Correction{AccountID: s.Account.ID, Amount: money.Rub(500), Reason: "двойное списание", Key: "y"}); err != nil {
		t.Fatal(err)
	}
	ent := e.audit(t, operator.AuditQuery{Action: "money.correct"})
	if len(ent) != 1 || ent[0].Note != "двойное списание" || !strings.Contains(ent[0].BeforeJSON(), `"balance":"-500.00"`) || !strings.Contains(ent[0].AfterJSON(), `"balance":"0.00"`) {
		t.Errorf("correction audit: %+v %s %s", ent, ent[0].BeforeJSON(), ent[0].AfterJSON())
	}
}

// A reversal names the account whose card it is made from: another
// account's transaction, or a missing one, is not found and stays as it is.
func TestReverseOnlyTheAccountsOwn(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, storetest.SQLite(t))
	admin := e.roles[operator.RoleAdmin]
	var ids []int64
	for range 2 {
		s, err := e.o.SignContract(ctx, admin, backoffice.NewContract{Name: "Иванов Пётр Ильич", City: "tver", Address: "ул. Советская, 1", Phone: "+7 900 000-00-00", Tariff: "home"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.Account.ID)
	}
	txn, err := e.o.Correct(ctx, admin, payment.Correction{AccountID: ids[0], Amount: money.Rub(100), Reason: "ошибка", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		account int64
		txn     int64
	}{{"another account's", ids[1], txn}, {"a missing one", ids[0], txn + 1000}} {
		if _, err := e.o.Reverse(ctx, admin, c.account, c.txn, "по ошибке"); !errors.Is(err, derrors.NotFound) {
			t.Errorf("reverse %s: %v, want not found", c.name, err)
		}
	}
	if got := e.audit(t, operator.AuditQuery{Action: "money.reverse"}); len(got) != 0 {
		t.Errorf("refused reversals audited: %+v", got)
	}
	if _, err := e.o.Reverse(ctx, admin, ids[0], txn, "по ошибке"); err != nil {
		t.Errorf("reverse the account's own: %v", err)
	}
}
