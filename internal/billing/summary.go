package billing

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// Speed is what the line runs at now.
type Speed struct {
	DownKbps, UpKbps int64
	Limited          bool // at the limit rate for debt
	Boosted          bool
	BoostEndsAt      time.Time
	StaticIP         string
}

// Summary is the account's money state as the subscriber sees it on the home
// page and the CLI prints it.
type Summary struct {
	AccountID    int64
	Status       string
	Balance      money.Amount
	Tariff       Tariff
	NextTariff   *Tariff // scheduled for the next 1st
	Packages     []Subscription
	Speed        Speed
	LimitKbps    int64
	DebtSince    time.Time
	LimitedSince time.Time
	// The recommended payment: next period's fees + debt − positive balance,
	// never below zero.
	NextFees           money.Amount
	Debt               money.Amount
	Recommended        money.Amount
	NextChargeAt       time.Time
	NextChargeAmount   money.Amount
	NextChargesByLabel []FeeLine
}

// FeeLine is one fee of the next period.
type FeeLine struct {
	Service string
	Name    string
	NameEn  string
	Amount  money.Amount
}

// Summary reads the account's state at the clock's now.
func (b *Biller) Summary(ctx context.Context, accountID int64) (Summary, error) {
	now := b.Clock.Now()
	var s Summary
	st, err := loadState(ctx, b.DB, accountID)
	if err != nil {
		return s, err
	}
	s.AccountID, s.Status, s.Balance, s.LimitKbps = accountID, st.Status, st.Balance, b.Rules.LimitKbps
	var next sql.NullInt64
	var limited sql.NullTime
	if err := b.DB.QueryRow(ctx, `SELECT next_tariff_id, limited_since FROM accounts WHERE id = ?`, accountID).Scan(&next, &limited); err != nil {
		return s, fmt.Errorf("summary %d: %w", accountID, err)
	}
	s.DebtSince, s.LimitedSince = st.DebtSince.Time, limited.Time
	if s.Tariff, err = TariffByID(ctx, b.DB, st.TariffID); err != nil {
		return s, err
	}
	feeTariff := s.Tariff
	if next.Valid {
		t, err := TariffByID(ctx, b.DB, next.Int64)
		if err != nil {
			return s, err
		}
		s.NextTariff, feeTariff = &t, t
	}
	if s.Packages, err = b.Subscriptions(ctx, b.DB, accountID, false); err != nil {
		return s, err
	}
	s.NextChargesByLabel = append(s.NextChargesByLabel, FeeLine{Service: feeTariff.Code, Name: feeTariff.Name, NameEn: feeTariff.NameEn, Amount: feeTariff.Fee})
	s.NextFees = feeTariff.Fee
	for _, p := range s.Packages {
		if p.Package.Pricing == PriceMonthly {
			s.NextFees += p.Package.Price
			s.NextChargesByLabel = append(s.NextChargesByLabel, FeeLine{Service: p.Package.Code, Name: p.Package.Name, NameEn: p.Package.NameEn, Amount: p.Package.Price})
		}
	}
	if s.Balance < 0 {
		s.Debt = -s.Balance
	}
	s.Recommended = max(0, s.NextFees-s.Balance)
	s.NextChargeAt = PeriodOf(now, b.Rules.Zone).End
	s.NextChargeAmount = s.NextFees
	if st.Status == StatusFrozen || st.Status == StatusClosed || st.Status == StatusBlocked {
		s.NextChargeAmount = 0
	}
	s.Speed = speedOf(s.Tariff, s.Packages, st.Status, b.Rules.LimitKbps, now)
	return s, nil
}

func speedOf(t Tariff, subs []Subscription, status string, limitKbps int64, now time.Time) Speed {
	sp := Speed{DownKbps: t.DownKbps, UpKbps: t.UpKbps}
	for _, s := range subs {
		if !s.Active(now) {
			continue
		}
		if s.Package.Kind == PackageBoost && s.Package.SpeedPercent > 100 {
			sp.DownKbps = t.DownKbps * int64(s.Package.SpeedPercent) / 100
			sp.UpKbps = t.UpKbps * int64(s.Package.SpeedPercent) / 100
			sp.Boosted, sp.BoostEndsAt = true, s.EndsAt
		}
		if s.StaticIP != "" {
			sp.StaticIP = s.StaticIP
		}
	}
	if status == StatusLimited {
		sp.DownKbps, sp.UpKbps, sp.Limited = limitKbps, limitKbps, true
	}
	return sp
}

// SpeedOf tells the speed the account's line should run at now: the tariff's,
// a boost's, or the limit rate. RADIUS asks it.
func (b *Biller) SpeedOf(ctx context.Context, q queryer, accountID int64) (Speed, string, error) {
	st, err := loadState(ctx, q, accountID)
	if err != nil {
		return Speed{}, "", err
	}
	t, err := TariffByID(ctx, q, st.TariffID)
	if err != nil {
		return Speed{}, "", err
	}
	subs, err := b.Subscriptions(ctx, q, accountID, false)
	if err != nil {
		return Speed{}, "", err
	}
	return speedOf(t, subs, st.Status, b.Rules.LimitKbps, b.Clock.Now()), st.Status, nil
}
