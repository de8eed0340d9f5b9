package autopay

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestOneLetterPerCharge: a charge made by autopay is told by autopay's own
// result letter only, not by a "payment received" letter as well; any
// other payment still gets its "payment received".
func TestOneLetterPerCharge(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	clk := clock.NewFake(december)
	bill := billing.New(db, clk, billing.DefaultRules())
	proc := &fakeProc{}
	pay := payment.NewService(db, clk, bill, []payment.Processor{proc}, payment.Options{PublicURL: "https://isp.example"})
	mail := notify.New(db, clk, nil, bill, notify.Options{Provider: config.Default().Provider})
	w := world{db, clk, pay, New(db, clk, pay, bill, mail, testCfg, nil), proc}
	acct, method := w.subscriber(t, "100045")
	if err := w.svc.Enable(ctx, acct, method, RuleFixed, 30000); err != nil {
		t.Fatal(err)
	}
	if _, err := mail.HandleEvents(ctx); err != nil { // the first run only sets the cursor
		t.Fatal(err)
	}
	clk.Set(chargeDay)
	if r := pass(t, w.svc); r.Succeeded != 1 {
		t.Fatalf("pass %+v", r)
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := bill.Credit(ctx, tx, acct, "cash", "R-1", 10000, "", chargeDay)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mail.HandleEvents(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(ctx, `SELECT kind FROM notifications WHERE account_id = ? ORDER BY id`, acct)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		got[k]++
	}
	rows.Close()
	if got[notify.KindAutopayCharged] != 1 || got[notify.KindPaymentReceived] != 1 || len(got) != 2 {
		t.Errorf("letters %v: want one autopay_charged and one payment_received (the cash payment's)", got)
	}
}

// TestOperatorDisable: the back office's list shows who has autopay and
// the latest charge; an operator turns it off in the caller's transaction,
// the charge planned is not made, the subscriber's history says who did it,
// and turning it off again is refused.
func TestOperatorDisable(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	w := newWorld(t, db, &fakeProc{script: []payment.ChargeResult{noFunds}}, clock.NewFake(december))
	acct, method := w.subscriber(t, "100045")
	other, method2 := w.subscriber(t, "100046")
	w.svc.Enable(ctx, acct, method, RuleFixed, 30000)
	w.svc.Enable(ctx, other, method2, RuleRecommended, 0)
	w.svc.Disable(ctx, other)
	w.clk.Set(chargeDay)
	pass(t, w.svc) // declined: retried tomorrow

	rows, err := w.svc.List(ctx, Filter{State: "on"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].AccountID != acct || rows[0].ContractNo != "100045" || rows[0].Card != "Visa •••• 4242" ||
		rows[0].Last.Status != StatusDue || rows[0].Last.Reason != string(payment.ReasonNoFunds) || rows[0].Last.Amount != 30000 {
		t.Fatalf("on: %+v", rows)
	}
	if all, _ := w.svc.List(ctx, Filter{}); len(all) != 2 {
		t.Errorf("all: %d rows", len(all))
	}
	if _, err := w.svc.List(ctx, Filter{State: "maybe"}); err == nil {
		t.Error("an unknown state accepted")
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		before, err := w.svc.DisableTx(ctx, tx, acct, "anna")
		if err == nil && !before.Enabled {
			t.Errorf("before %+v", before)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		_, err := w.svc.DisableTx(ctx, tx, acct, "anna")
		return err
	})
	if !errors.Is(err, ErrAlreadyOff) {
		t.Errorf("off twice: %v", err)
	}
	w.clk.Set(chargeDay.AddDate(0, 0, 1).Add(1))
	pass(t, w.svc)
	if cs, _ := w.svc.Charges(ctx, acct, 0); len(cs) != 1 || cs[0].Status != StatusSkipped || len(w.proc.keys) != 1 {
		t.Errorf("charges after the operator turned it off: %+v (processor asked %d times)", cs, len(w.proc.keys))
	}
	var by string
	if err := db.QueryRow(ctx, `SELECT data FROM events WHERE account_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`, acct, EventDisabled).Scan(&by); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(by, "operator:anna") {
		t.Errorf("disabled event %s", by)
	}
}
