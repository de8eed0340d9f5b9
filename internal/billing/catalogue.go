package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"regexp"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// City where the provider serves.
type City struct {
	ID     int64
	Code   string
	Name   string
	NameEn string
}

// Tariff is an internet plan.
type Tariff struct {
	ID          int64
	Code        string
	Name        string
	NameEn      string
	Description string
	Fee         money.Amount // monthly
	DownKbps    int64
	UpKbps      int64
	CityID      int64 // 0: every city
	Public      bool
	Archived    bool
	Prorate     bool
}

// Package kinds.
const (
	PackageTV        = "tv"
	PackageAntivirus = "antivirus"
	PackageStaticIP  = "static_ip"
	PackageBoost     = "boost"
	PackageOther     = "other"
)

// Package pricing.
const (
	PriceMonthly  = "monthly"
	PriceOnce     = "once"
	PriceDuration = "duration"
)

// Package is an extra service on top of the tariff.
type Package struct {
	ID            int64
	Code          string
	Kind          string
	Name          string
	NameEn        string
	Description   string
	Price         money.Amount
	Pricing       string
	DurationHours int
	SpeedPercent  int // boosts: the speed as a percent of the tariff's
	CityID        int64
	Archived      bool
}

var (
	codeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)
)

// queryer is a reader pool or a write transaction.
type queryer interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// ParseSpeed reads "100M", "512k", "1G", "2048" (kbit/s) into kbit/s.
func ParseSpeed(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"), strings.HasSuffix(s, "g"):
		mult, s = 1000*1000, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1000, s[:len(s)-1]
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		s = s[:len(s)-1]
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != s {
		return 0, fmt.Errorf("speed %q: want a positive number with k, M or G: %w", s, derrors.Invalid)
	}
	return n * mult, nil
}

// FormatSpeed renders kbit/s as "100M", "512k".
func FormatSpeed(kbps int64) string {
	switch {
	case kbps%1000000 == 0:
		return fmt.Sprintf("%dG", kbps/1000000)
	case kbps%1000 == 0:
		return fmt.Sprintf("%dM", kbps/1000)
	}
	return fmt.Sprintf("%dk", kbps)
}

