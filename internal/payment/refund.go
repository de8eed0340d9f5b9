package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Refund is a payment's money sent back through its processor.
type Refund struct {
	ID        int64
	PaymentID int64
	Ref       string // the processor's refund id
	Amount    money.Amount
	Status    RefundStatus
	Operator  string
	Reason    string
	CreatedAt time.Time
}

// ErrNotRefundable means the payment cannot be refunded through its
// processor: not a succeeded card or SBP payment, or a processor that does
// not refund.
var ErrNotRefundable error = derrors.New(derrors.Conflict, "not_refundable", "the payment cannot be refunded through its processor")

// CanRefund tells whether a payment's processor refunds and the payment is
// one it could refund (for the back office's button).
func (s *Service) CanRefund(p Payment) bool {
	proc, ok := s.processors[strings.TrimPrefix(p.Channel, "card:")]
	_, refunds := proc.(Refunder)
	return ok && refunds && strings.HasPrefix(p.Channel, "card:") && p.Status == StatusSucceeded && p.ExternalID != ""
}

// RefundPayment sends the whole of the account's payment back through its
// processor on an operator's request, with a reason. The processor is asked
// under one idempotency key per refund, so that a repeated request (the
// operator pressing again after a timeout) never refunds twice. When the
// processor confirms, the payment is reversed on the account in the same
// transaction as the refund is recorded; a refund the processor is still
// processing is finished by its notification.
func (s *Service) RefundPayment(ctx context.Context, accountID, paymentID int64, reason, operator string) (Refund, error) {
	switch {
	case strings.TrimSpace(reason) == "":
		return Refund{}, fmt.Errorf("refund payment %d: %w", paymentID, ErrReasonRequired)
	case strings.TrimSpace(operator) == "":
		return Refund{}, fmt.Errorf("refund payment %d: %w", paymentID, ErrOperatorRequired)
	}
	p, err := s.Get(ctx, accountID, paymentID)
	if err != nil {
		return Refund{}, fmt.Errorf("refund: %w", err)
	}
	proc := s.processors[strings.TrimPrefix(p.Channel, "card:")]
	refunder, _ := proc.(Refunder)
	now := s.clock.Now()
	var rf Refund
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		rf, err = refundOf(ctx, tx, paymentID)
		if err == nil && rf.Status != RefundFailed {
			return nil // asked before: a retry reuses its key
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if !s.CanRefund(p) {
			return fmt.Errorf("payment %d (%s, %s): %w", p.ID, p.Channel, p.Status, ErrNotRefundable)
		}
		rf = Refund{PaymentID: p.ID, Amount: p.Amount, Status: RefundPending, Operator: operator, Reason: strings.TrimSpace(reason), CreatedAt: now}
		key := "kabinet-refund-" + strconv.FormatInt(p.ID, 10) + "-" + randomHex(8)
		if err == nil { // a failed refund is tried again under a new key
			_, err = tx.Exec(ctx, `UPDATE payment_refunds SET idempotence_key = ?, processor_ref = '', status = ?, operator = ?, reason = ?, updated_at = ? WHERE payment_id = ?`,
				key, string(RefundPending), operator, rf.Reason, now.UTC(), p.ID)
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO payment_refunds (payment_id, idempotence_key, amount, status, operator, reason, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.ID, key, int64(p.Amount), string(RefundPending), operator, rf.Reason, now.UTC(), now.UTC()).Scan(&rf.ID)
	})
	if err != nil {
		return rf, fmt.Errorf("refund payment %d: %w", paymentID, err)
	}
	if rf.Status == RefundSucceeded {
		return rf, nil
	}
	if refunder == nil {
		return rf, fmt.Errorf("refund payment %d: %w", paymentID, ErrNotRefundable)
	}
	var key string
	if err := s.db.QueryRow(ctx, `SELECT idempotence_key FROM payment_refunds WHERE payment_id = ?`, paymentID).Scan(&key); err != nil {
		return rf, fmt.Errorf("refund payment %d: %w", paymentID, err)
	}
	res, err := refunder.Refund(ctx, RefundRequest{PaymentID: p.ID, Ref: p.ExternalID, Amount: p.Amount, Reason: rf.Reason, Key: key})
	if err != nil {
		// Left pending under its key: asking again cannot refund twice.
		return rf, fmt.Errorf("refund payment %d: %w", paymentID, err)
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE payment_refunds SET processor_ref = ?, updated_at = ? WHERE payment_id = ?`, res.Ref, now.UTC(), paymentID); err != nil {
			return err
		}
		switch res.Status {
		case RefundSucceeded:
			cur, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = ?`+tx.ForUpdate(), paymentID))
			if err != nil {
				return err
			}
			_, err = s.refundConfirmed(ctx, tx, cur, res.Ref, now)
			return err
		case RefundFailed:
			_, err := tx.Exec(ctx, `UPDATE payment_refunds SET status = ?, updated_at = ? WHERE payment_id = ?`, string(RefundFailed), now.UTC(), paymentID)
			return err
		}
		return nil
	})
	if err != nil {
		return rf, fmt.Errorf("refund payment %d: %w", paymentID, err)
	}
	return s.RefundOf(ctx, paymentID)
}

// refundConfirmed finishes the refund Kabinet asked for when the processor
// confirms it: the payment is reversed on the account, once. done is false
// when Kabinet asked for no refund of the payment (one made in the
// processor's own account), which an operator must look at.
func (s *Service) refundConfirmed(ctx context.Context, tx *store.Tx, p Payment, ref string, now time.Time) (done bool, err error) {
	rf, err := refundOf(ctx, tx, p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rf.Status == RefundSucceeded {
		return true, nil
	}
	if p.LedgerTxnID == 0 {
		return false, fmt.Errorf("refund of payment %d: the payment was never credited", p.ID)
	}
	txn, err := s.reverseIn(ctx, tx, p.LedgerTxnID, operatorMemo(rf.Operator, rf.Reason), now)
	if err != nil {
		return false, fmt.Errorf("refund of payment %d: %w", p.ID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE payment_refunds SET status = ?, processor_ref = ?, ledger_txn_id = ?, updated_at = ? WHERE payment_id = ?`,
		string(RefundSucceeded), ref, txn, now.UTC(), p.ID); err != nil {
		return false, fmt.Errorf("refund of payment %d: %w", p.ID, err)
	}
	s.log.Info("payment refunded", "payment", p.ID, "account", p.AccountID, "amount", p.Amount, "refund", ref)
	return true, nil
}

// RefundOf returns the payment's refund, derrors.NotFound if it has none.
func (s *Service) RefundOf(ctx context.Context, paymentID int64) (Refund, error) {
	rf, err := refundOf(ctx, s.db, paymentID)
	if errors.Is(err, sql.ErrNoRows) {
		return rf, fmt.Errorf("refund of payment %d: %w", paymentID, derrors.NotFound)
	}
	return rf, err
}

func refundOf(ctx context.Context, tx interface {
	QueryRow(context.Context, string, ...any) *sql.Row
}, paymentID int64) (Refund, error) {
	var rf Refund
	err := tx.QueryRow(ctx, `SELECT id, payment_id, processor_ref, amount, status, operator, reason, created_at FROM payment_refunds WHERE payment_id = ?`, paymentID).
		Scan(&rf.ID, &rf.PaymentID, &rf.Ref, &rf.Amount, &rf.Status, &rf.Operator, &rf.Reason, &rf.CreatedAt)
	return rf, err
}
