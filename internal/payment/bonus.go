package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Bonus points are kept in kopecks like money: one point is one kopeck of
// services. Each subscriber has a points account ("bonus:ID"); the provider's
// promise to honour them is the bonus liability, its mirror image.
const bonusLiabilityCode = "bonus_liability"

func bonusCode(accountID int64) string { return "bonus:" + strconv.FormatInt(accountID, 10) }

// ErrInsufficientBonus means the subscriber has fewer points than asked to spend.
var ErrInsufficientBonus error = derrors.New(derrors.Conflict, "bonus_insufficient", "not enough bonus points")

// accrual is the points a payment earns: the configured percent of it.
type accrual struct {
	accountID  int64
	paymentKey string
	amount     money.Amount
}

// accrueBonus adds the configured percent of payments as points, in the
// payments' transaction and under keys derived from the payments', so that
// a payment accrues once. All of them post together (ledger.PostMany).
func (s *Service) accrueBonus(ctx context.Context, tx *store.Tx, pays []accrual, now time.Time) error {
	var txns []ledger.Txn
	for _, p := range pays {
		points := p.amount.PercentBP(s.opts.BonusPercentBP)
		if points <= 0 {
			continue
		}
		t, err := pointsTxn(ctx, tx, p.accountID, points, ledger.Txn{Key: "bonus:" + p.paymentKey, Kind: ledger.TxnBonus})
		if err != nil {
			return fmt.Errorf("bonus for %s: %w", p.paymentKey, err)
		}
		txns = append(txns, t)
	}
	if len(txns) == 0 {
		return nil
	}
	if _, _, err := ledger.PostMany(ctx, tx, txns, now); err != nil {
		return fmt.Errorf("bonus for %s: %w", pays[0].paymentKey, err)
	}
	return nil
}

// movePoints posts t as a move of points onto the subscriber's points
// account (negative: off it) against the bonus liability.
func movePoints(ctx context.Context, tx *store.Tx, accountID int64, points money.Amount, t ledger.Txn, now time.Time) error {
	t, err := pointsTxn(ctx, tx, accountID, points, t)
	if err != nil {
		return err
	}
	_, err = ledger.Post(ctx, tx, t, now)
	return err
}

// pointsTxn fills t with the postings of a move of points.
func pointsTxn(ctx context.Context, tx *store.Tx, accountID int64, points money.Amount, t ledger.Txn) (ledger.Txn, error) {
	// AccountID stays 0: the subscriber's money balance does not move, so
	// the move is no line of the money statement; it lives on the points
	// account.
	acct, err := ledger.Account(ctx, tx, bonusCode(accountID), ledger.KindBonus)
	if err != nil {
		return t, err
	}
	liab, err := ledger.Account(ctx, tx, bonusLiabilityCode, ledger.KindBonusLiability)
	if err != nil {
		return t, err
	}
	t.Service, t.Memo = "bonus", "account "+strconv.FormatInt(accountID, 10)
	t.Postings = []ledger.Posting{{LedgerAccountID: acct, Amount: points}, {LedgerAccountID: liab, Amount: -points}}
	return t, nil
}

// BonusBalance is the subscriber's points, for the portal.
func (s *Service) BonusBalance(ctx context.Context, accountID int64) (money.Amount, error) {
	var b int64
	err := s.db.QueryRow(ctx, `SELECT balance FROM ledger_accounts WHERE code = ?`, bonusCode(accountID)).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("bonus balance of %d: %w", accountID, err)
	}
	return money.Amount(b), nil
}

// SpendBonus turns points into money on the subscriber's account, to pay for
// services: the points and the liability go down, and the account goes up
// against the provider's bonus discount (negative revenue), with the debt
// settled as for any payment. key makes it idempotent (the portal passes the
// form's one-time token); a repeat changes nothing. Points never go negative:
// asking for more than there is fails whole.
func (s *Service) SpendBonus(ctx context.Context, accountID int64, points money.Amount, key string) error {
	if points <= 0 {
		return fmt.Errorf("spend bonus: %s points: %w", points, ErrBadAmount)
	}
	if key == "" {
		return fmt.Errorf("spend bonus: %w", ledger.ErrNoKey)
	}
	now := s.clock.Now()
	spendKey := "bonus-spend:" + strconv.FormatInt(accountID, 10) + ":" + key
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var done int64
		if err := tx.QueryRow(ctx, `SELECT id FROM ledger_txns WHERE key = ?`, spendKey).Scan(&done); err == nil {
			return nil // a repeat: the points it took are gone, and that was its success
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("spend bonus of %d: %w", accountID, err)
		}
		acct, err := ledger.Account(ctx, tx, bonusCode(accountID), ledger.KindBonus)
		if err != nil {
			return err
		}
		// Locked so that two spends cannot both see the same balance.
		var have int64
		if err := tx.QueryRow(ctx, `SELECT balance FROM ledger_accounts WHERE id = ?`+tx.ForUpdate(), acct).Scan(&have); err != nil {
			return fmt.Errorf("spend bonus of %d: %w", accountID, err)
		}
		if money.Amount(have) < points {
			return fmt.Errorf("spend %s points of account %d, has %s: %w", points, accountID, money.Amount(have), ErrInsufficientBonus)
		}
		if err := movePoints(ctx, tx, accountID, -points, ledger.Txn{Key: spendKey + ":points", Kind: ledger.TxnBonus}, now); err != nil {
			return fmt.Errorf("spend bonus of %d: %w", accountID, err)
		}
		_, err = s.biller.PostAndSettle(ctx, tx, accountID, ledger.Txn{Key: spendKey, Kind: ledger.TxnBonus, Amount: points, Service: "bonus"},
			ledger.RevenueCode("bonus"), ledger.KindRevenue, now)
		if err != nil {
			return fmt.Errorf("spend bonus of %d: %w", accountID, err)
		}
		return nil
	})
}