// SpeedWords is a speed as a person reads it in lang: "100 Мбит/с",
// "1 Gbit/s", "512 Кбит/с".
func SpeedWords(lang string, kbps int64) string {
	unit, v := "kbit/s", kbps
	switch {
	case kbps >= 1000000 && kbps%1000000 == 0:
		unit, v = "Gbit/s", kbps/1000000
	case kbps >= 1000 && kbps%1000 == 0:
		unit, v = "Mbit/s", kbps/1000
	}
	if lang != "en" {
		unit = map[string]string{"kbit/s": "Кбит/с", "Mbit/s": "Мбит/с", "Gbit/s": "Гбит/с"}[unit]
	}
	return fmt.Sprintf("%d %s", v, unit)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// AddCity creates a city.
func AddCity(ctx context.Context, db *store.DB, c City) (City, error) {
	if !codeRe.MatchString(c.Code) || strings.TrimSpace(c.Name) == "" {
		return c, fmt.Errorf("city %q: code and name are required: %w", c.Code, derrors.Invalid)
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO cities (code, name, name_en) VALUES (?, ?, ?) RETURNING id`, c.Code, c.Name, c.NameEn).Scan(&c.ID)
	})
	if store.IsUniqueViolation(err) {
		return c, fmt.Errorf("city %s: %w", c.Code, derrors.Exists)
	}
	return c, err
}

// Cities lists all cities by name.
func Cities(ctx context.Context, db *store.DB) ([]City, error) {
	rows, err := db.Query(ctx, `SELECT id, code, name, name_en FROM cities ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("cities: %w", err)
	}
	defer rows.Close()
	var out []City
	for rows.Next() {
		var c City
		if err := rows.Scan(&c.ID, &c.Code, &c.Name, &c.NameEn); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CityByCode finds a city by its code or its name.
func CityByCode(ctx context.Context, q queryer, code string) (City, error) {
	var c City
	err := q.QueryRow(ctx, `SELECT id, code, name, name_en FROM cities WHERE code = ? OR name = ?`, code, code).Scan(&c.ID, &c.Code, &c.Name, &c.NameEn)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("city %q: %w", code, derrors.NotFound)
	}
	return c, err
}

func (t Tariff) check() error {
	switch {
	case !codeRe.MatchString(t.Code):
		return fmt.Errorf("tariff code %q: letters, digits, '-', '_' or '.', up to 40: %w", t.Code, derrors.Invalid)
	case strings.TrimSpace(t.Name) == "":
		return fmt.Errorf("tariff %s: name is required: %w", t.Code, derrors.Invalid)
	case t.Fee < 0:
		return fmt.Errorf("tariff %s: fee must not be negative: %w", t.Code, derrors.Invalid)
	case t.DownKbps <= 0 || t.UpKbps <= 0:
		return fmt.Errorf("tariff %s: speeds must be positive: %w", t.Code, derrors.Invalid)
	}
	return nil
}

// AddTariff creates a tariff.
func AddTariff(ctx context.Context, db *store.DB, t Tariff, now time.Time) (Tariff, error) {
	if err := t.check(); err != nil {
		return t, err
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO tariffs (code, name, name_en, description, fee, down_kbps, up_kbps, city_id, public, archived, prorate, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.Code, t.Name, t.NameEn, t.Description, int64(t.Fee), t.DownKbps, t.UpKbps, nullID(t.CityID), t.Public, t.Archived, t.Prorate, now.UTC()).Scan(&t.ID)
	})
	if store.IsUniqueViolation(err) {
		return t, fmt.Errorf("tariff %s: %w", t.Code, derrors.Exists)
	}
	if err != nil {
		return t, fmt.Errorf("tariff %s: %w", t.Code, err)
	}
	return t, nil
}

// UpdateTariff changes a tariff's name, fee, speeds, city and flags. A new
// fee applies from the next charge; what was charged stays.
func UpdateTariff(ctx context.Context, db *store.DB, t Tariff) error {
	if err := t.check(); err != nil {
		return err
	}
	return db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE tariffs SET name = ?, name_en = ?, description = ?, fee = ?, down_kbps = ?, up_kbps = ?, city_id = ?, public = ?, archived = ?, prorate = ? WHERE id = ?`,
			t.Name, t.NameEn, t.Description, int64(t.Fee), t.DownKbps, t.UpKbps, nullID(t.CityID), t.Public, t.Archived, t.Prorate, t.ID)
		if err != nil {
			return fmt.Errorf("tariff %s: %w", t.Code, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("tariff %d: %w", t.ID, derrors.NotFound)
		}
		return nil
	})
}

// tariffColumns lists the tariff columns, each with prefix (a table alias).
func tariffColumns(p string) string {
	return strings.NewReplacer("@", p).Replace(`@id, @code, @name, @name_en, @description, @fee, @down_kbps, @up_kbps, COALESCE(@city_id, 0), @public, @archived, @prorate`)
}

var tariffCols = tariffColumns("")

func scanTariff(row interface{ Scan(...any) error }) (Tariff, error) {
	var t Tariff
	err := row.Scan(&t.ID, &t.Code, &t.Name, &t.NameEn, &t.Description, &t.Fee, &t.DownKbps, &t.UpKbps, &t.CityID, &t.Public, &t.Archived, &t.Prorate)
	return t, err
}

// TariffByCode finds a tariff.
func TariffByCode(ctx context.Context, q queryer, code string) (Tariff, error) {
	t, err := scanTariff(q.QueryRow(ctx, `SELECT `+tariffCols+` FROM tariffs WHERE code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("tariff %q: %w", code, derrors.NotFound)
	}
	return t, err
}

