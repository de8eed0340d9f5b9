package billing

import (
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// TestSuspensionFees: what a suspension does to the tariff's fee, month by
// month, to the kopeck: both ends prorated by the days of their own month,
// the months between not charged, across a year's end and a leap February.
func TestSuspensionFees(t *testing.T) {
	z := DefaultRules().Zone
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, z) }
	fee := money.Rub(500)
	type month struct {
		key                      string
		days                     int
		refund, unbilled, charge money.Amount
	}
	for _, c := range []struct {
		name        string
		from, until time.Time
		want        []month
		saved       money.Amount
	}{
		{"within a month", d(2027, 3, 10), d(2027, 3, 24), []month{{"2027-03", 14, 35484, 0, 12903}}, 22581},
		{"to the month's end", d(2027, 4, 17), d(2027, 5, 1), []month{{"2027-04", 14, 23333, 0, 0}}, 23333},
		{"across a month's end", d(2027, 1, 25), d(2027, 2, 14),
			[]month{{"2027-01", 7, 11290, 0, 0}, {"2027-02", 13, 0, 50000, 26786}}, 11290 + 50000 - 26786},
		{"a leap February", d(2028, 2, 20), d(2028, 3, 5),
			// 10 of 29 February days returned; March charged from the 5th: 27 of 31.
			[]month{{"2028-02", 10, 17241, 0, 0}, {"2028-03", 4, 0, 50000, 43548}}, 17241 + 50000 - 43548},
		{"a common February", d(2027, 2, 20), d(2027, 3, 5),
			[]month{{"2027-02", 9, 16071, 0, 0}, {"2027-03", 4, 0, 50000, 43548}}, 16071 + 50000 - 43548},
		{"across the year's end, a whole month between", d(2026, 12, 20), d(2027, 2, 10),
			[]month{{"2026-12", 12, 19355, 0, 0}, {"2027-01", 31, 0, 50000, 0}, {"2027-02", 9, 0, 50000, 33929}}, 19355 + 50000 + 50000 - 33929},
		{"from the 1st to the 1st", d(2027, 6, 1), d(2027, 7, 1), []month{{"2027-06", 30, 50000, 0, 0}}, 50000},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := SuspensionFees(fee, c.from, c.until, z)
			if len(got) != len(c.want) {
				t.Fatalf("%d months, want %d: %+v", len(got), len(c.want), got)
			}
			var saved money.Amount
			for i, w := range c.want {
				g := got[i]
				if g.Period.Key != w.key || g.Days != w.days || g.Refund != w.refund || g.Unbilled != w.unbilled || g.Charge != w.charge {
					t.Errorf("month %d: %s %d days, refund %d unbilled %d charge %d; want %+v", i, g.Period.Key, g.Days, g.Refund, g.Unbilled, g.Charge, w)
				}
				saved += g.Saved()
			}
			if saved != c.saved {
				t.Errorf("saved %d, want %d", saved, c.saved)
			}
		})
	}
}

func TestProratedFee(t *testing.T) {
	z := DefaultRules().Zone
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, z) }
	for _, c := range []struct {
		from, until time.Time
		want        money.Amount
	}{
		{d(2027, 1, 10), d(2027, 1, 17), 2032},                         // 90.00 × 7/31
		{d(2028, 2, 1), d(2028, 3, 1), 9000},                           // a whole leap February
		{d(2028, 2, 15), d(2028, 3, 16), 4655 + 4355},                  // 15/29 + 15/31
		{d(2026, 12, 25), d(2027, 1, 8), 2032 + 2032},                  // 7/31 + 7/31 across the year
		{d(2027, 1, 10), time.Date(2027, 1, 17, 15, 0, 0, 0, z), 2032}, // resumed mid-day: that day is not frozen
	} {
		if got := ProratedFee(money.Rub(90), c.from, c.until, z); got != c.want {
			t.Errorf("%s..%s: %d, want %d", c.from.Format("2006-01-02"), c.until.Format("2006-01-02 15:04"), got, c.want)
		}
	}
}
