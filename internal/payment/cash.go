package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ErrReasonRequired means an operator's correction or reversal came without
// the reason the books must keep.
var ErrReasonRequired = errors.New("a reason is required")

// ErrOperatorRequired means an operator action did not say who did it.
var ErrOperatorRequired = errors.New("the operator is required")

// CashIn is money a cashier took at the office.
type CashIn struct {
	AccountID int64
	Amount    money.Amount
	Operator  string // who took the money
	// Receipt is the cash receipt's number, unique per cashier desk; it is
	// the payment's idempotency key, so a form sent twice credits once.
	Receipt string
	Memo    string
}

// CashPayment credits money taken by a cashier. A repeated receipt number
// returns the first payment and credits nothing.
func (s *Service) CashPayment(ctx context.Context, in CashIn) (Payment, error) {
	switch {
	case in.Amount <= 0:
		return Payment{}, fmt.Errorf("cash payment of %s: %w", in.Amount, ErrBadAmount)
	case strings.TrimSpace(in.Operator) == "":
		return Payment{}, fmt.Errorf("cash payment: %w", ErrOperatorRequired)
	case strings.TrimSpace(in.Receipt) == "":
		return Payment{}, fmt.Errorf("cash payment: a receipt number is required")
	}
	// The receipt is the cash desk's id of the payment: Record applies it once.
	p, _, err := s.Record(ctx, ManualIn{Channel: ChannelCash, ExternalID: strings.TrimSpace(in.Receipt), AccountID: in.AccountID,
		Amount: in.Amount, Operator: in.Operator, Memo: in.Memo})
	if err != nil {
		return Payment{}, fmt.Errorf("cash payment: %w", err)
	}
	return p, nil
}

// Correction is an operator's change of a balance: a positive amount adds,
// a negative one takes away.
type Correction struct {
	AccountID int64
	Amount    money.Amount
	Reason    string // mandatory: kept in the ledger as the transaction's memo
	Operator  string
	Key       string // idempotency: the back-office form's one-time token
}

// Correct posts an operator's correction against the adjustment account and
// settles debt and limit. It is reversible like any ledger transaction
// (Reverse). A repeated key changes nothing and returns the first id.
func (s *Service) Correct(ctx context.Context, c Correction) (int64, error) {
	switch {
	case c.Amount == 0:
		return 0, fmt.Errorf("correction: %w", ErrBadAmount)
	case strings.TrimSpace(c.Reason) == "":
		return 0, fmt.Errorf("correction: %w", ErrReasonRequired)
	case strings.TrimSpace(c.Operator) == "":
		return 0, fmt.Errorf("correction: %w", ErrOperatorRequired)
	case c.Key == "":
		return 0, fmt.Errorf("correction: %w", ledger.ErrNoKey)
	}
	now := s.clock.Now()
	var id int64
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		r, err := s.biller.PostAndSettle(ctx, tx, c.AccountID, ledger.Txn{
			Key: "correction:" + c.Key, Kind: ledger.TxnCorrection, Amount: c.Amount, Service: "correction",
			Memo: operatorMemo(c.Operator, c.Reason), EffectiveAt: now,
		}, "adjustment", ledger.KindAdjustment, now)
		id = r.TxnID
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("correction of account %d: %w", c.AccountID, err)
	}
	return id, nil
}

func operatorMemo(operator, reason string) string {
	return strings.TrimSpace(reason) + " — " + strings.TrimSpace(operator)
}

// Reverse undoes a ledger transaction (a payment, cash or a correction) by
// its mirror image, with the operator's reason, and settles the account. A
// reversed payment shows as reversed in the history, and the bonus points it
// accrued are taken back as far as the subscriber still has them (points
// never go negative). Reversing twice changes nothing.
func (s *Service) Reverse(ctx context.Context, txnID int64, reason, operator string) (int64, error) {
	switch {
	case strings.TrimSpace(reason) == "":
		return 0, fmt.Errorf("reverse %d: %w", txnID, ErrReasonRequired)
	case strings.TrimSpace(operator) == "":
		return 0, fmt.Errorf("reverse %d: %w", txnID, ErrOperatorRequired)
	}
	now := s.clock.Now()
	var id int64
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var accountID int64
		var key string
		if err := tx.QueryRow(ctx, `SELECT COALESCE(account_id, 0), key FROM ledger_txns WHERE id = ?`, txnID).Scan(&accountID, &key); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("ledger transaction %d: %w", txnID, ledger.ErrNotFound)
			}
			return err
		}
		r, err := ledger.Reverse(ctx, tx, txnID, "reversal:"+strconv.FormatInt(txnID, 10), operatorMemo(operator, reason), now)
		if err != nil {
			return err
		}
		id = r.TxnID
		if r.Duplicate {
			return nil
		}
		if accountID != 0 {
			if err := s.biller.Settle(ctx, tx, accountID, now); err != nil {
				return err
			}
		}
		res, err := tx.Exec(ctx, `UPDATE payments SET status = ?, updated_at = ?, memo = ? WHERE ledger_txn_id = ?`,
			string(StatusReversed), now.UTC(), operatorMemo(operator, reason), txnID)
		if err != nil {
			return fmt.Errorf("reverse %d: %w", txnID, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return s.takeBackBonus(ctx, tx, accountID, key, now)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reverse %d: %w", txnID, err)
	}
	return id, nil
}

// takeBackBonus reverses a reversed payment's points, or what is left of them.
func (s *Service) takeBackBonus(ctx context.Context, tx *store.Tx, accountID int64, paymentKey string, now time.Time) error {
	var accrualID int64
	err := tx.QueryRow(ctx, `SELECT id FROM ledger_txns WHERE key = ?`, "bonus:"+paymentKey).Scan(&accrualID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bonus of %s: %w", paymentKey, err)
	}
	var accrued, have int64
	if err := tx.QueryRow(ctx, `SELECT p.amount, a.balance FROM postings p JOIN ledger_accounts a ON a.id = p.ledger_account_id
		WHERE p.txn_id = ? AND a.code = ?`, accrualID, bonusCode(accountID)).Scan(&accrued, &have); err != nil {
		return fmt.Errorf("bonus of %s: %w", paymentKey, err)
	}
	take := min(accrued, have)
	if take <= 0 {
		return nil
	}
	return movePoints(ctx, tx, accountID, money.Amount(-take), ledger.Txn{Key: "bonus-reversal:" + paymentKey, Kind: ledger.TxnReversal, Reverses: accrualID}, now)
}