// TariffByID finds a tariff.
func TariffByID(ctx context.Context, q queryer, id int64) (Tariff, error) {
	t, err := scanTariff(q.QueryRow(ctx, `SELECT `+tariffCols+` FROM tariffs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("tariff %d: %w", id, derrors.NotFound)
	}
	return t, err
}

// Tariffs lists tariffs. cityID 0 lists every city; offered limits the list to
// what a subscriber or visitor may choose (public, not archived, the city's or
// every city's).
func Tariffs(ctx context.Context, q queryer, cityID int64, offered bool) ([]Tariff, error) {
	query := `SELECT ` + tariffCols + ` FROM tariffs WHERE 1 = 1`
	var args []any
	if cityID != 0 {
		query += ` AND (city_id IS NULL OR city_id = ?)`
		args = append(args, cityID)
	}
	if offered {
		query += ` AND public = ? AND archived = ?`
		args = append(args, true, false)
	}
	rows, err := q.Query(ctx, query+` ORDER BY fee, code`, args...)
	if err != nil {
		return nil, fmt.Errorf("tariffs: %w", err)
	}
	defer rows.Close()
	var out []Tariff
	for rows.Next() {
		t, err := scanTariff(rows)
		if err != nil {
			return nil, fmt.Errorf("tariffs: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Offered tells whether a subscriber in cityID may choose t.
func (t Tariff) Offered(cityID int64) bool {
	return t.Public && !t.Archived && (t.CityID == 0 || t.CityID == cityID)
}

func (p Package) check() error {
	switch {
	case !codeRe.MatchString(p.Code):
		return fmt.Errorf("package code %q: %w", p.Code, derrors.Invalid)
	case strings.TrimSpace(p.Name) == "":
		return fmt.Errorf("package %s: name is required: %w", p.Code, derrors.Invalid)
	case p.Price < 0:
		return fmt.Errorf("package %s: price must not be negative: %w", p.Code, derrors.Invalid)
	}
	switch p.Kind {
	case PackageTV, PackageAntivirus, PackageStaticIP, PackageBoost, PackageOther:
	default:
		return fmt.Errorf("package %s: kind %q: %w", p.Code, p.Kind, derrors.Invalid)
	}
	switch p.Pricing {
	case PriceMonthly, PriceOnce:
	case PriceDuration:
		if p.DurationHours <= 0 {
			return fmt.Errorf("package %s: a per-duration price needs the duration: %w", p.Code, derrors.Invalid)
		}
	default:
		return fmt.Errorf("package %s: pricing %q: %w", p.Code, p.Pricing, derrors.Invalid)
	}
	if p.Kind == PackageBoost && p.SpeedPercent <= 100 {
		return fmt.Errorf("package %s: a boost needs a speed above 100%%: %w", p.Code, derrors.Invalid)
	}
	return nil
}

// AddPackage creates a package.
func AddPackage(ctx context.Context, db *store.DB, p Package, now time.Time) (Package, error) {
	if err := p.check(); err != nil {
		return p, err
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO packages (code, kind, name, name_en, description, price, pricing, duration_hours, speed_percent, city_id, archived, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			p.Code, p.Kind, p.Name, p.NameEn, p.Description, int64(p.Price), p.Pricing, p.DurationHours, p.SpeedPercent, nullID(p.CityID), p.Archived, now.UTC()).Scan(&p.ID)
	})
	if store.IsUniqueViolation(err) {
		return p, fmt.Errorf("package %s: %w", p.Code, derrors.Exists)
	}
	if err != nil {
		return p, fmt.Errorf("package %s: %w", p.Code, err)
	}
	return p, nil
}

// UpdatePackage changes a package's description, price and flags.
func UpdatePackage(ctx context.Context, db *store.DB, p Package) error {
	if err := p.check(); err != nil {
		return err
	}
	return db.Write(ctx, func(tx *store.Tx) error { return UpdatePackageTx(ctx, tx, p) })
}

// packageColumns lists the package columns, each with prefix (a table alias).
func packageColumns(p string) string {
	return strings.NewReplacer("@", p).Replace(`@id, @code, @kind, @name, @name_en, @description, @price, @pricing, @duration_hours, @speed_percent, COALESCE(@city_id, 0), @archived`)
}

var packageCols = packageColumns("")

func scanPackage(row interface{ Scan(...any) error }) (Package, error) {
	var p Package
	err := row.Scan(&p.ID, &p.Code, &p.Kind, &p.Name, &p.NameEn, &p.Description, &p.Price, &p.Pricing, &p.DurationHours, &p.SpeedPercent, &p.CityID, &p.Archived)
	return p, err
}

// PackageByCode finds a package.
func PackageByCode(ctx context.Context, q queryer, code string) (Package, error) {
	p, err := scanPackage(q.QueryRow(ctx, `SELECT `+packageCols+` FROM packages WHERE code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("package %q: %w", code, derrors.NotFound)
	}
	return p, err
}

// Packages lists packages; cityID and offered filter as for Tariffs.
func Packages(ctx context.Context, q queryer, cityID int64, offered bool) ([]Package, error) {
	query := `SELECT ` + packageCols + ` FROM packages WHERE 1 = 1`
	var args []any
	if cityID != 0 {
		query += ` AND (city_id IS NULL OR city_id = ?)`
		args = append(args, cityID)
	}
	if offered {
		query += ` AND archived = ?`
		args = append(args, false)
	}
	rows, err := q.Query(ctx, query+` ORDER BY kind, price, code`, args...)
	if err != nil {
		return nil, fmt.Errorf("packages: %w", err)
	}
	defer rows.Close()
	var out []Package
	for rows.Next() {
		p, err := scanPackage(rows)
		if err != nil {
			return nil, fmt.Errorf("packages: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
