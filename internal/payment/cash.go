package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ErrReasonRequired means an operator's correction or reversal came without
// the reason the books must keep.
var ErrReasonRequired error = derrors.New(derrors.Invalid, "reason_required", "a reason is required")

// ErrOperatorRequired means an operator action did not say who did it.
var ErrOperatorRequired error = derrors.New(derrors.Invalid, "", "the operator is required")

// ErrNeedsConfirmation means a cash payment is above what the cashier may
// take alone: a manager must confirm it.
var ErrNeedsConfirmation error = derrors.New(derrors.Forbidden, "cash_confirm", "above the cashier's limit: a manager must confirm")

// CashIn is money a cashier took at the office.
type CashIn struct {
	AccountID int64
	Amount    money.Amount
	Operator  string // who took the money
	// Receipt is the cash receipt's number, unique per cashier desk; it is
	// the payment's idempotency key, so a form sent twice credits once.
	Receipt string
	Memo    string
	// Limit is the largest amount Operator may take alone; 0: no limit.
	// Above it ConfirmedBy must name the manager who confirmed it.
	Limit       money.Amount
	ConfirmedBy string
}

// CashPayment credits money taken by a cashier. A repeated receipt number
// returns the first payment and credits nothing.
func (s *Service) CashPayment(ctx context.Context, in CashIn) (Payment, error) {
	var p Payment
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		p, _, err = s.CashPaymentTx(ctx, tx, in)
		return err
	})
	return p, err
}

// CashPaymentTx is CashPayment in the caller's transaction (so that the
// back office's audit entry commits with it). repeated is true when the
// receipt was recorded before: p is that first payment and nothing moved.
// An amount above in.Limit without ConfirmedBy is ErrNeedsConfirmation,
// unless it repeats a receipt already recorded.
func (s *Service) CashPaymentTx(ctx context.Context, tx *store.Tx, in CashIn) (p Payment, repeated bool, err error) {
	receipt := strings.TrimSpace(in.Receipt)
	switch {
	case in.Amount <= 0:
		return Payment{}, false, fmt.Errorf("cash payment of %s: %w", in.Amount, ErrBadAmount)
	case strings.TrimSpace(in.Operator) == "":
		return Payment{}, false, fmt.Errorf("cash payment: %w", ErrOperatorRequired)
	case receipt == "":
		return Payment{}, false, fmt.Errorf("cash payment: a receipt number is required")
	}
	now := s.clock.Now()
	if in.Limit > 0 && in.Amount > in.Limit && strings.TrimSpace(in.ConfirmedBy) == "" {
		// The form of a confirmed payment sent again is a repeat, not a
		// new payment needing another confirmation.
		first, err := paymentByExternal(ctx, tx, ChannelCash, receipt)
		if errors.Is(err, sql.ErrNoRows) {
			return Payment{}, false, fmt.Errorf("cash payment of %s, limit %s: %w", in.Amount, in.Limit, ErrNeedsConfirmation)
		}
		if err != nil {
			return Payment{}, false, fmt.Errorf("cash payment %s: %w", receipt, err)
		}
		if first.AccountID != in.AccountID || first.Amount != in.Amount {
			return Payment{}, false, fmt.Errorf("cash receipt %s was %s to account %d, now %s to %d: %w",
				receipt, first.Amount, first.AccountID, in.Amount, in.AccountID, errTxnConflict)
		}
		return first, true, nil
	}
	// The receipt is the cash desk's id of the payment: applied once.
	p = Payment{Channel: ChannelCash, ExternalID: receipt, AccountID: in.AccountID, Amount: in.Amount,
		Status: StatusSucceeded, Source: SourceCashier, Operator: in.Operator, Memo: in.Memo, PaidAt: now, CreatedAt: now}
	p, credited, err := s.recordOnce(ctx, tx, p, now)
	if err != nil {
		return Payment{}, false, fmt.Errorf("cash payment: %w", err)
	}
	return p, !credited, nil
}

// CashLimits reads [payment] cash_limit: per role, the largest cash payment
// an operator of that role may take without a manager ("100000.00"; empty
// or "0": no limit).
func CashLimits(cfg map[string]string) (map[string]money.Amount, error) {
	out := make(map[string]money.Amount, len(cfg))
	for role, v := range cfg {
		if strings.TrimSpace(v) == "" {
			continue
		}
		a, err := money.Parse(v)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("payment: cash_limit %s = %q: want an amount like \"100000.00\"", role, v)
		}
		if a > 0 {
			out[role] = a
		}
	}
	return out, nil
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
		// A payment refunded through its processor, whole or in part, has
		// had that money taken back already.
		var refunds int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM payment_refunds r JOIN payments p ON p.id = r.payment_id
			WHERE p.ledger_txn_id = ? AND r.status IN (?, ?)`, txnID, string(RefundPending), string(RefundSucceeded)).Scan(&refunds); err != nil {
			return err
		}
		if refunds > 0 {
			return ErrRefunded
		}
		var err error
		id, err = s.reverseIn(ctx, tx, txnID, operatorMemo(operator, reason), now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("reverse %d: %w", txnID, err)
	}
	return id, nil
}

// reverseIn is Reverse inside the caller's transaction (a refund confirmed
// by the processor reverses its payment in the same transaction).
func (s *Service) reverseIn(ctx context.Context, tx *store.Tx, txnID int64, memo string, now time.Time) (int64, error) {
	var accountID int64
	var key string
	if err := tx.QueryRow(ctx, `SELECT COALESCE(account_id, 0), key FROM ledger_txns WHERE id = ?`, txnID).Scan(&accountID, &key); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("ledger transaction %d: %w", txnID, derrors.NotFound)
		}
		return 0, err
	}
	r, err := ledger.Reverse(ctx, tx, txnID, "reversal:"+strconv.FormatInt(txnID, 10), memo, now)
	if err != nil {
		return 0, err
	}
	if r.Duplicate {
		return r.TxnID, nil
	}
	if accountID != 0 {
		if err := s.biller.Settle(ctx, tx, accountID, now); err != nil {
			return 0, err
		}
	}
	res, err := tx.Exec(ctx, `UPDATE payments SET status = ?, updated_at = ?, memo = ? WHERE ledger_txn_id = ?`,
		string(StatusReversed), now.UTC(), memo, txnID)
	if err != nil {
		return 0, fmt.Errorf("reverse %d: %w", txnID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		p, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE ledger_txn_id = ?`, txnID))
		if err != nil {
			return 0, fmt.Errorf("reverse %d: %w", txnID, err)
		}
		// The refund receipt's row commits with the reversal.
		if err := s.biller.PaymentReversed(ctx, tx, billing.ReversedPayment{AccountID: p.AccountID, Channel: p.Channel,
			ExternalID: p.ExternalID, Amount: p.Amount, TxnID: txnID, ReversalTxnID: r.TxnID, At: now}); err != nil {
			return 0, fmt.Errorf("reverse %d: %w", txnID, err)
		}
		return r.TxnID, s.takeBackBonus(ctx, tx, accountID, key, now)
	}
	return r.TxnID, nil
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
