package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Time scans a timestamp that SQLite may hand back as text: an aggregate such
// as MIN(created_at) loses the column's declared type there.
type Time struct {
	Time  time.Time
	Valid bool
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05", "2006-01-02"}

// Scan implements sql.Scanner.
func (t *Time) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = Time{}
		return nil
	case time.Time:
		*t = Time{Time: x, Valid: true}
		return nil
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	}
	return fmt.Errorf("scan time: unsupported %T", v)
}

func (t *Time) parse(s string) error {
	for _, l := range timeLayouts {
		if p, err := time.Parse(l, s); err == nil {
			*t = Time{Time: p, Valid: true}
			return nil
		}
	}
	return fmt.Errorf("scan time: %q is not a timestamp", s)
}

// Value implements driver.Valuer.
func (t Time) Value() (driver.Value, error) {
	if !t.Valid {
		return nil, nil
	}
	return t.Time.UTC(), nil
}
