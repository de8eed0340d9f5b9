package support

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Application is a visitor's "connect me" left on the public site.
type Application struct {
	ID         int64
	CityID     int64
	TariffCode string
	Name       string
	Phone      string
	Address    string
	Comment    string
	Status     string // new, called, contracted, rejected
	Operator   string
	CreatedAt  time.Time
}

// Apply records an application; name and phone are required.
func (s *Service) Apply(ctx context.Context, a Application) (Application, error) {
	var err error
	if a.Name, err = cleanText(a.Name, 200); err != nil {
		return a, fmt.Errorf("application name: %w", err)
	}
	if a.Phone, err = cleanText(a.Phone, 40); err != nil {
		return a, fmt.Errorf("application phone: %w", err)
	}
	if len(a.Address) > 500 || len(a.Comment) > MaxBody || len(a.TariffCode) > 40 {
		return a, fmt.Errorf("application: %w", derrors.Invalid)
	}
	a.Status, a.CreatedAt = "new", s.Clock.Now()
	var city any
	if a.CityID != 0 {
		city = a.CityID
	}
	err = s.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO connection_applications (city_id, tariff_code, name, phone, address, comment, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, city, a.TariffCode, a.Name, a.Phone, a.Address, a.Comment, a.Status,
			a.CreatedAt.UTC(), a.CreatedAt.UTC()).Scan(&a.ID)
	})
	if err != nil {
		return a, fmt.Errorf("application: %w", err)
	}
	return a, nil
}

// Applications lists applications with status ("" for all), newest first.
func (s *Service) Applications(ctx context.Context, status string, limit int) ([]Application, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.DB.Query(ctx, `SELECT id, city_id, tariff_code, name, phone, address, comment, status, operator, created_at
		FROM connection_applications WHERE (? = '' OR status = ?) ORDER BY created_at DESC, id DESC LIMIT ?`, status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	defer rows.Close()
	var out []Application
	for rows.Next() {
		var a Application
		var city sql.NullInt64
		if err := rows.Scan(&a.ID, &city, &a.TariffCode, &a.Name, &a.Phone, &a.Address, &a.Comment, &a.Status, &a.Operator, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("applications: %w", err)
		}
		a.CityID = city.Int64
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetApplicationStatus records what the operator did with an application.
func (s *Service) SetApplicationStatus(ctx context.Context, id int64, status, operator string) error {
	return s.DB.Write(ctx, func(tx *store.Tx) error { return SetApplicationStatus(ctx, tx, s.Clock.Now(), id, status, operator) })
}

// SetApplicationStatus is Service.SetApplicationStatus inside tx, for a
// caller that writes more in the same transaction (the back office, its
// audit entry).
func SetApplicationStatus(ctx context.Context, tx *store.Tx, now time.Time, id int64, status, operator string) error {
	switch status {
	case "new", "called", "contracted", "rejected":
	default:
		return fmt.Errorf("application status %q: %w", status, derrors.Invalid)
	}
	res, err := tx.Exec(ctx, `UPDATE connection_applications SET status = ?, operator = ?, updated_at = ? WHERE id = ?`, status, operator, now.UTC(), id)
	if err != nil {
		return fmt.Errorf("application %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("application %d: %w", id, derrors.NotFound)
	}
	return nil
}
