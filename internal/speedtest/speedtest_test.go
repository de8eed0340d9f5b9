package speedtest

import (
	"errors"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

func TestParseMeasured(t *testing.T) {
	for _, tc := range []struct {
		dl, ul, ping, jitter string
		want                 Measured
		bad                  bool
	}{
		{"93.45", "48.20", "3.21", "0.50", Measured{DownMbps: 93.45, UpMbps: 48.2, PingMs: 3.21, JitterMs: 0.5}, false},
		{"93.45", "", "Fail", " 1 ", Measured{DownMbps: 93.45, JitterMs: 1}, false}, // skipped and failed parts stay 0
		{"-1", "1", "1", "1", Measured{}, true},
		{"NaN", "1", "1", "1", Measured{}, true},
		{"Inf", "1", "1", "1", Measured{}, true},
		{"fast", "1", "1", "1", Measured{}, true},
		{"100001", "1", "1", "1", Measured{}, true}, // beyond 100 Gbit/s: forged
	} {
		got, err := ParseMeasured(tc.dl, tc.ul, tc.ping, tc.jitter)
		if tc.bad {
			if !errors.Is(err, derrors.Invalid) {
				t.Errorf("%q: accepted %+v", tc.dl, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q %q %q %q: %+v %v", tc.dl, tc.ul, tc.ping, tc.jitter, got, err)
		}
	}
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		r       Result
		want    Verdict
		percent int
	}{
		{Result{DownKbps: 95000, TariffDownKbps: 100000}, VerdictGood, 95},
		{Result{DownKbps: 80000, TariffDownKbps: 100000}, VerdictGood, 80},
		{Result{DownKbps: 79000, TariffDownKbps: 100000}, VerdictSlow, 79},
		{Result{DownKbps: 120, TariffDownKbps: 128, Limited: true}, VerdictLimited, 94},
		{Result{DownKbps: 50000}, VerdictUnknown, 0},
	} {
		if got := tc.r.Verdict(); got != tc.want || tc.r.DownPercent() != tc.percent {
			t.Errorf("%+v: %s %d%%, want %s %d%%", tc.r, got, tc.r.DownPercent(), tc.want, tc.percent)
		}
	}
}
