package backoffice

import (
	"context"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
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
	return c, o.Record(ctx, w, operator.Entry{Action: "city.add", Object: fmt.Sprintf("city:%d", c.ID), After: c})
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
	return t, o.Record(ctx, w, operator.Entry{Action: "tariff.add", Object: fmt.Sprintf("tariff:%d", t.ID), After: t})
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
	return o.Record(ctx, w, operator.Entry{Action: action, Object: fmt.Sprintf("tariff:%d", t.ID), Before: before, After: t})
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
	return p, o.Record(ctx, w, operator.Entry{Action: "package.add", Object: fmt.Sprintf("package:%d", p.ID), After: p})
}

// UpdatePackage changes a package (Archived retires it: subscribers who
// have it keep it, it is no longer offered, and nothing is deleted). The
// change and its audit entry commit together.
func (o *Office) UpdatePackage(ctx context.Context, w Who, p billing.Package) error {
	if err := w.must(operator.EditCatalogue); err != nil {
		return err
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		before, err := billing.PackageByCode(ctx, tx, p.Code)
		if err != nil {
			return operator.Entry{}, err
		}
		p.ID, p.Code = before.ID, before.Code
		if err := billing.UpdatePackageTx(ctx, tx, p); err != nil {
			return operator.Entry{}, err
		}
		action := "package.update"
		switch {
		case p.Archived && !before.Archived:
			action = "package.archive"
		case !p.Archived && before.Archived:
			action = "package.restore"
		}
		return operator.Entry{Action: action, Object: fmt.Sprintf("package:%d", p.ID), Before: before, After: p}, nil
	})
}

// ArchivePackage retires (or brings back) a package.
func (o *Office) ArchivePackage(ctx context.Context, w Who, id int64, archived bool) error {
	if err := w.must(operator.EditCatalogue); err != nil {
		return err
	}
	p, err := billing.PackageByID(ctx, o.DB, id)
	if err != nil {
		return err
	}
	p.Archived = archived
	return o.UpdatePackage(ctx, w, p)
}

// UpdateCity renames a city; its code stays.
func (o *Office) UpdateCity(ctx context.Context, w Who, c billing.City) error {
	if err := w.must(operator.EditCatalogue); err != nil {
		return err
	}
	return o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		before, err := billing.CityByID(ctx, tx, c.ID)
		if err != nil {
			return operator.Entry{}, err
		}
		c.Code = before.Code
		if err := billing.UpdateCityTx(ctx, tx, c); err != nil {
			return operator.Entry{}, err
		}
		after, err := billing.CityByID(ctx, tx, c.ID)
		return operator.Entry{Action: "city.update", Object: fmt.Sprintf("city:%d", c.ID), Before: before, After: after}, err
	})
}
