// Package config reads Kabinet's settings: one TOML file plus KABINET_*
// environment variables, with defaults that let `kabinet demo` run with
// neither.
package config

import (
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/BurntSushi/toml"
)

// GCPercent is the garbage collector's target Kabinet runs with unless the
// GOGC environment variable sets one. The data lives in the database, so
// little of the heap survives a collection (14 MB serving the portal for
// 100,000 subscribers), and Go's default of 100 then collects a dozen times
// a second under load, a tenth of the CPU. At 400 the heap grows to five
// times what survives before the next collection: tens of megabytes more
// for a quarter of the collections.
const GCPercent = 400

// SetGC applies GCPercent unless GOGC is set. Every command calls it before
// it starts, and so do the benchmarks that stand in for `kabinet serve`.
func SetGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}

// Office is a place where subscribers are served.
type Office struct {
	Address string `toml:"address"`
	Hours   string `toml:"hours"`
}

// Provider describes the ISP to its subscribers (pages, statements, mail).
type Provider struct {
	Name      string   `toml:"name"`
	LegalName string   `toml:"legal_name"`
	INN       string   `toml:"inn"`
	Address   string   `toml:"address"`
	Phone     string   `toml:"phone"`
	Email     string   `toml:"email"`
	Site      string   `toml:"site"`
	Offices   []Office `toml:"offices"`
}

// Billing rules.
type Billing struct {
	Zone           string `toml:"zone"`             // provider's time zone
	GraceMonths    int    `toml:"grace_months"`     // debt older than this limits the line
	GraceDays      int    `toml:"grace_days"`       // added to GraceMonths
	LimitKbps      int64  `toml:"limit_kbps"`       // the limit rate
	BonusPercentBP int64  `toml:"bonus_percent_bp"` // bonus points per payment, basis points (100 = 1%)
}

// Config is everything Kabinet reads at start.
type Config struct {
	DB        string   `toml:"db"`
	DataDir   string   `toml:"data_dir"`
	HTTPAddr  string   `toml:"http_addr"`
	PublicURL string   `toml:"public_url"`
	SecretKey string   `toml:"secret_key"` // hex, 32 bytes: encrypts RADIUS copies of passwords
	Provider  Provider `toml:"provider"`
	Billing   Billing  `toml:"billing"`
	// Sections owned by other capabilities ([payment], [radius], [mail], …)
	// are decoded by them through Section.
	raw   map[string]toml.Primitive
	rawMD toml.MetaData
}

// Default is what the demo and a bare `kabinet serve` run with.
func Default() Config {
	return Config{
		DB:       "sqlite:./kabinet.db",
		DataDir:  ".",
		HTTPAddr: "127.0.0.1:8080",
		Provider: Provider{
			Name:      "Сеть-Регион",
			LegalName: "ООО «Сеть-Регион»",
			INN:       "7701234567",
			Address:   "г. Тверь, ул. Советская, д. 10",
			Phone:     "+7 (4822) 55-00-00",
			Email:     "support@set-region.example",
			Site:      "https://set-region.example",
			Offices: []Office{
				{Address: "Тверь, ул. Советская, 10", Hours: "пн–пт 9:00–19:00, сб 10:00–16:00"},
				{Address: "Торжок, ул. Ленина, 5", Hours: "пн–пт 9:00–18:00"},
			},
		},
		Billing: Billing{Zone: "Europe/Moscow", GraceMonths: 1, LimitKbps: 128, BonusPercentBP: 100},
	}
}

// Load reads path (may be empty) over the defaults, then the environment.
func Load(path string) (Config, error) {
	c := Default()
	if path != "" {
		if _, err := toml.DecodeFile(path, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
		md, err := toml.DecodeFile(path, &c.raw)
		if err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
		c.rawMD = md
	}
	env := map[string]*string{
		"KABINET_DB":         &c.DB,
		"KABINET_DATA_DIR":   &c.DataDir,
		"KABINET_HTTP_ADDR":  &c.HTTPAddr,
		"KABINET_PUBLIC_URL": &c.PublicURL,
		"KABINET_SECRET_KEY": &c.SecretKey,
		"KABINET_ZONE":       &c.Billing.Zone,
	}
	for k, p := range env {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			*p = v
		}
	}
	if v := os.Getenv("KABINET_LIMIT_KBPS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("KABINET_LIMIT_KBPS=%q: not a positive number", v)
		}
		c.Billing.LimitKbps = n
	}
	return c, c.Check()
}

// Section decodes the TOML table name into v (a capability's own settings).
// It leaves v as it is when the file has no such table.
func (c Config) Section(name string, v any) error {
	p, ok := c.raw[name]
	if !ok {
		return nil
	}
	if err := c.rawMD.PrimitiveDecode(p, v); err != nil {
		return fmt.Errorf("config [%s]: %w", name, err)
	}
	return nil
}

// Check validates the values.
func (c Config) Check() error {
	if _, err := time.LoadLocation(c.Billing.Zone); err != nil {
		return fmt.Errorf("billing.zone %q: %w", c.Billing.Zone, err)
	}
	if c.Billing.LimitKbps <= 0 {
		return fmt.Errorf("billing.limit_kbps must be positive")
	}
	if c.Billing.GraceMonths < 0 || c.Billing.GraceDays < 0 || c.Billing.GraceMonths+c.Billing.GraceDays == 0 {
		return fmt.Errorf("billing grace period must be positive")
	}
	if c.SecretKey != "" {
		if b, err := hex.DecodeString(c.SecretKey); err != nil || len(b) != 32 {
			return fmt.Errorf("secret_key must be 64 hex digits (32 bytes)")
		}
	}
	return nil
}

// Zone is the provider's time zone.
func (c Config) Zone() *time.Location {
	loc, err := time.LoadLocation(c.Billing.Zone)
	if err != nil {
		return time.UTC
	}
	return loc
}
