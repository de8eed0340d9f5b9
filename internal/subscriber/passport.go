package subscriber

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// Passport is the subscriber's identity document as the contract states it
// (a Russian internal passport: series of 4 digits, number of 6).
type Passport struct {
	Series   string // "12 34"
	Number   string // "567890"
	IssuedBy string
	IssuedOn string // YYYY-MM-DD
}

// Empty reports whether no part of p was given.
func (p Passport) Empty() bool {
	return strings.TrimSpace(p.Series+p.Number+p.IssuedBy+p.IssuedOn) == ""
}

// firstPassports is when the current Russian passports began to be issued.
var firstPassports = time.Date(1997, 10, 1, 0, 0, 0, 0, time.UTC)

// Check normalises p and names the first part at fault (fields
// passport_series, passport_number, passport_issued_by, passport_issued_on;
// codes of the same names). today bounds the date of issue.
func (p *Passport) Check(today time.Time) error {
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' {
				return -1
			}
			return r
		}, strings.TrimSpace(s))
	}
	allDigits := func(s string, n int) bool {
		if len(s) != n {
			return false
		}
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	series, number := digits(p.Series), digits(p.Number)
	if !allDigits(series, 4) {
		return derrors.Invalidf("passport_series", "passport_series", "passport series %q: 4 digits", p.Series)
	}
	if !allDigits(number, 6) {
		return derrors.Invalidf("passport_number", "passport_number", "passport number %q: 6 digits", p.Number)
	}
	p.Series, p.Number = series[:2]+" "+series[2:], number
	p.IssuedBy = strings.Join(strings.Fields(p.IssuedBy), " ")
	if n := len([]rune(p.IssuedBy)); n < 5 || n > 300 {
		return derrors.Invalidf("passport_issued_by", "passport_issued_by", "passport issued by %q: 5 to 300 characters", p.IssuedBy)
	}
	on, err := time.Parse("2006-01-02", strings.TrimSpace(p.IssuedOn))
	if err != nil || on.Before(firstPassports) || on.After(today) {
		return derrors.Invalidf("passport_issued_on", "passport_issued_on", "passport issued on %q: a date from 1997-10-01 to today", p.IssuedOn)
	}
	p.IssuedOn = on.Format("2006-01-02")
	return nil
}

// String is the passport as a contract prints it.
func (p Passport) String() string {
	if p.Empty() {
		return ""
	}
	on := p.IssuedOn
	if t, err := time.Parse("2006-01-02", on); err == nil {
		on = t.Format("02.01.2006")
	}
	return fmt.Sprintf("%s № %s, %s, %s", p.Series, p.Number, p.IssuedBy, on)
}

// PassportOf is the passport the account's contract states; an empty one
// when none was given.
func (d *Directory) PassportOf(ctx context.Context, accountID int64) (Passport, error) {
	var p Passport
	err := d.DB.QueryRow(ctx, `SELECT series, number, issued_by, issued_on FROM account_passports WHERE account_id = ?`, accountID).
		Scan(&p.Series, &p.Number, &p.IssuedBy, &p.IssuedOn)
	if errors.Is(err, sql.ErrNoRows) {
		return Passport{}, nil
	}
	if err != nil {
		return p, fmt.Errorf("passport of %d: %w", accountID, err)
	}
	return p, nil
}
