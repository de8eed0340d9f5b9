package billing

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"slices"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Account statuses.
const (
	StatusActive  = "active"
	StatusLimited = "limited" // debt: the line runs at the limit rate
	StatusBlocked = "blocked" // by an operator
	StatusFrozen  = "frozen"  // vacation: no charges, no access
	StatusClosed  = "closed"
)

var (
	ErrNotOffered        error = derrors.New(derrors.NotFound, "not_offered", "tariff is not offered to this subscriber")
	ErrSameTariff        error = derrors.New(derrors.Conflict, "same_tariff", "this tariff is already connected")
	ErrAccountInactive   error = derrors.New(derrors.Conflict, "inactive", "account is not active")
	ErrAlreadyConnected  error = derrors.New(derrors.Conflict, "connected", "package is already connected")
	ErrInsufficientFunds error = derrors.New(derrors.Conflict, "funds", "not enough money on the balance")
	ErrLimited           error = derrors.New(derrors.Conflict, "limited", "account is limited for debt")
)

// state is what the money rules need to know of an account.
type state struct {
	ID        int64
	LedgerID  int64
	TariffID  int64
	CityID    int64
	Status    string
	Balance   money.Amount
	DebtSince sql.NullTime
	// PromisedUntil is the hold a promised payment puts on the limit.
	PromisedUntil sql.NullTime
}

const stateCols = `a.id, a.ledger_id, a.tariff_id, COALESCE(a.city_id, 0), a.status, l.balance, a.debt_since, a.promised_until`

func (s *state) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&s.ID, &s.LedgerID, &s.TariffID, &s.CityID, &s.Status, &s.Balance, &s.DebtSince, &s.PromisedUntil)
}

