package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// A voluntary suspension freezes the account: internal/suspension owns the
// suspension and its rules, billing the account's row and the money. The
// tariff's fee is not charged for the frozen days, prorated by day at both
// ends whatever the tariff's own proration says:
//
//   - the month the suspension starts in keeps its monthly charge (made now
//     under the month's key if the 1st's run has not made it yet) and gets
//     back the days from the start to the month's end (Freeze);
//   - a month whose 1st falls inside the suspension is not charged by the
//     run (chargeChunk skips it);
//   - the month the account resumes in is charged the days from the resume
//     to its end (Thaw): under the month's own key when its 1st was frozen,
//     so that the run, whichever comes first, charges it once.
//
// Each movement has its own key, so a transition repeated by a second
// instance moves nothing twice. Packages are not frozen: they stay
// connected and are charged as usual (a subscriber disconnects them first).

// FrozenCharge is what a suspension from..until does to the tariff's fees,
// month by month: the figures the transitions post, so that a quote shown
// before confirming is what happens to the kopeck.
type FrozenCharge struct {
	Period   Period
	Days     int          // frozen days of the period
	Refund   money.Amount // returned at the start (the start's month)
	Unbilled money.Amount // not charged: a whole frozen month's fee, or the part before the resume
	Charge   money.Amount // charged at the resume for the rest of the resume's month
}

// Saved is what the account does not pay.
func (f FrozenCharge) Saved() money.Amount {
	return f.Refund + f.Unbilled - f.Charge
}

