package main

import (
	"context"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	assets "github.com/kabinet-billing/kabinet/web"
)

// seedDemoDocuments issues the demo organisations' documents after
// seedDemoCompanies: last month's invoices as issued on its 1st, its acts
// and this month's invoices as issued on this month's 1st (the payments
// seeded since then count towards them: the pharmacy's two months are
// paid, the shop's partly), next month's from the invoice day, and a
// reconciliation act of the pharmacy since its contract.
func seedDemoDocuments(ctx context.Context, e *env, clk clock.Clock, b *billing.Biller, dir *subscriber.Directory) error {
	co := company.New(e.db, clk, b, dir)
	opts, err := documents.OptionsFrom(e.cfg)
	if err != nil {
		return err
	}
	fonts, err := contract.LoadFonts(assets.FS)
	if err != nil {
		return err
	}
	zone := e.cfg.Zone()
	now := clk.Now().In(zone)
	month := time.Date(now.Year(), now.Month(), 1, 9, 0, 0, 0, zone)
	dc := clock.NewFake(month)
	s, err := documents.New(e.db, dc, documents.Companies{C: co}, fonts, opts)
	if err != nil {
		return err
	}
	// Last month's invoice on its 1st; on this month's 1st, last month's
	// acts (the points date from then) and this month's invoices.
	dc.Set(month.AddDate(0, -1, 0))
	if _, err := s.Run(ctx, month.AddDate(0, -1, 0).Format("2006-01")); err != nil {
		return err
	}
	dc.Set(month)
	for _, m := range []time.Time{month.AddDate(0, -1, 0), month} {
		if _, err := s.Run(ctx, m.Format("2006-01")); err != nil {
			return err
		}
	}
	dc.Set(now)
	if now.Day() >= s.Options().InvoiceDay {
		if _, err := s.Run(ctx, month.AddDate(0, 1, 0).Format("2006-01")); err != nil {
			return err
		}
	}
	if _, err := s.Settle(ctx); err != nil {
		return err
	}
	if pharmacy, err := co.ByINN(ctx, "6950555555"); err == nil {
		from, _ := time.Parse("2006-01-02", pharmacy.ContractDate)
		if _, err := s.Reconcile(ctx, pharmacy.ID, from, now); err != nil {
			return err
		}
	}
	return nil
}