func loadState(ctx context.Context, q queryer, accountID int64) (state, error) {
	var s state
	err := s.scan(q.QueryRow(ctx, `SELECT `+stateCols+` FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id WHERE a.id = ?`, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("account %d: %w", accountID, derrors.NotFound)
	}
	if err != nil {
		return s, fmt.Errorf("account %d: %w", accountID, err)
	}
	return s, nil
}

// loadStates is loadState for many accounts, a statement per
// store.ChunkRows.
func loadStates(ctx context.Context, q queryer, ids []int64) (map[int64]*state, error) {
	states := make(map[int64]*state, len(ids))
	for chunk := range slices.Chunk(ids, store.ChunkRows) {
		marks, args := store.InList(chunk)
		rows, err := q.Query(ctx, `SELECT `+stateCols+` FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id WHERE a.id IN (`+marks+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		for rows.Next() {
			s := &state{}
			if err := s.scan(rows); err != nil {
				rows.Close()
				return nil, fmt.Errorf("accounts: %w", err)
			}
			states[s.ID] = s
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		for _, id := range chunk {
			if states[id] == nil {
				return nil, fmt.Errorf("account %d: %w", id, derrors.NotFound)
			}
		}
	}
	return states, nil
}

// Settle brings debt and limit in line with the balance after money moved on
// an account, inside the same transaction: the debt clock starts when the
// balance goes below zero, and a balance back at zero or above lifts the
// limit at once. Every money movement on a subscriber calls it.
func (b *Biller) Settle(ctx context.Context, tx *store.Tx, accountID int64, now time.Time) error {
	s, err := loadState(ctx, tx, accountID)
	if err != nil {
		return err
	}
	return b.settle(ctx, tx, s, now)
}

// settle is Settle for a state whose Balance is the one after the move (as
// the ledger's balance update returned it, so current on PostgreSQL too).
// A balance back at zero or above also ends a promised payment's hold: the
// promise is kept (see HoldCleared).
func (b *Biller) settle(ctx context.Context, tx *store.Tx, s state, now time.Time) error {
	var err error
	switch {
	case s.Balance < 0 && !s.DebtSince.Valid:
		_, err = tx.Exec(ctx, `UPDATE accounts SET debt_since = ? WHERE id = ?`, now.UTC(), s.ID)
	case s.Balance >= 0 && s.DebtSince.Valid:
		_, err = tx.Exec(ctx, `UPDATE accounts SET debt_since = NULL WHERE id = ?`, s.ID)
	}
	if err != nil {
		return fmt.Errorf("settle %d: %w", s.ID, err)
	}
	if s.Balance >= 0 && s.PromisedUntil.Valid {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET promised_until = NULL WHERE id = ?`, s.ID); err != nil {
			return fmt.Errorf("settle %d: %w", s.ID, err)
		}
		if f := b.holdCleared.Load(); f != nil {
			if err := (*f)(ctx, tx, s.ID, now); err != nil {
				return fmt.Errorf("settle %d: %w", s.ID, err)
			}
		}
	}
	if s.Balance >= 0 && s.Status == StatusLimited {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET status = 'active', limited_since = NULL, updated_at = ? WHERE id = ?`, now.UTC(), s.ID); err != nil {
			return fmt.Errorf("settle %d: %w", s.ID, err)
		}
		return tx.Emit(ctx, store.Event{Kind: store.EventAccountUnlimited, AccountID: s.ID, At: now})
	}
	return nil
}

// post writes a subscriber transaction against a system account and settles.
func (b *Biller) post(ctx context.Context, tx *store.Tx, s state, t ledger.Txn, systemCode, systemKind string, now time.Time) (ledger.Result, error) {
	sys, err := ledger.Account(ctx, tx, systemCode, systemKind)
	if err != nil {
		return ledger.Result{}, err
	}
	t.AccountID = s.ID
	t.Postings = []ledger.Posting{{LedgerAccountID: s.LedgerID, Amount: t.Amount}, {LedgerAccountID: sys, Amount: -t.Amount}}
	rs, balances, err := ledger.PostMany(ctx, tx, []ledger.Txn{t}, now)
	if err != nil {
		return ledger.Result{}, err
	}
	if rs[0].Duplicate {
		return rs[0], nil
	}
	s.Balance = balances[s.LedgerID]
	return rs[0], b.settle(ctx, tx, s, now)
}

// Charge takes amount from the subscriber as revenue of serviceKind under
// key. Other capabilities use it for services billed outside the monthly run.
func (b *Biller) Charge(ctx context.Context, tx *store.Tx, accountID int64, key, serviceKind, service string, amount money.Amount, memo string, now time.Time) (ledger.Result, error) {
	s, err := loadState(ctx, tx, accountID)
	if err != nil {
		return ledger.Result{}, err
	}
	return b.post(ctx, tx, s, ledger.Txn{Key: key, Kind: ledger.TxnCharge, Amount: -amount, Service: service, Memo: memo, EffectiveAt: now},
		ledger.RevenueCode(serviceKind), ledger.KindRevenue, now)
}

// Activate charges a new account for the month it starts in: prorated when
// the tariff says so. The key is the monthly one, so the 1st's run does not
// charge the month again.
func (b *Biller) Activate(ctx context.Context, tx *store.Tx, accountID int64, now time.Time) error {
	s, err := loadState(ctx, tx, accountID)
	if err != nil {
		return err
	}
	t, err := TariffByID(ctx, tx, s.TariffID)
	if err != nil {
		return err
	}
	p := PeriodOf(now, b.Rules.Zone)
	fee := t.Fee
	if t.Prorate {
		fee = money.Prorate(t.Fee, p.DaysLeft(now), p.Days())
	}
	if fee == 0 {
		return nil
	}
	_, err = b.post(ctx, tx, s, ledger.Txn{Key: fmt.Sprintf("fee:%d:tariff:%s", s.ID, p.Key), Kind: ledger.TxnCharge,
		Amount: -fee, Service: t.Code, Period: p.Key, EffectiveAt: now}, ledger.RevenueCode("tariff"), ledger.KindRevenue, now)
	return err
}

// TariffChange is the effect of changing tariff, shown before the subscriber
// confirms and applied after.
type TariffChange struct {
	From, To    Tariff
	Immediate   bool      // prorated now; otherwise from the next 1st
	EffectiveAt time.Time // when the new speed and fee begin
	DaysLeft    int
	Refund      money.Amount // unused part of the old fee, returned
	Charge      money.Amount // the new fee for the rest of the month
	Net         money.Amount // what the balance moves by now (Refund − Charge)
	// Debt is set when the balance is negative: a prorating tariff then
	// changes on the next 1st, with no refund of the unused days into a
	// debt (the old fee was never paid) and no deeper debt for a dearer
	// one. The quote tells the subscriber so.
	Debt money.Amount
}

// QuoteTariffChange tells what changing to code would do, without doing it.
func (b *Biller) QuoteTariffChange(ctx context.Context, accountID int64, code string) (TariffChange, error) {
	return b.quoteTariffChange(ctx, b.DB, accountID, code, b.Clock.Now())
}

func (b *Biller) quoteTariffChange(ctx context.Context, q queryer, accountID int64, code string, now time.Time) (TariffChange, error) {
	var c TariffChange
	s, err := loadState(ctx, q, accountID)
	if err != nil {
		return c, err
	}
	switch s.Status {
	case StatusBlocked, StatusFrozen, StatusClosed:
		return c, fmt.Errorf("account %d is %s: %w", accountID, s.Status, ErrAccountInactive)
	}
	if c.From, err = TariffByID(ctx, q, s.TariffID); err != nil {
		return c, err
	}
	if c.To, err = TariffByCode(ctx, q, code); err != nil {
		return c, err
	}
	if !c.To.Offered(s.CityID) {
		return c, fmt.Errorf("tariff %s: %w", code, ErrNotOffered)
	}
	if c.To.ID == c.From.ID {
		return c, fmt.Errorf("tariff %s: %w", code, ErrSameTariff)
	}
	p := PeriodOf(now, b.Rules.Zone)
	if s.Balance < 0 {
		c.Debt = -s.Balance
	}
	if c.From.Prorate && c.Debt == 0 {
		c.Immediate = true
		c.EffectiveAt = now
		c.DaysLeft = p.DaysLeft(now)
		c.Refund = money.Prorate(c.From.Fee, c.DaysLeft, p.Days())
		c.Charge = money.Prorate(c.To.Fee, c.DaysLeft, p.Days())
		c.Net = c.Refund - c.Charge
	} else {
		c.EffectiveAt = p.End
	}
	return c, nil
}

// ChangeTariff moves the account to tariff code: at once with proration when
// the current tariff allows it, otherwise from the next 1st.
func (b *Biller) ChangeTariff(ctx context.Context, accountID int64, code string) (TariffChange, error) {
	now := b.Clock.Now()
	var c TariffChange
	err := b.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = b.quoteTariffChange(ctx, tx, accountID, code, now); err != nil {
			return err
		}
		if !c.Immediate {
			_, err := tx.Exec(ctx, `UPDATE accounts SET next_tariff_id = ?, next_tariff_at = ?, updated_at = ? WHERE id = ?`, c.To.ID, c.EffectiveAt.UTC(), now.UTC(), accountID)
			return err
		}
		var changeID int64
		if err := tx.QueryRow(ctx, `INSERT INTO tariff_changes (account_id, from_tariff_id, to_tariff_id, requested_at, effective_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			accountID, c.From.ID, c.To.ID, now.UTC(), now.UTC()).Scan(&changeID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET tariff_id = ?, next_tariff_id = NULL, next_tariff_at = NULL, updated_at = ? WHERE id = ?`, c.To.ID, now.UTC(), accountID); err != nil {
			return err
		}
		s, err := loadState(ctx, tx, accountID)
		if err != nil {
			return err
		}
		period := PeriodOf(now, b.Rules.Zone).Key
		if c.Refund > 0 {
			if _, err := b.post(ctx, tx, s, ledger.Txn{Key: fmt.Sprintf("tariff-change:%d:refund", changeID), Kind: ledger.TxnRefund,
				Amount: c.Refund, Service: c.From.Code, Period: period, Memo: "tariff change", EffectiveAt: now}, ledger.RevenueCode("tariff"), ledger.KindRevenue, now); err != nil {
				return err
			}
		}
		if c.Charge > 0 {
			if _, err := b.post(ctx, tx, s, ledger.Txn{Key: fmt.Sprintf("tariff-change:%d:charge", changeID), Kind: ledger.TxnCharge,
				Amount: -c.Charge, Service: c.To.Code, Period: period, Memo: "tariff change", EffectiveAt: now}, ledger.RevenueCode("tariff"), ledger.KindRevenue, now); err != nil {
				return err
			}
		}
		return tx.Emit(ctx, store.Event{Kind: store.EventTariffChanged, AccountID: accountID, At: now,
			Data: map[string]string{"from": c.From.Code, "to": c.To.Code}})
	})
	if err != nil {
		return c, fmt.Errorf("change tariff of %d to %s: %w", accountID, code, err)
	}
	return c, nil
}

