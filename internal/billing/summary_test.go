package billing_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestSummaryInOneQuery: the summary read in one query (account, tariffs and
// packages joined) gives the packages connected now, newest first, and the
// fees and speed they make; Brief gives the same but for the texts it
// leaves out.
func TestSummaryInOneQuery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 3, 15, 12, 0, 0, 0, msk))
		id := e.account(t, "petrov", "home100")
		e.pay(t, id, 2000, "p1")
		check := func(wantPkgs ...string) billing.Summary {
			t.Helper()
			s := e.summary(t, id)
			var got []string
			for _, p := range s.Packages {
				got = append(got, p.Package.Code)
			}
			if !reflect.DeepEqual(got, wantPkgs) {
				t.Errorf("packages %v, want %v", got, wantPkgs)
			}
			if s.Login != "petrov" || s.CityID == 0 || s.ContractNo == "" {
				t.Errorf("holder: %q %d %q", s.Login, s.CityID, s.ContractNo)
			}
			b, err := e.b.Brief(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			// What Brief leaves out, cleared in the full summary.
			full := s
			full.Tariff.Description, full.Tariff.CityID, full.Tariff.Public, full.Tariff.Archived, full.Tariff.Prorate = "", 0, false, false, false
			if n := s.NextTariff; n != nil {
				next := billing.Tariff{ID: n.ID, Code: n.Code, Name: n.Name, NameEn: n.NameEn, Fee: n.Fee}
				full.NextTariff = &next
			}
			full.Packages = nil
			for _, p := range s.Packages {
				p.StartedAt, p.LicenseKey = time.Time{}, ""
				p.Package.ID, p.Package.Description, p.Package.DurationHours, p.Package.CityID, p.Package.Archived = 0, "", 0, 0, false
				full.Packages = append(full.Packages, p)
			}
			if !reflect.DeepEqual(b, full) {
				t.Errorf("brief:\n%+v\nsummary without what brief leaves out:\n%+v", b, full)
			}
			return s
		}
		s := check()
		if len(s.NextChargesByLabel) != 1 || s.NextFees != s.Tariff.Fee {
			t.Errorf("fees without packages: %+v", s.NextChargesByLabel)
		}
		for _, code := range []string{"tv", "drweb"} {
			e.clk.Set(e.clk.Now().Add(time.Minute))
			if _, err := e.b.Connect(ctx, id, code); err != nil {
				t.Fatal(err)
			}
		}
		e.clk.Set(e.clk.Now().Add(time.Minute))
		boost, err := e.b.Connect(ctx, id, "turbo")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.b.ChangeTariff(ctx, id, "fixed"); err != nil {
			t.Fatal(err)
		}
		s = check("turbo", "drweb", "tv")
		if !s.Speed.Boosted || s.Speed.DownKbps != 2*s.Tariff.DownKbps || !s.Speed.BoostEndsAt.Equal(boost.EndsAt) {
			t.Errorf("boosted speed: %+v", s.Speed)
		}
		if s.NextFees != money.Rub(300+200+99) || len(s.NextChargesByLabel) != 3 {
			t.Errorf("next fees %v with %+v", s.NextFees, s.NextChargesByLabel)
		}
		// A boost past its end is no longer connected, though not yet ended.
		e.clk.Set(boost.EndsAt.Add(time.Second))
		s = check("drweb", "tv")
		if s.Speed.Boosted {
			t.Errorf("boost after its end: %+v", s.Speed)
		}
		for _, sub := range s.Packages {
			if sub.Package.Code == "tv" {
				if err := e.b.Disconnect(ctx, id, sub.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		check("drweb")
		if _, err := e.b.Summary(ctx, 1<<40); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("unknown account: %v", err)
		}
		if _, err := e.b.Brief(ctx, 1<<40); !errors.Is(err, billing.ErrNotFound) {
			t.Errorf("unknown account, brief: %v", err)
		}
	})
}
