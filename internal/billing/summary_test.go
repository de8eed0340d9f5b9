package billing_test

import (
	"context"
	"errors"
	"github.com/kabinet-billing/kabinet/internal/derrors"
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
			// What Brief leaves out, cleared in the full summary: the
			// tariffs and packages it takes from memory are whole.
			full := s
			full.Packages = nil
			for _, p := range s.Packages {
				p.StartedAt, p.LicenseKey = time.Time{}, ""
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
		if _, err := e.b.Summary(ctx, 1<<40); !errors.Is(err, derrors.NotFound) {
			t.Errorf("unknown account: %v", err)
		}
		if _, err := e.b.Brief(ctx, 1<<40); !errors.Is(err, derrors.NotFound) {
			t.Errorf("unknown account, brief: %v", err)
		}
	})
}

// TestBriefSeesCatalogueChanges: Brief keeps the tariffs and packages in
// memory, yet shows a change to them on the next view, whoever made it: the
// catalogue's functions, or another process writing the tables directly.
func TestBriefSeesCatalogueChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 3, 15, 12, 0, 0, 0, msk))
		id := e.account(t, "petrov", "home100")
		if _, err := e.b.Connect(ctx, id, "tv"); err != nil {
			t.Fatal(err)
		}
		brief := func() billing.Summary {
			t.Helper()
			s, err := e.b.Brief(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if s := brief(); s.Tariff.Fee != money.Rub(500) || len(s.Packages) != 1 || s.Packages[0].Package.Price != money.Rub(200) {
			t.Fatalf("before: tariff %v, packages %+v", s.Tariff.Fee, s.Packages)
		}

		tr, err := billing.TariffByCode(ctx, db, "home100")
		if err != nil {
			t.Fatal(err)
		}
		tr.Fee, tr.Name = money.Rub(550), "Дом 100+"
		if err := billing.UpdateTariff(ctx, db, tr); err != nil {
			t.Fatal(err)
		}
		if s := brief(); s.Tariff.Fee != money.Rub(550) || s.Tariff.Name != "Дом 100+" || s.NextFees != money.Rub(750) {
			t.Errorf("after UpdateTariff: %+v, next fees %v", s.Tariff, s.NextFees)
		}

		// Another process (or an operator's SQL) changes a price.
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE packages SET price = ? WHERE code = 'tv'`, int64(money.Rub(250)))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if s := brief(); s.Packages[0].Package.Price != money.Rub(250) || s.NextFees != money.Rub(800) {
			t.Errorf("after a direct UPDATE: %+v, next fees %v", s.Packages[0].Package, s.NextFees)
		}

		// A package added after the catalogue was read, then connected.
		if _, err := billing.AddPackage(ctx, db, billing.Package{Code: "ip", Kind: billing.PackageOther, Name: "Белый IP", Price: money.Rub(150), Pricing: billing.PriceMonthly}, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.b.Connect(ctx, id, "ip"); err != nil {
			t.Fatal(err)
		}
		s := brief()
		var codes []string
		for _, p := range s.Packages {
			codes = append(codes, p.Package.Code+":"+p.Package.Name)
		}
		if !reflect.DeepEqual(codes, []string{"ip:Белый IP", "tv:ТВ"}) {
			t.Errorf("packages after adding one: %v", codes)
		}
		full, err := e.b.Summary(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if full.Tariff != s.Tariff || full.NextFees != s.NextFees {
			t.Errorf("summary %+v %v, brief %+v %v", full.Tariff, full.NextFees, s.Tariff, s.NextFees)
		}
	})
}
