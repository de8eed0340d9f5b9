// Package money is the one amount type of Kabinet: int64 kopecks, never floats.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Amount is a sum of money in kopecks (minor units of the rouble).
type Amount int64

// Rub makes an amount of whole roubles.
func Rub(r int64) Amount { return Amount(r * 100) }

// ErrFormat is returned for text that is not an amount of money.
var ErrFormat = errors.New("not an amount of money")

// groupSpaces are the spaces that group thousands: made once, an import
// parses millions of amounts.
var groupSpaces = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "")

// Parse reads "500", "500.50", "500,5", "-12.30", "1 234,56" (spaces, including
// non-breaking ones, group thousands). More than two decimals is an error, not a rounding.
func Parse(s string) (Amount, error) {
	orig := s
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, "₽")
	s = strings.TrimSpace(s)
	s = groupSpaces.Replace(s)
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" {
		return 0, fmt.Errorf("%q: %w", orig, ErrFormat)
	}
	whole, frac := s, ""
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		whole, frac = s[:i], s[i+1:]
		if len(frac) == 0 || len(frac) > 2 {
			return 0, fmt.Errorf("%q: %w", orig, ErrFormat)
		}
	}
	if whole == "" {
		whole = "0"
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("%q: %w", orig, ErrFormat)
			}
		}
	}
	if len(whole) > 15 {
		return 0, fmt.Errorf("%q: too large: %w", orig, ErrFormat)
	}
	r, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", orig, ErrFormat)
	}
	k := int64(0)
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		k, _ = strconv.ParseInt(frac, 10, 64)
	}
	a := Amount(r*100 + k)
	if neg {
		a = -a
	}
	return a, nil
}

// Decimal is the machine form used in JSON and protocols: "-500.00".
func (a Amount) Decimal() string {
	sign := ""
	v := int64(a)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func (a Amount) String() string { return a.Decimal() }

// Format renders for people: ru "1 234,56 ₽" (narrow no-break space between
// groups), en "₽1,234.56".
func (a Amount) Format(lang string) string {
	sign := ""
	v := int64(a)
	if v < 0 {
		sign, v = "−", -v
	}
	sep, dec := "\u00a0", ","
	if lang == "en" {
		sep, dec = ",", "."
	}
	whole := group(strconv.FormatInt(v/100, 10), sep)
	if lang == "en" {
		return fmt.Sprintf("%s₽%s%s%02d", sign, whole, dec, v%100)
	}
	return fmt.Sprintf("%s%s%s%02d\u00a0₽", sign, whole, dec, v%100)
}

func group(digits, sep string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	pre := len(digits) % 3
	if pre > 0 {
		b.WriteString(digits[:pre])
	}
	for i := pre; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// Prorate returns the part of a monthly amount for days of daysInMonth,
// rounded half up to the kopeck.
func Prorate(monthly Amount, days, daysInMonth int) Amount {
	if daysInMonth <= 0 || days <= 0 {
		return 0
	}
	if days >= daysInMonth {
		return monthly
	}
	n := int64(monthly) * int64(days)
	d := int64(daysInMonth)
	q := n / d
	if r := n % d; r*2 >= d {
		q++
	}
	return Amount(q)
}

// Percent returns p percent (basis points: 150 = 1.5%) of a, rounded down.
func (a Amount) PercentBP(bp int64) Amount { return Amount(int64(a) * bp / 10000) }
