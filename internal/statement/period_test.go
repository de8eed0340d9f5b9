package statement_test

import (
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/statement"
)

// Every kind of wrong period has its own message, on the field it concerns;
// a good one is read in the provider's zone, both ends included.
func TestParsePeriod(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	def := statement.ThisMonth(time.Date(2026, 3, 17, 23, 30, 0, 0, time.UTC), msk) // 18 March in Moscow
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, msk) }
	tests := []struct {
		name, from, to string
		max            int
		field, id      string
		want           statement.Period
	}{
		{"defaults: this month so far", "", "", 3660, "", "", statement.Period{From: day(2026, 3, 1), To: day(2026, 3, 18)}},
		{"ISO dates", "2025-01-01", "2025-12-31", 3660, "", "", statement.Period{From: day(2025, 1, 1), To: day(2025, 12, 31)}},
		{"Russian dates, spaces", " 01.02.2026 ", "28.02.2026", 3660, "", "", statement.Period{From: day(2026, 2, 1), To: day(2026, 2, 28)}},
		{"only from", "2026-02-10", "", 3660, "", "", statement.Period{From: day(2026, 2, 10), To: day(2026, 3, 18)}},
		{"one day", "2026-03-05", "2026-03-05", 1, "", "", statement.Period{From: day(2026, 3, 5), To: day(2026, 3, 5)}},
		{"from not a date", "abc", "2026-03-01", 3660, "from", "period.error.from", def},
		{"to not a date", "2026-03-01", "31/03/2026", 3660, "to", "period.error.to", def},
		{"no such day", "2026-02-30", "", 3660, "from", "period.error.from", def},
		{"from in 1900", "1900-01-01", "2026-03-01", 3660, "from", "period.error.from_year", def},
		{"to in 2100", "2026-01-01", "2100-01-01", 3660, "to", "period.error.to_year", def},
		{"1900 to 2100: the first mistake", "1900-01-01", "2100-12-31", 3660, "from", "period.error.from_year", def},
		{"to before from", "2026-03-31", "2026-03-01", 3660, "to", "period.error.order", def},
		{"too long", "2025-01-01", "2026-01-01", 365, "to", "period.error.long", def},
		{"exactly the limit", "2025-01-01", "2025-12-31", 365, "", "", statement.Period{From: day(2025, 1, 1), To: day(2025, 12, 31)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statement.ParsePeriod(tt.from, tt.to, def, tt.max)
			pe, isPE := statement.AsPeriodError(err)
			switch {
			case tt.id == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.id != "" && (!isPE || pe.Field != tt.field || pe.ID != tt.id):
				t.Fatalf("error %v, want %s on %q", err, tt.id, tt.field)
			}
			if !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Errorf("period %s..%s, want %s..%s", got.From, got.To, tt.want.From, tt.want.To)
			}
		})
	}
}
