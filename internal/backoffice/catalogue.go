package backoffice

import (
	"context"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/operator"
)

// AddCity adds a city to the catalogue.
func (o *Office) AddCity(ctx context.Context, w Who, c billing.City) (billing.City, error) {
	if err := w.must(operator.EditCatalogue); err != nil {
		return c, err
	}
	c, err := billing.AddCity(ctx, o.DB, c)
	if err != nil {
		return c, err
	}
	return c, o.Operators.Record(ctx, w.actor(), operator.Entry{Action: "city.add", Object: fmt.Sprintf("city:%d", c.ID), After: c})
}

// AddTariff adds a tariff.
func (o *Office) AddTariff(ctx context.Context, w Who, t billing.Tariff) (billing.Tariff, error) {
	if err := w.must(operator.EditCatalogue); err != nil {
		return t, err
	}
	t, err := billing.AddTariff(ctx, o.DB, t, o.Clock.Now())
	if err != nil {
		return t, err
	}
	return t, o.Operators.Record(ctx, w.actor(), operator.Entry{Action: "tariff.add", Object: fmt.Sprintf("tariff:%d", t.ID), After: t})
}

// UpdateTariff changes a tariff; setting Archived is how a tariff is
// retired: subscribers keep it, new contracts cannot choose it, and the
// history that names it stays intact (there is no delete).
func (o *Office) UpdateTariff(ctx context.Context, w Who, t billing.Tariff) error {
	if err := w.must(operator.EditCatalogue); err != nil {
		return err
	}
	before, err := billing.TariffByID(ctx, o.DB, t.ID)
	if err != nil {
		return err
	}
	t.Code = before.Code // the code is the tariff's identity in the ledger
	if err := billing.UpdateTariff(ctx, o.DB, t); err != nil {
		return err
	}
	action := "tariff.update"
	if t.Archived && !before.Archived {
		action = "tariff.archive"
	}
	return o.Operators.Record(ctx, w.actor(), operator.Entry{Action: action, Object: fmt.Sprintf("tariff:%d", t.ID), Before: before, After: t})
}

// ArchiveTariff retires a tariff (or brings it back).
func (o *Office) ArchiveTariff(ctx context.Context, w Who, id int64, archived bool) error {
	t, err := billing.TariffByID(ctx, o.DB, id)
	if err != nil {
		return err
	}
	t.Archived = archived
	return o.UpdateTariff(ctx, w, t)
}

// AddPackage adds a package.
func (o *Office) AddPackage(ctx context.Context, w Who, p billing.Package) (billing.Package, error) {
	if err := w.must(operator.EditCatalogue); err != nil {
		return p, err
	}
	p, err := billing.AddPackage(ctx, o.DB, p, o.Clock.Now())
	if err != nil {
		return p, err
	}
	return p, o.Operators.Record(ctx, w.actor(), operator.Entry{Action: "package.add", Object: fmt.Sprintf("package:%d", p.ID), After: p})
}

// UpdatePackage changes a package (Archived retires it).
func (o *Office) UpdatePackage(ctx context.Context, w Who, p billing.Package) error {
	if err := w.must(operator.EditCatalogue); err != nil {
		return err
	}
	before, err := billing.PackageByCode(ctx, o.DB, p.Code)
	if err != nil {
		return err
	}
	p.ID = before.ID
	if err := billing.UpdatePackage(ctx, o.DB, p); err != nil {
		return err
	}
	return o.Operators.Record(ctx, w.actor(), operator.Entry{Action: "package.update", Object: fmt.Sprintf("package:%d", p.ID), Before: before, After: p})
}
