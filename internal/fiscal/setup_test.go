package fiscal_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// [fiscal] is checked when read: a wrong value names its key.
func TestSettingsFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Config)
		want string // substring of the error; "" none
	}{
		{"default", func(*config.Config) {}, ""},
		{"usn without VAT", func(c *config.Config) { c.Fiscal.SNO, c.Fiscal.VAT = "usn_income", "none" }, ""},
		{"percent sign", func(c *config.Config) { c.Fiscal.VAT = "22%" }, ""},
		{"bad sno", func(c *config.Config) { c.Fiscal.SNO = "envd" }, "sno"},
		{"bad vat", func(c *config.Config) { c.Fiscal.VAT = "18" }, "vat"},
		{"bad method", func(c *config.Config) { c.Fiscal.PaymentMethod = "cash" }, "payment_method"},
		{"bad object", func(c *config.Config) { c.Fiscal.PaymentObject = 0 }, "payment_object"},
		{"item without contract", func(c *config.Config) { c.Fiscal.Item = "Связь" }, "item"},
		{"bad inn", func(c *config.Config) { c.Provider.INN = "123" }, "inn"},
		{"no address", func(c *config.Config) { c.Provider.Site = "" }, "payment_address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.edit(&c)
			_, err := fiscal.SettingsFrom(c)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	c := config.Default()
	c.Fiscal.Operator = "atol"
	if _, err := fiscal.FromConfig(nil, nil, c, nil); err == nil || !strings.Contains(err.Error(), "group_code") {
		t.Errorf("atol without credentials: %v", err)
	}
}

// With operator "sandbox" the worker starts the built-in ATOL look-alike,
// sends a payment's receipt as soon as the payment commits, and stops when
// told to, the sandbox with it.
func TestRunWithSandbox(t *testing.T) {
	db := storetest.SQLite(t)
	clk := clock.NewFake(testNow)
	c := config.Default()
	c.Fiscal.Operator = "sandbox"
	q, err := fiscal.FromConfig(db, clk, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := billing.New(db, clk, billing.DefaultRules())
	b.Hook = q
	pay := payment.NewService(db, clk, b, nil, payment.Options{})
	acct := storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "petrov", At: testNow})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { q.Run(ctx, time.Hour) })
	if _, _, err := pay.Record(ctx, payment.ManualIn{Channel: "card:sandbox", ExternalID: "c-1", AccountID: acct, Amount: 50000, Operator: "t"}); err != nil {
		t.Fatal(err)
	}
	status := func() string {
		rs, err := q.List(context.Background(), fiscal.Filter{})
		if err != nil || len(rs) != 1 {
			t.Fatalf("receipts: %v %v", rs, err)
		}
		return rs[0].Status
	}
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); status() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("receipt %s, want %s", status(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(fiscal.StatusWait) // sent on the payment's commit, not on a tick
	clk.Advance(time.Minute)
	q.Wake()
	waitFor(fiscal.StatusDone)
	cancel()
	wg.Wait()
}
