// Package speedtest keeps the results of the speed tests subscribers run
// against Kabinet (LibreSpeed protocol, see internal/web/speedtest) and
// compares them with the speed the subscriber's line should run at.
package speedtest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Result is one finished test.
type Result struct {
	ID        int64
	AccountID int64
	At        time.Time
	IP        string
	DownKbps  int64 // measured download
	UpKbps    int64 // measured upload
	Ping      time.Duration
	Jitter    time.Duration
	// The line's speed when the test ran: the tariff's, a boost's or the
	// debt limit's, so that old results keep their meaning after a change.
	TariffDownKbps int64
	TariffUpKbps   int64
	Limited        bool
	UserAgent      string
}

// DownPercent is the measured download as a share of the line's speed, in
// percent (0 when the line's speed is unknown).
func (r Result) DownPercent() int {
	return percent(r.DownKbps, r.TariffDownKbps)
}

// UpPercent is the measured upload as a share of the line's speed.
func (r Result) UpPercent() int { return percent(r.UpKbps, r.TariffUpKbps) }

func percent(got, want int64) int {
	if want <= 0 {
		return 0
	}
	return int(math.Round(float64(got) * 100 / float64(want)))
}

// Verdict sums up a result for the subscriber.
type Verdict string

const (
	// VerdictGood: download reached at least GoodShare of the line's speed.
	VerdictGood Verdict = "good"
	// VerdictSlow: below it; worth a request to support, or a cable check.
	VerdictSlow Verdict = "slow"
	// VerdictLimited: the line is at the debt limit, so slowness is expected.
	VerdictLimited Verdict = "limited"
	VerdictUnknown Verdict = "unknown"
)

// GoodShare is the part of the line's speed a test must reach to count as
// good: TCP over Ethernet carries about 94% of the line rate, and Wi-Fi and
// browser overhead take more, so 80% is what support treats as "fine".
const GoodShare = 80

// Verdict compares the result with the line's speed.
func (r Result) Verdict() Verdict {
	switch {
	case r.Limited:
		return VerdictLimited
	case r.TariffDownKbps <= 0:
		return VerdictUnknown
	case r.DownPercent() >= GoodShare:
		return VerdictGood
	}
	return VerdictSlow
}

// Service stores and reads results.
type Service struct {
	DB     *store.DB
	Clock  clock.Clock
	Biller *billing.Biller // the line's speed; nil leaves it unknown
}

// New makes a Service.
func New(db *store.DB, clk clock.Clock, b *billing.Biller) *Service {
	return &Service{DB: db, Clock: clk, Biller: b}
}

// Measured is what a client reports, in LibreSpeed's units.
type Measured struct {
	DownMbps, UpMbps float64
	PingMs, JitterMs float64
	IP, UserAgent    string
}

// errResult is returned for values no real test produces.
var errResult = derrors.New(derrors.Invalid, "speedtest", "invalid speed-test result")

// ParseMeasured reads LibreSpeed's telemetry fields (dl, ul, ping, jitter:
// decimal strings, possibly empty when a part of the test was skipped).
func ParseMeasured(dl, ul, ping, jitter string) (Measured, error) {
	var m Measured
	measured := false
	for _, f := range []struct {
		name, s string
		v       *float64
	}{{"dl", dl, &m.DownMbps}, {"ul", ul, &m.UpMbps}, {"ping", ping, &m.PingMs}, {"jitter", jitter, &m.JitterMs}} {
		s := strings.TrimSpace(f.s)
		if s == "" || s == "Fail" {
			continue // that part was not run or failed: keep 0
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return m, fmt.Errorf("%s=%q: %w", f.name, f.s, errResult)
		}
		*f.v = v
		measured = true
	}
	if !measured {
		// Nothing ran (or a form that is not a LibreSpeed report): there is
		// no result to keep.
		return m, fmt.Errorf("no measurement: %w", errResult)
	}
	return m, m.check()
}

func (m Measured) check() error {
	// 100 Gbit/s and a minute of ping: anything above is a forged report.
	if m.DownMbps > 100000 || m.UpMbps > 100000 || m.PingMs > 60000 || m.JitterMs > 60000 {
		return fmt.Errorf("%+v: %w", m, errResult)
	}
	return nil
}

// Save stores a result for the account with the line's speed now and
// returns it with its id.
func (s *Service) Save(ctx context.Context, accountID int64, m Measured) (Result, error) {
	if err := m.check(); err != nil {
		return Result{}, err
	}
	r := Result{
		AccountID: accountID, At: s.Clock.Now().UTC(), IP: m.IP, UserAgent: truncate(m.UserAgent, 300),
		DownKbps: int64(math.Round(m.DownMbps * 1000)), UpKbps: int64(math.Round(m.UpMbps * 1000)),
		Ping: time.Duration(m.PingMs * float64(time.Millisecond)), Jitter: time.Duration(m.JitterMs * float64(time.Millisecond)),
	}
	if s.Biller != nil {
		sp, _, err := s.Biller.SpeedOf(ctx, s.DB, accountID)
		if err != nil {
			return Result{}, fmt.Errorf("speed test of %d: line speed: %w", accountID, err)
		}
		r.TariffDownKbps, r.TariffUpKbps, r.Limited = sp.DownKbps, sp.UpKbps, sp.Limited
	}
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO speedtests (account_id, at, ip, down_kbps, up_kbps, ping_us, jitter_us,
			tariff_down_kbps, tariff_up_kbps, limited, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.AccountID, r.At, r.IP, r.DownKbps, r.UpKbps, r.Ping.Microseconds(), r.Jitter.Microseconds(),
			r.TariffDownKbps, r.TariffUpKbps, r.Limited, r.UserAgent).Scan(&r.ID)
	})
	if err != nil {
		return Result{}, fmt.Errorf("save speed test of %d: %w", accountID, err)
	}
	return r, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

const cols = `id, account_id, at, ip, down_kbps, up_kbps, ping_us, jitter_us, tariff_down_kbps, tariff_up_kbps, limited, user_agent`

// History lists the account's results, newest first (limit ≤ 0: 50).
func (s *Service) History(ctx context.Context, accountID int64, limit int) ([]Result, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.DB.Query(ctx, `SELECT `+cols+` FROM speedtests WHERE account_id = ? ORDER BY at DESC, id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("speed tests of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		var r Result
		var ping, jitter int64
		var at store.Time
		if err := rows.Scan(&r.ID, &r.AccountID, &at, &r.IP, &r.DownKbps, &r.UpKbps, &ping, &jitter,
			&r.TariffDownKbps, &r.TariffUpKbps, &r.Limited, &r.UserAgent); err != nil {
			return nil, fmt.Errorf("speed tests of %d: %w", accountID, err)
		}
		r.At, r.Ping, r.Jitter = at.Time, time.Duration(ping)*time.Microsecond, time.Duration(jitter)*time.Microsecond
		out = append(out, r)
	}
	return out, rows.Err()
}

// LineSpeed tells the speed the account's line should run at now, for the
// page to show before the test starts.
func (s *Service) LineSpeed(ctx context.Context, accountID int64) (billing.Speed, error) {
	if s.Biller == nil {
		return billing.Speed{}, nil
	}
	sp, _, err := s.Biller.SpeedOf(ctx, s.DB, accountID)
	if err != nil {
		return sp, fmt.Errorf("line speed of %d: %w", accountID, err)
	}
	return sp, nil
}
