package billing

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"slices"
	"strings"
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
	// PromisedUntil is when a promised payment's hold on the limit ends;
	// zero without one (internal/promise tells the promise itself).
	PromisedUntil time.Time
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

// summaryRow is what the summary's query reads into: the account's columns
// (the same on every row) and one connected package per row.
type summaryRow struct {
	s                     *Summary
	debtSince, limited    sql.NullTime
	promised              sql.NullTime
	nID, nFee, nDown, nUp sql.NullInt64
	nCity                 sql.NullInt64
	nCode, nName, nNameEn sql.NullString
	nDesc                 sql.NullString
	nPublic, nArchived    sql.NullBool
	nProrate              sql.NullBool
	started, ends, ended  sql.NullTime
	sub                   Subscription
	catalogue             int64 // the catalogue's version (Brief)
}

// Which of the two queries a summary column is in: Summary's joins the
// tariffs and packages; Brief's reads their ids and the catalogue's version
// and takes the rows from memory (see Biller.catalogue).
const (
	inBoth = iota
	inFull
	inBrief
)

// summaryColumn is a column of the summary's query and where it goes.
type summaryColumn struct {
	expr string
	in   int
	dest func(r *summaryRow) any
}

var summaryColumns = []summaryColumn{
	{"a.status", inBoth, func(r *summaryRow) any { return &r.s.Status }},
	{"a.login", inBoth, func(r *summaryRow) any { return &r.s.Login }},
	{"a.name", inBoth, func(r *summaryRow) any { return &r.s.Name }},
	{"a.contract_no", inBoth, func(r *summaryRow) any { return &r.s.ContractNo }},
	{"COALESCE(a.city_id, 0)", inBoth, func(r *summaryRow) any { return &r.s.CityID }},
	{"l.balance", inBoth, func(r *summaryRow) any { return &r.s.Balance }},
	{"a.debt_since", inBoth, func(r *summaryRow) any { return &r.debtSince }},
	{"a.limited_since", inBoth, func(r *summaryRow) any { return &r.limited }},
	{"a.promised_until", inBoth, func(r *summaryRow) any { return &r.promised }},
	{"a.tariff_id", inBrief, func(r *summaryRow) any { return &r.s.Tariff.ID }},
	{"a.next_tariff_id", inBrief, func(r *summaryRow) any { return &r.nID }},
	{"(SELECT version FROM catalogue_version)", inBrief, func(r *summaryRow) any { return &r.catalogue }},
	{"t.id", inFull, func(r *summaryRow) any { return &r.s.Tariff.ID }},
	{"t.code", inFull, func(r *summaryRow) any { return &r.s.Tariff.Code }},
	{"t.name", inFull, func(r *summaryRow) any { return &r.s.Tariff.Name }},
	{"t.name_en", inFull, func(r *summaryRow) any { return &r.s.Tariff.NameEn }},
	{"t.description", inFull, func(r *summaryRow) any { return &r.s.Tariff.Description }},
	{"t.fee", inFull, func(r *summaryRow) any { return &r.s.Tariff.Fee }},
	{"t.down_kbps", inFull, func(r *summaryRow) any { return &r.s.Tariff.DownKbps }},
	{"t.up_kbps", inFull, func(r *summaryRow) any { return &r.s.Tariff.UpKbps }},
	{"COALESCE(t.city_id, 0)", inFull, func(r *summaryRow) any { return &r.s.Tariff.CityID }},
	{"t.public", inFull, func(r *summaryRow) any { return &r.s.Tariff.Public }},
	{"t.archived", inFull, func(r *summaryRow) any { return &r.s.Tariff.Archived }},
	{"t.prorate", inFull, func(r *summaryRow) any { return &r.s.Tariff.Prorate }},
	{"n.id", inFull, func(r *summaryRow) any { return &r.nID }},
	{"n.code", inFull, func(r *summaryRow) any { return &r.nCode }},
	{"n.name", inFull, func(r *summaryRow) any { return &r.nName }},
	{"n.name_en", inFull, func(r *summaryRow) any { return &r.nNameEn }},
	{"n.description", inFull, func(r *summaryRow) any { return &r.nDesc }},
	{"n.fee", inFull, func(r *summaryRow) any { return &r.nFee }},
	{"n.down_kbps", inFull, func(r *summaryRow) any { return &r.nDown }},
	{"n.up_kbps", inFull, func(r *summaryRow) any { return &r.nUp }},
	{"n.city_id", inFull, func(r *summaryRow) any { return &r.nCity }},
	{"n.public", inFull, func(r *summaryRow) any { return &r.nPublic }},
	{"n.archived", inFull, func(r *summaryRow) any { return &r.nArchived }},
	{"n.prorate", inFull, func(r *summaryRow) any { return &r.nProrate }},
	{"COALESCE(s.id, 0)", inBoth, func(r *summaryRow) any { return &r.sub.ID }},
	{"s.started_at", inFull, func(r *summaryRow) any { return &r.started }},
	{"s.ends_at", inBoth, func(r *summaryRow) any { return &r.ends }},
	{"s.ended_at", inFull, func(r *summaryRow) any { return &r.ended }},
	{"COALESCE(s.license_key, '')", inFull, func(r *summaryRow) any { return &r.sub.LicenseKey }},
	{"COALESCE(s.static_ip, '')", inBoth, func(r *summaryRow) any { return &r.sub.StaticIP }},
	{"COALESCE(s.package_id, 0)", inBrief, func(r *summaryRow) any { return &r.sub.Package.ID }},
	{"COALESCE(k.id, 0)", inFull, func(r *summaryRow) any { return &r.sub.Package.ID }},
	{"COALESCE(k.code, '')", inFull, func(r *summaryRow) any { return &r.sub.Package.Code }},
	{"COALESCE(k.kind, '')", inFull, func(r *summaryRow) any { return &r.sub.Package.Kind }},
	{"COALESCE(k.name, '')", inFull, func(r *summaryRow) any { return &r.sub.Package.Name }},
	{"COALESCE(k.name_en, '')", inFull, func(r *summaryRow) any { return &r.sub.Package.NameEn }},
	{"COALESCE(k.description, '')", inFull, func(r *summaryRow) any { return &r.sub.Package.Description }},
	{"COALESCE(k.price, 0)", inFull, func(r *summaryRow) any { return &r.sub.Package.Price }},
	{"COALESCE(k.pricing, '')", inFull, func(r *summaryRow) any { return &r.sub.Package.Pricing }},
	{"COALESCE(k.duration_hours, 0)", inFull, func(r *summaryRow) any { return &r.sub.Package.DurationHours }},
	{"COALESCE(k.speed_percent, 0)", inFull, func(r *summaryRow) any { return &r.sub.Package.SpeedPercent }},
	{"COALESCE(k.city_id, 0)", inFull, func(r *summaryRow) any { return &r.sub.Package.CityID }},
	{"COALESCE(k.archived, false)", inFull, func(r *summaryRow) any { return &r.sub.Package.Archived }},
}