// CancelTariffChange drops a change scheduled for the next 1st.
func (b *Biller) CancelTariffChange(ctx context.Context, accountID int64) error {
	return b.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE accounts SET next_tariff_id = NULL, next_tariff_at = NULL WHERE id = ?`, accountID)
		return err
	})
}

// Subscription is a package connected to an account.
type Subscription struct {
	ID         int64
	AccountID  int64
	Package    Package
	StartedAt  time.Time
	EndsAt     time.Time // a boost's planned end; zero for open-ended
	EndedAt    time.Time // zero while connected
	LicenseKey string
	StaticIP   string
}

// Active tells whether the subscription is in force at t.
func (s Subscription) Active(t time.Time) bool {
	return s.EndedAt.IsZero() && (s.EndsAt.IsZero() || s.EndsAt.After(t))
}

// subscriptionCols are what scanSubscription reads, from subscriptions s
// joined with packages k.
var subscriptionCols = `s.id, s.account_id, s.started_at, s.ends_at, s.ended_at, s.license_key, s.static_ip, ` + packageColumns("k.")

func scanSubscription(row interface{ Scan(...any) error }) (Subscription, error) {
	var s Subscription
	var ends, ended sql.NullTime
	p := &s.Package
	err := row.Scan(&s.ID, &s.AccountID, &s.StartedAt, &ends, &ended, &s.LicenseKey, &s.StaticIP,
		&p.ID, &p.Code, &p.Kind, &p.Name, &p.NameEn, &p.Description, &p.Price, &p.Pricing, &p.DurationHours, &p.SpeedPercent, &p.CityID, &p.Archived)
	s.EndsAt, s.EndedAt = ends.Time, ended.Time
	return s, err
}

// packageFeeKey is the key of a monthly package's charge for a period: the
// 1st's run (in SQL, run.go) and a connection mid-month use the same one.
func packageFeeKey(accountID, subscriptionID int64, period string) string {
	return fmt.Sprintf("fee:%d:pkg:%d:%s", accountID, subscriptionID, period)
}

// Subscriptions lists an account's packages; all=false gives only those
// connected now.
func (b *Biller) Subscriptions(ctx context.Context, q queryer, accountID int64, all bool) ([]Subscription, error) {
	query := `SELECT ` + subscriptionCols + ` FROM subscriptions s JOIN packages k ON k.id = s.package_id WHERE s.account_id = ?`
	if !all {
		query += ` AND s.ended_at IS NULL`
	}
	rows, err := q.Query(ctx, query+` ORDER BY s.started_at DESC, s.id DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Subscription
	now := b.Clock.Now()
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("subscriptions of %d: %w", accountID, err)
		}
		if !all && !s.Active(now) {
			continue
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Connect connects package code to the account and charges for it: a monthly
// package for the rest of the month (prorated when the tariff says so), a
// one-off or per-duration package its price, which must be on the balance.
func (b *Biller) Connect(ctx context.Context, accountID int64, code string) (Subscription, error) {
	now := b.Clock.Now()
	var sub Subscription
	err := b.DB.Write(ctx, func(tx *store.Tx) error {
		s, err := loadState(ctx, tx, accountID)
		if err != nil {
			return err
		}
		switch s.Status {
		case StatusLimited:
			return ErrLimited
		case StatusBlocked, StatusFrozen, StatusClosed:
			return fmt.Errorf("account is %s: %w", s.Status, ErrAccountInactive)
		}
		p, err := PackageByCode(ctx, tx, code)
		if err != nil {
			return err
		}
		if p.Archived || (p.CityID != 0 && p.CityID != s.CityID) {
			return fmt.Errorf("package %s: %w", code, derrors.NotFound)
		}
		current, err := b.Subscriptions(ctx, tx, accountID, false)
		if err != nil {
			return err
		}
		for _, c := range current {
			if c.Package.ID == p.ID || (p.Kind == PackageBoost && c.Package.Kind == PackageBoost) {
				return fmt.Errorf("package %s: %w", code, ErrAlreadyConnected)
			}
		}
		tariff, err := TariffByID(ctx, tx, s.TariffID)
		if err != nil {
			return err
		}
		period := PeriodOf(now, b.Rules.Zone)
		price := p.Price
		if p.Pricing == PriceMonthly && tariff.Prorate {
			price = money.Prorate(p.Price, period.DaysLeft(now), period.Days())
		}
		if p.Pricing != PriceMonthly && s.Balance < price {
			return ErrInsufficientFunds
		}
		sub = Subscription{AccountID: accountID, Package: p, StartedAt: now}
		if p.Pricing == PriceDuration {
			sub.EndsAt = now.Add(time.Duration(p.DurationHours) * time.Hour)
		}
		switch p.Kind {
		case PackageAntivirus:
			sub.LicenseKey = licenseKey()
		case PackageStaticIP:
			if sub.StaticIP, err = b.freeStaticIP(ctx, tx); err != nil {
				return err
			}
		}
		var ends any
		if !sub.EndsAt.IsZero() {
			ends = sub.EndsAt.UTC()
		}
		if err := tx.QueryRow(ctx, `INSERT INTO subscriptions (account_id, package_id, started_at, ends_at, license_key, static_ip) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			accountID, p.ID, now.UTC(), ends, sub.LicenseKey, sub.StaticIP).Scan(&sub.ID); err != nil {
			return err
		}
		key := packageFeeKey(accountID, sub.ID, period.Key)
		if p.Pricing != PriceMonthly {
			key = fmt.Sprintf("pkg:%d:%d", accountID, sub.ID)
		}
		if price > 0 {
			if _, err := b.post(ctx, tx, s, ledger.Txn{Key: key, Kind: ledger.TxnCharge, Amount: -price, Service: p.Code, Period: period.Key, EffectiveAt: now},
				ledger.RevenueCode(p.Kind), ledger.KindRevenue, now); err != nil {
				return err
			}
		}
		kind := store.EventPackageOn
		if p.Kind == PackageBoost {
			kind = store.EventBoostStarted
		}
		return tx.Emit(ctx, store.Event{Kind: kind, AccountID: accountID, At: now, Data: map[string]string{"package": p.Code}})
	})
	if err != nil {
		return sub, fmt.Errorf("connect %s to %d: %w", code, accountID, err)
	}
	return sub, nil
}

// Disconnect ends the subscription. A monthly package on a prorating tariff
// returns the unused days. The subscription must belong to the account.
func (b *Biller) Disconnect(ctx context.Context, accountID, subscriptionID int64) error {
	now := b.Clock.Now()
	err := b.DB.Write(ctx, func(tx *store.Tx) error {
		subs, err := b.Subscriptions(ctx, tx, accountID, false)
		if err != nil {
			return err
		}
		var sub *Subscription
		for i := range subs {
			if subs[i].ID == subscriptionID {
				sub = &subs[i]
			}
		}
		if sub == nil {
			return fmt.Errorf("subscription %d: %w", subscriptionID, derrors.NotFound)
		}
		if _, err := tx.Exec(ctx, `UPDATE subscriptions SET ended_at = ? WHERE id = ? AND account_id = ?`, now.UTC(), sub.ID, accountID); err != nil {
			return err
		}
		s, err := loadState(ctx, tx, accountID)
		if err != nil {
			return err
		}
		tariff, err := TariffByID(ctx, tx, s.TariffID)
		if err != nil {
			return err
		}
		period := PeriodOf(now, b.Rules.Zone)
		if sub.Package.Pricing == PriceMonthly && tariff.Prorate {
			// Return the days after today, if this month was charged.
			var charged int64
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE key = ?`, packageFeeKey(accountID, sub.ID, period.Key)).Scan(&charged); err != nil {
				return err
			}
			if refund := money.Prorate(sub.Package.Price, period.DaysLeft(now)-1, period.Days()); charged > 0 && refund > 0 {
				if _, err := b.post(ctx, tx, s, ledger.Txn{Key: fmt.Sprintf("pkg-refund:%d:%d", accountID, sub.ID), Kind: ledger.TxnRefund, Amount: refund,
					Service: sub.Package.Code, Period: period.Key, Memo: "package disconnected", EffectiveAt: now}, ledger.RevenueCode(sub.Package.Kind), ledger.KindRevenue, now); err != nil {
					return err
				}
			}
		}
		kind := store.EventPackageOff
		if sub.Package.Kind == PackageBoost {
			kind = store.EventBoostEnded
		}
		return tx.Emit(ctx, store.Event{Kind: kind, AccountID: accountID, At: now, Data: map[string]string{"package": sub.Package.Code}})
	})
	if err != nil {
		return fmt.Errorf("disconnect %d of %d: %w", subscriptionID, accountID, err)
	}
	return nil
}

