package documents

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// VATRate is a rate of VAT in percent in force from a date on.
type VATRate struct {
	From time.Time // a date, at midnight UTC
	Rate int64     // percent
}

// DefaultVATRates: 20% until the end of 2025, 22% from 1 January 2026.
func DefaultVATRates() []VATRate {
	return []VATRate{
		{From: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), Rate: 20},
		{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Rate: 22},
	}
}

// ParseVATRates reads "[documents] vat_rates": "YYYY-MM-DD:RATE" each.
func ParseVATRates(specs []string) ([]VATRate, error) {
	var out []VATRate
	for _, s := range specs {
		d, r, ok := strings.Cut(strings.TrimSpace(s), ":")
		from, err := time.Parse("2006-01-02", strings.TrimSpace(d))
		rate, rerr := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
		if !ok || err != nil || rerr != nil || rate < 0 || rate > 99 {
			return nil, fmt.Errorf("[documents] vat_rates %q: want \"YYYY-MM-DD:RATE\", e.g. \"2026-01-01:22\": %w", s, derrors.Invalid)
		}
		out = append(out, VATRate{From: from, Rate: rate})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	return out, nil
}

// RateOn is the rate in force on day (a date in the provider's zone), or
// -1 when none of rates has begun by then.
func RateOn(rates []VATRate, day time.Time) int64 {
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	rate := int64(-1)
	for _, r := range rates {
		if !r.From.After(d) {
			rate = r.Rate
		}
	}
	return rate
}

// VATIn is the VAT included in a price sum at rate percent, rounded half
// away from zero to the kopeck: sum × rate / (100 + rate).
func VATIn(sum money.Amount, rate int64) money.Amount {
	if rate <= 0 {
		return 0
	}
	n := int64(sum) * rate
	d := 100 + rate
	neg := n < 0
	if neg {
		n = -n
	}
	q := n / d
	if (n%d)*2 >= d {
		q++
	}
	if neg {
		q = -q
	}
	return money.Amount(q)
}