// FrozenDays counts the days of each month from from's day up to until's
// day (until's day is not frozen: the line resumes on it).
func FrozenDays(from, until time.Time, zone *time.Location) []FrozenCharge {
	var out []FrozenCharge
	for p := PeriodOf(from, zone); p.Start.Before(until); p = p.Next() {
		days := p.DaysLeft(maxTime(from, p.Start)) - p.DaysLeft(until)
		if days <= 0 {
			continue
		}
		out = append(out, FrozenCharge{Period: p, Days: days})
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// SuspensionFees tells, month by month, what the tariff's fee does under a
// suspension from..until: the same arithmetic Freeze and Thaw post.
func SuspensionFees(fee money.Amount, from, until time.Time, zone *time.Location) []FrozenCharge {
	out := FrozenDays(from, until, zone)
	first := PeriodOf(from, zone)
	last := PeriodOf(until, zone)
	for i := range out {
		p := out[i].Period
		d := p.Days()
		switch {
		case p.Key == first.Key:
			out[i].Refund = money.Prorate(fee, p.DaysLeft(from), d)
			if p.Key == last.Key {
				out[i].Charge = money.Prorate(fee, p.DaysLeft(until), d)
			}
		case p.Key == last.Key:
			out[i].Unbilled = fee
			out[i].Charge = money.Prorate(fee, p.DaysLeft(until), d)
		default:
			out[i].Unbilled = fee
		}
	}
	return out
}

// ProratedFee is a monthly amount for the frozen days from..until, month
// by month (a suspension's own fee).
func ProratedFee(monthly money.Amount, from, until time.Time, zone *time.Location) money.Amount {
	var sum money.Amount
	for _, f := range FrozenDays(from, until, zone) {
		sum += money.Prorate(monthly, f.Days, f.Period.Days())
	}
	return sum
}

// TariffFee is the monthly fee of the account's tariff.
func (b *Biller) TariffFee(ctx context.Context, q queryer, accountID int64) (money.Amount, error) {
	s, err := loadState(ctx, q, accountID)
	if err != nil {
		return 0, err
	}
	t, err := TariffByID(ctx, q, s.TariffID)
	if err != nil {
		return 0, err
	}
	return t.Fee, nil
}

func tariffFeeKey(accountID int64, period string) string {
	return fmt.Sprintf("fee:%d:tariff:%s", accountID, period)
}

// Freeze starts a suspension from from (the agreed start, which may be
// earlier than now when the worker was late): the month's fee is made sure
// of, the frozen part of it returned, the account frozen and RADIUS told
// (account.status: CoA or Disconnect). key names the suspension in the
// ledger keys. It returns the amount returned.
func (b *Biller) Freeze(ctx context.Context, tx *store.Tx, accountID int64, key string, from, now time.Time) (money.Amount, error) {
	s, err := loadState(ctx, tx, accountID)
	if err != nil {
		return 0, err
	}
	t, err := TariffByID(ctx, tx, s.TariffID)
	if err != nil {
		return 0, err
	}
	p := PeriodOf(from, b.Rules.Zone)
	refund := money.Prorate(t.Fee, p.DaysLeft(from), p.Days())
	if t.Fee > 0 {
		// The 1st's run may not have reached this account yet (it runs at
		// the same minute, or catches up after downtime): charge the month
		// as it would, under its key, so that the refund below always
		// returns part of a charge made once.
		if _, err := b.post(ctx, tx, s, ledger.Txn{Key: tariffFeeKey(accountID, p.Key), Kind: ledger.TxnCharge, Amount: -t.Fee,
			Service: t.Code, Period: p.Key, EffectiveAt: p.Start}, ledger.RevenueCode("tariff"), ledger.KindRevenue, now); err != nil {
			return 0, err
		}
		// The charge may have started the debt clock: settle the refund
		// against the row as it is now.
		if s, err = loadState(ctx, tx, accountID); err != nil {
			return 0, err
		}
	}
	if refund > 0 {
		if _, err := b.post(ctx, tx, s, ledger.Txn{Key: key + ":refund", Kind: ledger.TxnRefund, Amount: refund,
			Service: t.Code, Period: p.Key, Memo: "suspension", EffectiveAt: from}, ledger.RevenueCode("tariff"), ledger.KindRevenue, now); err != nil {
			return 0, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET status = 'frozen', limited_since = NULL, updated_at = ? WHERE id = ?`, now.UTC(), accountID); err != nil {
		return 0, fmt.Errorf("freeze %d: %w", accountID, err)
	}
	return refund, tx.Emit(ctx, store.Event{Kind: store.EventAccountStatus, AccountID: accountID, At: now,
		Data: map[string]string{"status": StatusFrozen, "reason": "suspension"}})
}

// Thaw ends a suspension that began at from, resuming the line at until
// (the planned end, or now for an early resume): the rest of until's month
// is charged, the account is active again (limited at once if its debt is
// overdue) and RADIUS is told. It returns the amount charged.
func (b *Biller) Thaw(ctx context.Context, tx *store.Tx, accountID int64, key string, from, until, now time.Time) (money.Amount, error) {
	s, err := loadState(ctx, tx, accountID)
	if err != nil {
		return 0, err
	}
	t, err := TariffByID(ctx, tx, s.TariffID)
	if err != nil {
		return 0, err
	}
	p := PeriodOf(until, b.Rules.Zone)
	charge := money.Prorate(t.Fee, p.DaysLeft(until), p.Days())
	if charge > 0 {
		// Resumed in the month it started in: that month was charged and
		// its rest returned at the start, so the days from now are a
		// charge of their own. Resumed in a later month: its 1st was
		// frozen, the run does not charge it, and this is its charge.
		k := key + ":resume"
		if p.Key != PeriodOf(from, b.Rules.Zone).Key {
			k = tariffFeeKey(accountID, p.Key)
		}
		if _, err := b.post(ctx, tx, s, ledger.Txn{Key: k, Kind: ledger.TxnCharge, Amount: -charge,
			Service: t.Code, Period: p.Key, Memo: "suspension", EffectiveAt: until}, ledger.RevenueCode("tariff"), ledger.KindRevenue, now); err != nil {
			return 0, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET status = 'active', updated_at = ? WHERE id = ? AND status = 'frozen'`, now.UTC(), accountID); err != nil {
		return 0, fmt.Errorf("thaw %d: %w", accountID, err)
	}
	if err := tx.Emit(ctx, store.Event{Kind: store.EventAccountStatus, AccountID: accountID, At: now,
		Data: map[string]string{"status": StatusActive, "reason": "suspension"}}); err != nil {
		return 0, err
	}
	if _, err := b.limitRange(ctx, tx, now, accountID, accountID); err != nil {
		return 0, err
	}
	return charge, nil
}

// ChargeSuspension charges (amount > 0) or returns (amount < 0) a
// suspension's own fee under key.
func (b *Biller) ChargeSuspension(ctx context.Context, tx *store.Tx, accountID int64, key string, amount money.Amount, memo string, now time.Time) error {
	if amount == 0 {
		return nil
	}
	s, err := loadState(ctx, tx, accountID)
	if err != nil {
		return err
	}
	kind := ledger.TxnCharge
	if amount < 0 {
		kind = ledger.TxnRefund
	}
	_, err = b.post(ctx, tx, s, ledger.Txn{Key: key, Kind: kind, Amount: -amount, Service: "suspension", Period: PeriodOf(now, b.Rules.Zone).Key,
		Memo: memo, EffectiveAt: now}, ledger.RevenueCode("suspension"), ledger.KindRevenue, now)
	return err
}
