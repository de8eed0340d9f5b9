package billing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
)

// Scheduler runs billing inside `kabinet serve`: the monthly run when a new
// period begins (and at start, to catch up after downtime), and between
// runs the limits for debt that became overdue and the end of boosts. On
// PostgreSQL only the instance holding the advisory lock bills.
type Scheduler struct {
	Biller *Biller
	Log    *slog.Logger
	// Progress, when set, is told how a run advances (metrics).
	Progress Progress
	// lastPeriod is the period this instance last billed completely.
	lastPeriod string
}

// Tick does what is due at the clock's now. Run it every minute.
func (s *Scheduler) Tick(ctx context.Context) error {
	b := s.Biller
	release, ok, err := b.DB.TryLock(ctx, "kabinet-billing")
	if err != nil {
		return err
	}
	if !ok {
		return nil // another instance bills
	}
	defer release()
	now := b.Clock.Now()
	p := PeriodOf(now, b.Rules.Zone)
	if p.Key != s.lastPeriod {
		start := time.Now()
		res, err := b.Run(ctx, now, s.Progress)
		if err != nil {
			return err
		}
		s.lastPeriod = p.Key
		if s.Log != nil {
			s.Log.Info("billing run", "periods", res.Periods, "charges", res.Charges, "total", res.Total.Decimal(),
				"limited", res.Limited, "took", time.Since(start).Round(time.Millisecond))
		}
		return nil
	}
	n, err := b.ApplyLimits(ctx, now)
	if err != nil {
		return err
	}
	ended, err := b.EndBoosts(ctx, now)
	if err != nil {
		return err
	}
	if s.Log != nil && (n > 0 || ended > 0) {
		s.Log.Info("billing limits", "limited", n, "boosts_ended", ended)
	}
	return nil
}

// Loop ticks at once and then every interval until ctx ends; a run under
// way when ctx ends is finished (see clock.Every).
func (s *Scheduler) Loop(ctx context.Context, every time.Duration) {
	tick := func(ctx context.Context) {
		if err := s.Tick(ctx); err != nil && !errors.Is(err, context.Canceled) && s.Log != nil {
			s.Log.Error("billing scheduler", "err", err)
		}
	}
	if ctx.Err() == nil {
		tick(context.WithoutCancel(ctx))
	}
	clock.Every(ctx, every, tick)
}
