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

	// Who the account is and where, for a page header beside the money.
	Login, Name, ContractNo string
	CityID                  int64
}

// FeeLine is one fee of the next period.
type FeeLine struct {
	Service string
	Name    string
	NameEn  string
	Amount  money.Amount
}

// summarySQL reads the account, its balance, its tariff, the tariff
// scheduled for the next 1st and the packages connected now in one round
// trip: the home page asks for it on every view. There is a row per
// connected package (one, with the package columns NULL, when there is
// none), newest first. The balance is read here, never cached.
var summarySQL = `SELECT a.status, a.login, a.name, a.contract_no, COALESCE(a.city_id, 0), l.balance, a.debt_since, a.limited_since, ` + tariffColumns("t.") + `,
	n.id, n.code, n.name, n.name_en, n.description, n.fee, n.down_kbps, n.up_kbps, n.city_id, n.public, n.archived, n.prorate,
	COALESCE(s.id, 0), s.started_at, s.ends_at, s.ended_at, COALESCE(s.license_key, ''), COALESCE(s.static_ip, ''),
	COALESCE(k.id, 0), COALESCE(k.code, ''), COALESCE(k.kind, ''), COALESCE(k.name, ''), COALESCE(k.name_en, ''), COALESCE(k.description, ''),
	COALESCE(k.price, 0), COALESCE(k.pricing, ''), COALESCE(k.duration_hours, 0), COALESCE(k.speed_percent, 0), COALESCE(k.city_id, 0), COALESCE(k.archived, false)
	FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id JOIN tariffs t ON t.id = a.tariff_id
	LEFT JOIN tariffs n ON n.id = a.next_tariff_id
	LEFT JOIN subscriptions s ON s.account_id = a.id AND s.ended_at IS NULL
	LEFT JOIN packages k ON k.id = s.package_id
	WHERE a.id = ? ORDER BY s.started_at DESC, s.id DESC`

// Summary reads the account's state at the clock's now.
func (b *Biller) Summary(ctx context.Context, accountID int64) (Summary, error) {
	now := b.Clock.Now()
	var s Summary
	rows, err := b.DB.Query(ctx, summarySQL, accountID)
	if err != nil {
		return s, fmt.Errorf("summary %d: %w", accountID, err)
	}
	defer rows.Close()
	var debtSince, limited sql.NullTime
	var n struct {
		id, fee, down, up, city   sql.NullInt64
		code, name, nameEn, desc  sql.NullString
		public, archived, prorate sql.NullBool
	}
	var started, ends, ended sql.NullTime
	var sub Subscription
	found := false
	t, p := &s.Tariff, &sub.Package
	for rows.Next() {
		// The account's columns repeat on every row; the last row's win,
		// and they are the same.
		err := rows.Scan(&s.Status, &s.Login, &s.Name, &s.ContractNo, &s.CityID, &s.Balance, &debtSince, &limited,
			&t.ID, &t.Code, &t.Name, &t.NameEn, &t.Description, &t.Fee, &t.DownKbps, &t.UpKbps, &t.CityID, &t.Public, &t.Archived, &t.Prorate,
			&n.id, &n.code, &n.name, &n.nameEn, &n.desc, &n.fee, &n.down, &n.up, &n.city, &n.public, &n.archived, &n.prorate,
			&sub.ID, &started, &ends, &ended, &sub.LicenseKey, &sub.StaticIP,
			&p.ID, &p.Code, &p.Kind, &p.Name, &p.NameEn, &p.Description, &p.Price, &p.Pricing, &p.DurationHours, &p.SpeedPercent, &p.CityID, &p.Archived)
		if err != nil {
			return s, fmt.Errorf("summary %d: %w", accountID, err)
		}
		found = true
		if sub.ID == 0 {
			continue
		}
		sub.AccountID, sub.StartedAt, sub.EndsAt, sub.EndedAt = accountID, started.Time, ends.Time, ended.Time
		if sub.Active(now) {
			s.Packages = append(s.Packages, sub)
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("summary %d: %w", accountID, err)
	}
	if !found {
		return s, fmt.Errorf("account %d: %w", accountID, ErrNotFound)
	}
	s.AccountID, s.LimitKbps = accountID, b.Rules.LimitKbps
	s.DebtSince, s.LimitedSince = debtSince.Time, limited.Time
	feeTariff := s.Tariff
	if n.id.Valid {
		next := Tariff{ID: n.id.Int64, Code: n.code.String, Name: n.name.String, NameEn: n.nameEn.String, Description: n.desc.String,
			Fee: money.Amount(n.fee.Int64), DownKbps: n.down.Int64, UpKbps: n.up.Int64, CityID: n.city.Int64,
			Public: n.public.Bool, Archived: n.archived.Bool, Prorate: n.prorate.Bool}
		s.NextTariff, feeTariff = &next, next
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
	if s.Status == StatusFrozen || s.Status == StatusClosed || s.Status == StatusBlocked {
		s.NextChargeAmount = 0
	}
	s.Speed = speedOf(s.Tariff, s.Packages, s.Status, b.Rules.LimitKbps, now)
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