// inQuery tells whether c is in the full or the brief query.
func (c summaryColumn) inQuery(full bool) bool {
	return c.in == inBoth || (c.in == inFull) == full
}

// summaryQuery reads the account, its balance, its tariff, the tariff
// scheduled for the next 1st and the packages connected now in one round
// trip: the home page asks for it on every view. There is a row per
// connected package (one, with the package columns NULL, when there is
// none). The balance is read here, never cached.
func summaryQuery(full bool) string {
	var cols []string
	for _, c := range summaryColumns {
		if c.inQuery(full) {
			cols = append(cols, c.expr)
		}
	}
	q := `SELECT ` + strings.Join(cols, ", ") + `
	FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id`
	if full {
		q += ` JOIN tariffs t ON t.id = a.tariff_id LEFT JOIN tariffs n ON n.id = a.next_tariff_id`
	}
	q += `
	LEFT JOIN subscriptions s ON s.account_id = a.id AND s.ended_at IS NULL`
	if full {
		q += ` LEFT JOIN packages k ON k.id = s.package_id`
	}
	return q + `
	WHERE a.id = ?`
}

var summarySQL, briefSQL = summaryQuery(true), summaryQuery(false)

// Summary reads the account's state at the clock's now.
func (b *Biller) Summary(ctx context.Context, accountID int64) (Summary, error) {
	return b.summary(ctx, accountID, true)
}