// EndBoosts closes per-duration subscriptions whose time is up, so the NAS
// is told to return to the tariff's speed.
func (b *Biller) EndBoosts(ctx context.Context, at time.Time) (int64, error) {
	var n int64
	err := b.DB.Write(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE subscriptions SET ended_at = ends_at WHERE ended_at IS NULL AND ends_at IS NOT NULL AND ends_at <= ? RETURNING account_id, id`, at.UTC())
		if err != nil {
			return err
		}
		type ended struct{ acct, id int64 }
		var all []ended
		for rows.Next() {
			var e ended
			if err := rows.Scan(&e.acct, &e.id); err != nil {
				rows.Close()
				return err
			}
			all = append(all, e)
		}
		rows.Close()
		for _, e := range all {
			if err := tx.Emit(ctx, store.Event{Kind: store.EventBoostEnded, AccountID: e.acct, At: at, Data: map[string]string{"subscription": fmt.Sprint(e.id)}}); err != nil {
				return err
			}
		}
		n = int64(len(all))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("end boosts: %w", err)
	}
	return n, nil
}

func licenseKey() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var buf [20]byte
	rand.Read(buf[:])
	var b strings.Builder
	for i, c := range buf {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}

func (b *Biller) freeStaticIP(ctx context.Context, tx *store.Tx) (string, error) {
	rows, err := tx.Query(ctx, `SELECT static_ip FROM subscriptions WHERE static_ip <> '' AND ended_at IS NULL`)
	if err != nil {
		return "", err
	}
	used := map[string]bool{}
	for rows.Next() {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			rows.Close()
			return "", err
		}
		used[ip] = true
	}
	rows.Close()
	pool := b.Rules.StaticIPPool.Masked()
	// Skip the network address and the first host, usually the gateway.
	for a := pool.Addr().Next().Next(); pool.Contains(a); a = a.Next() {
		if !used[a.String()] && pool.Contains(a.Next()) {
			return a.String(), nil
		}
	}
	return "", fmt.Errorf("static IP pool %s is exhausted", pool)
}
