package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// Two instances' schedulers bill a new month once, and only one bills at a time.
func TestSchedulerBillsAtPeriodBoundary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 20, 12, 0, 0, 0, msk))
		id := e.account(t, "sched", "fixed")
		a := &billing.Scheduler{Biller: e.b}
		b := &billing.Scheduler{Biller: billing.New(db, e.clk, billing.DefaultRules())}
		for _, s := range []*billing.Scheduler{a, b} {
			if err := s.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := e.summary(t, id).Balance; got != money.Rub(-300) {
			t.Fatalf("December: %v", got)
		}
		e.clk.Set(time.Date(2027, 1, 1, 0, 1, 0, 0, msk))
		for range 3 {
			for _, s := range []*billing.Scheduler{a, b} {
				if err := s.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Charged once; the debt began on December 20th, so it is not a
		// month old yet.
		s := e.summary(t, id)
		if s.Balance != money.Rub(-600) || s.Status != billing.StatusActive {
			t.Errorf("January 1st: %v %s", s.Balance, s.Status)
		}
		// On January 20th it is, and a plain tick limits the line.
		e.clk.Set(time.Date(2027, 1, 20, 12, 0, 1, 0, msk))
		if err := b.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if s := e.summary(t, id); s.Status != billing.StatusLimited || s.Balance != money.Rub(-600) {
			t.Errorf("January 20th: %v %s", s.Balance, s.Status)
		}
		verify(t, db)
	})
}