// Brief is Summary for the home page, viewed far more often than any other
// page: the tariffs and packages come from memory, checked against the
// catalogue's version read with the account (see Biller.catalogue), and
// the packages' start times and license keys, which the home page does not
// show, are left out. Every column costs on every read.
func (b *Biller) Brief(ctx context.Context, accountID int64) (Summary, error) {
	return b.summary(ctx, accountID, false)
}

func (b *Biller) summary(ctx context.Context, accountID int64, full bool) (Summary, error) {
	now := b.Clock.Now()
	var s Summary
	q := briefSQL
	if full {
		q = summarySQL
	}
	rows, err := b.DB.Query(ctx, q, accountID)
	if err != nil {
		return s, fmt.Errorf("summary %d: %w", accountID, err)
	}
	defer rows.Close()
	r := summaryRow{s: &s}
	dest := make([]any, 0, len(summaryColumns))
	for _, c := range summaryColumns {
		if c.inQuery(full) {
			dest = append(dest, c.dest(&r))
		}
	}
	found := false
	for rows.Next() {
		// The account's columns repeat on every row; the last row's win,
		// and they are the same.
		if err := rows.Scan(dest...); err != nil {
			return s, fmt.Errorf("summary %d: %w", accountID, err)
		}
		found = true
		if r.sub.ID == 0 {
			continue
		}
		sub := r.sub
		sub.AccountID, sub.StartedAt, sub.EndsAt, sub.EndedAt = accountID, r.started.Time, r.ends.Time, r.ended.Time
		if sub.Active(now) {
			s.Packages = append(s.Packages, sub)
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("summary %d: %w", accountID, err)
	}
	if !found {
		return s, fmt.Errorf("account %d: %w", accountID, derrors.NotFound)
	}
	rows.Close()
	if !full {
		if err := b.fromCatalogue(ctx, &s, &r); err != nil {
			return s, fmt.Errorf("summary %d: %w", accountID, err)
		}
	}
	// Newest first, ordered here: an ORDER BY makes SQLite copy every row,
	// all its columns, through a sorter, for the few packages there are.
	// (Brief reads no start times; ids rise with them, as subscriptions
	// start when they are made.)
	slices.SortFunc(s.Packages, func(x, y Subscription) int {
		if c := y.StartedAt.Compare(x.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	s.DebtSince, s.LimitedSince, s.PromisedUntil = r.debtSince.Time, r.limited.Time, r.promised.Time
	if full && r.nID.Valid {
		s.NextTariff = &Tariff{ID: r.nID.Int64, Code: r.nCode.String, Name: r.nName.String, NameEn: r.nNameEn.String, Description: r.nDesc.String,
			Fee: money.Amount(r.nFee.Int64), DownKbps: r.nDown.Int64, UpKbps: r.nUp.Int64, CityID: r.nCity.Int64,
			Public: r.nPublic.Bool, Archived: r.nArchived.Bool, Prorate: r.nProrate.Bool}
	}
	feeTariff := s.Tariff
	if s.NextTariff != nil {
		feeTariff = *s.NextTariff
	}
	s.AccountID, s.LimitKbps = accountID, b.Rules.LimitKbps
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
	switch status {
	case StatusLimited:
		sp.DownKbps, sp.UpKbps, sp.Limited = limitKbps, limitKbps, true
	case StatusFrozen:
		// Admitted only into the redirect list when RADIUS is so set
		// ([suspension] radius): at the limit rate, enough for the portal.
		sp.DownKbps, sp.UpKbps = limitKbps, limitKbps
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
