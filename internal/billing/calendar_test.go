package billing

import (
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestPeriodOf(t *testing.T) {
	msk := mustZone(t, "Europe/Moscow")
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		name   string
		at     time.Time
		zone   *time.Location
		key    string
		days   int
		startU string
	}{
		{"moscow new year: 31 Dec 21:00 UTC is already January", time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC), msk, "2027-01", 31, "2026-12-31T21:00:00Z"},
		{"moscow one second before", time.Date(2026, 12, 31, 20, 59, 59, 0, time.UTC), msk, "2026-12", 31, "2026-11-30T21:00:00Z"},
		{"leap february", time.Date(2028, 2, 29, 12, 0, 0, 0, msk), msk, "2028-02", 29, "2028-01-31T21:00:00Z"},
		{"plain february", time.Date(2027, 2, 10, 0, 0, 0, 0, msk), msk, "2027-02", 28, "2027-01-31T21:00:00Z"},
		{"century non-leap", time.Date(2100, 2, 10, 0, 0, 0, 0, time.UTC), time.UTC, "2100-02", 28, "2100-02-01T00:00:00Z"},
		{"april 30 days", time.Date(2027, 4, 30, 23, 59, 0, 0, msk), msk, "2027-04", 30, "2027-03-31T21:00:00Z"},
		{"DST zone: March starts in EST", time.Date(2027, 3, 20, 0, 0, 0, 0, ny), ny, "2027-03", 31, "2027-03-01T05:00:00Z"},
		{"DST zone: April starts in EDT", time.Date(2027, 4, 1, 0, 0, 0, 0, ny), ny, "2027-04", 30, "2027-04-01T04:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PeriodOf(tt.at, tt.zone)
			if p.Key != tt.key || p.Days() != tt.days || p.Start.UTC().Format(time.RFC3339) != tt.startU {
				t.Errorf("got %s, %d days, start %s", p.Key, p.Days(), p.Start.UTC().Format(time.RFC3339))
			}
			if !p.Next().Start.Equal(p.End) {
				t.Errorf("next period does not start at the end")
			}
		})
	}
}

func TestDaysLeft(t *testing.T) {
	msk := mustZone(t, "Europe/Moscow")
	p := PeriodOf(time.Date(2027, 4, 1, 0, 0, 0, 0, msk), msk)
	tests := []struct {
		at   time.Time
		want int
	}{
		{time.Date(2027, 4, 1, 0, 0, 0, 0, msk), 30},
		{time.Date(2027, 4, 15, 13, 0, 0, 0, msk), 16},
		{time.Date(2027, 4, 30, 23, 59, 0, 0, msk), 1},
		{time.Date(2027, 5, 1, 0, 0, 0, 0, msk), 0},
		{time.Date(2027, 3, 31, 0, 0, 0, 0, msk), 30},
		// 21:30 UTC on the 14th is already the 15th in Moscow.
		{time.Date(2027, 4, 14, 21, 30, 0, 0, time.UTC), 16},
	}
	for _, tt := range tests {
		if got := p.DaysLeft(tt.at); got != tt.want {
			t.Errorf("DaysLeft(%s) = %d, want %d", tt.at, got, tt.want)
		}
	}
}

func TestGraceStart(t *testing.T) {
	msk := mustZone(t, "Europe/Moscow")
	tests := []struct {
		r    Rules
		at   time.Time
		want time.Time
	}{
		{Rules{Zone: msk, GraceMonths: 1}, time.Date(2027, 2, 1, 0, 5, 0, 0, msk), time.Date(2027, 1, 1, 0, 5, 0, 0, msk)},
		{Rules{Zone: msk, GraceMonths: 1}, time.Date(2027, 3, 1, 0, 0, 0, 0, msk), time.Date(2027, 2, 1, 0, 0, 0, 0, msk)},
		{Rules{Zone: msk, GraceDays: 10}, time.Date(2027, 3, 5, 0, 0, 0, 0, msk), time.Date(2027, 2, 23, 0, 0, 0, 0, msk)},
	}
	for _, tt := range tests {
		if got := tt.r.graceStart(tt.at); !got.Equal(tt.want) {
			t.Errorf("graceStart(%s) = %s, want %s", tt.at, got, tt.want)
		}
	}
}
