package billing

import (
	"context"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// catalogue is every tariff and package as of a version of the catalogue
// (the catalogue_version table, which triggers bump with every change to
// either table). Brief reads the version with the account and takes the
// rows from here while it matches: the home page then reads 16 columns
// instead of 30 and joins three tables fewer.
type catalogue struct {
	version  int64
	tariffs  map[int64]Tariff
	packages map[int64]Package
}

// catalogue returns the catalogue at version, reading it again when the one
// in memory is of another version.
func (b *Biller) catalogue(ctx context.Context, version int64) (*catalogue, error) {
	if c := b.cat.Load(); c != nil && c.version == version {
		return c, nil
	}
	// The version before the rows: rows read after it are at least as new,
	// so a change in between only makes the next view read them again; it
	// can never leave old rows in memory under a new version.
	c := &catalogue{tariffs: map[int64]Tariff{}, packages: map[int64]Package{}}
	if err := b.DB.QueryRow(ctx, `SELECT version FROM catalogue_version`).Scan(&c.version); err != nil {
		return nil, fmt.Errorf("catalogue version: %w", err)
	}
	tariffs, err := Tariffs(ctx, b.DB, 0, false)
	if err != nil {
		return nil, err
	}
	for _, t := range tariffs {
		c.tariffs[t.ID] = t
	}
	packages, err := Packages(ctx, b.DB, 0, false)
	if err != nil {
		return nil, err
	}
	for _, p := range packages {
		c.packages[p.ID] = p
	}
	b.cat.Store(c)
	return c, nil
}

// fromCatalogue fills in the tariffs and packages of a brief summary from
// their ids.
func (b *Biller) fromCatalogue(ctx context.Context, s *Summary, r *summaryRow) error {
	c, err := b.catalogue(ctx, r.catalogue)
	if err != nil {
		return err
	}
	var ok bool
	if s.Tariff, ok = c.tariffs[s.Tariff.ID]; !ok {
		return fmt.Errorf("tariff %d: %w", s.Tariff.ID, derrors.NotFound)
	}
	if r.nID.Valid {
		next, ok := c.tariffs[r.nID.Int64]
		if !ok {
			return fmt.Errorf("tariff %d: %w", r.nID.Int64, derrors.NotFound)
		}
		s.NextTariff = &next
	}
	for i := range s.Packages {
		id := s.Packages[i].Package.ID
		if s.Packages[i].Package, ok = c.packages[id]; !ok {
			return fmt.Errorf("package %d: %w", id, derrors.NotFound)
		}
	}
	return nil
}
