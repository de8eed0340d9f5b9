package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// The Tx variants below run inside a caller's transaction, so that the back
// office writes the change and its audit entry in one commit.

// CityByID finds a city.
func CityByID(ctx context.Context, q queryer, id int64) (City, error) {
	var c City
	err := q.QueryRow(ctx, `SELECT id, code, name, name_en FROM cities WHERE id = ?`, id).Scan(&c.ID, &c.Code, &c.Name, &c.NameEn)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("city %d: %w", id, derrors.NotFound)
	}
	return c, err
}

// UpdateCityTx renames a city (Russian and English names); the code stays,
// since tariffs, contracts and the public site name the city by it.
func UpdateCityTx(ctx context.Context, tx *store.Tx, c City) error {
	if strings.TrimSpace(c.Name) == "" {
		return fmt.Errorf("city %d: name is required: %w", c.ID, derrors.Invalid)
	}
	res, err := tx.Exec(ctx, `UPDATE cities SET name = ?, name_en = ? WHERE id = ?`, strings.TrimSpace(c.Name), strings.TrimSpace(c.NameEn), c.ID)
	if err != nil {
		return fmt.Errorf("city %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("city %d: %w", c.ID, derrors.NotFound)
	}
	return nil
}

// PackageByID finds a package.
func PackageByID(ctx context.Context, q queryer, id int64) (Package, error) {
	p, err := scanPackage(q.QueryRow(ctx, `SELECT `+packageCols+` FROM packages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("package %d: %w", id, derrors.NotFound)
	}
	return p, err
}

// UpdatePackageTx is UpdatePackage inside tx.
func UpdatePackageTx(ctx context.Context, tx *store.Tx, p Package) error {
	if err := p.check(); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE packages SET kind = ?, name = ?, name_en = ?, description = ?, price = ?, pricing = ?, duration_hours = ?, speed_percent = ?, city_id = ?, archived = ? WHERE id = ?`,
		p.Kind, p.Name, p.NameEn, p.Description, int64(p.Price), p.Pricing, p.DurationHours, p.SpeedPercent, nullID(p.CityID), p.Archived, p.ID)
	if err != nil {
		return fmt.Errorf("package %s: %w", p.Code, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("package %d: %w", p.ID, derrors.NotFound)
	}
	return nil
}
