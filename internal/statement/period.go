package statement

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
)

// zeroPage takes every line.
var zeroPage ledger.Page

// Period is a range of whole days in the provider's zone, both ends
// included.
type Period struct {
	From, To time.Time // each at 00:00 of its day
}

// End is the moment the period ends: 00:00 of the day after To.
func (p Period) End() time.Time {
	y, m, d := p.To.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, p.To.Location())
}

// FromISO and ToISO are the ends as YYYY-MM-DD.
func (p Period) FromISO() string { return p.From.Format(time.DateOnly) }
func (p Period) ToISO() string   { return p.To.Format(time.DateOnly) }

// The years a date may name: before the first no provider billed with
// Kabinet or imported history from; after the last is a typo.
const (
	MinYear = 2000
	MaxYear = 2099
)

// Limits of a period on the pages and in the API: a statement may span ten
// years of history; traffic charts a year at most.
const (
	MaxStatementDays = 3660
	MaxTrafficDays   = 366
)

// PeriodError says what is wrong with a period the user gave: Field is
// "from" or "to" (or "" for the two together), ID the message id, Data its
// fields.
type PeriodError struct {
	Field string
	ID    string
	Data  map[string]any
}

func (e *PeriodError) Error() string { return fmt.Sprintf("period: %s: %s", e.Field, e.ID) }

// AsPeriodError returns err's PeriodError, if it is one.
func AsPeriodError(err error) (*PeriodError, bool) {
	var pe *PeriodError
	ok := errors.As(err, &pe)
	return pe, ok
}

// ThisMonth is the default statement period: from the 1st of the month of
// now to now's day.
func ThisMonth(now time.Time, zone *time.Location) Period {
	now = now.In(zone)
	return Period{From: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, zone), To: day(now)}
}

// LastDays is the days days up to now's, now's included.
func LastDays(now time.Time, zone *time.Location, days int) Period {
	to := day(now.In(zone))
	return Period{From: to.AddDate(0, 0, 1-days), To: to}
}

func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// ParsePeriod reads a period as people and programs give it: from and to
// as YYYY-MM-DD (or DD.MM.YYYY), either empty for def's end, in def's zone;
// the period may span maxDays days at most. Each kind of mistake has its own
// PeriodError.
func ParsePeriod(from, to string, def Period, maxDays int) (Period, error) {
	p := def
	var err error
	if p.From, err = parseDay(strings.TrimSpace(from), "from", def.From); err != nil {
		return def, err
	}
	if p.To, err = parseDay(strings.TrimSpace(to), "to", def.To); err != nil {
		return def, err
	}
	if p.To.Before(p.From) {
		return def, &PeriodError{Field: "to", ID: "period.error.order"}
	}
	if p.From.AddDate(0, 0, maxDays).Before(p.End()) {
		return def, &PeriodError{Field: "to", ID: "period.error.long", Data: map[string]any{"Days": maxDays}}
	}
	return p, nil
}

func parseDay(s, field string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, def.Location())
	if err != nil {
		if t, err = time.ParseInLocation("02.01.2006", s, def.Location()); err != nil {
			return def, &PeriodError{Field: field, ID: "period.error." + field}
		}
	}
	if t.Year() < MinYear || t.Year() > MaxYear {
		return def, &PeriodError{Field: field, ID: "period.error." + field + "_year", Data: map[string]any{"Min": MinYear, "Max": MaxYear}}
	}
	return t, nil
}
