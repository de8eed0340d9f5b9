// Package billing owns tariffs, packages and what a subscriber is connected
// to, the monthly charges, proration, debt and the limit it brings, and
// speed boosts.
package billing

import (
	"fmt"
	"time"
)

// Period is a calendar month in the provider's zone: [Start, End).
type Period struct {
	Key        string // "2027-01"
	Start, End time.Time
}

// PeriodOf is the month containing t in zone.
func PeriodOf(t time.Time, zone *time.Location) Period {
	lt := t.In(zone)
	start := time.Date(lt.Year(), lt.Month(), 1, 0, 0, 0, 0, zone)
	return Period{Key: start.Format("2006-01"), Start: start, End: start.AddDate(0, 1, 0)}
}

// Next is the month after p.
func (p Period) Next() Period { return PeriodOf(p.End, p.Start.Location()) }

// Days in the month.
func (p Period) Days() int {
	return p.End.AddDate(0, 0, -1).Day()
}

// DaysLeft counts the days of p from t's day to the end, t's day included:
// a change on the 15th of a 30-day month leaves 16 days.
func (p Period) DaysLeft(t time.Time) int {
	if !t.Before(p.End) {
		return 0
	}
	if t.Before(p.Start) {
		return p.Days()
	}
	return p.Days() - t.In(p.Start.Location()).Day() + 1
}

// ParsePeriod reads "2027-01" in zone.
func ParsePeriod(key string, zone *time.Location) (Period, error) {
	t, err := time.ParseInLocation("2006-01", key, zone)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: want YYYY-MM", key)
	}
	return PeriodOf(t, zone), nil
}

// graceStart is the latest debt start that is overdue at t: debt that began
// at or before it has been unpaid for longer than the grace period.
func (r Rules) graceStart(t time.Time) time.Time {
	return t.In(r.Zone).AddDate(0, -r.GraceMonths, -r.GraceDays)
}
