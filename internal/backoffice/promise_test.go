package backoffice_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/backoffice"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestGrantPromise: an operator grants a promised payment under the
// subscriber's rules; the promise and its audit entry commit together, a
// refusal writes neither, and a role without the right is refused.
func TestGrantPromise(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.o.Promises = promise.New(db, e.clk, e.o.Biller, promise.DefaultRules())
		mgr := e.roles[operator.RoleManager]
		s, err := e.o.SignContract(ctx, mgr, backoffice.NewContract{Name: "Иванов Пётр Ильич", City: "tver", Address: "ул. Советская, 1", Phone: "+7 900 000-00-00", Tariff: "home"})
		if err != nil {
			t.Fatal(err)
		}
		id := s.Account.ID // in debt: the first month's fee, unpaid
		for _, c := range []struct {
			name   string
			who    backoffice.Who
			amount money.Amount
			want   error
		}{
			{"cashier may not", e.roles[operator.RoleCashier], money.Rub(100), derrors.Forbidden},
			{"too much", mgr, money.Rub(100000), promise.ErrAmount},
			{"granted", mgr, money.Rub(300), nil},
			{"again", mgr, money.Rub(300), promise.ErrOpen},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := len(e.audit(t, operator.AuditQuery{Action: "promise.grant"}))
				_, err := e.o.GrantPromise(ctx, c.who, id, c.amount, "позвонил, обещал оплатить в пятницу")
				if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
					t.Fatalf("grant: %v, want %v", err, c.want)
				}
				ent := e.audit(t, operator.AuditQuery{Action: "promise.grant"})
				if c.want != nil {
					if len(ent) != before {
						t.Errorf("a refused grant was audited")
					}
					return
				}
				if len(ent) != before+1 || ent[0].Object != "account:"+itoa(id) || !strings.Contains(ent[0].AfterJSON(), `"amount":"300.00"`) || ent[0].Note == "" {
					t.Errorf("audit: %+v %s", ent, ent[0].AfterJSON())
				}
			})
		}
		cur, err := e.o.Promises.Current(ctx, id)
		if err != nil || cur == nil || cur.Channel != promise.ChannelOffice || cur.Operator != mgr.Op.Login {
			t.Errorf("promise: %+v, %v", cur, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
