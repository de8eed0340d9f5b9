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

// Refund is a payment's money, or a part of it, sent back through its
// processor.
type Refund struct {
	ID          int64
	PaymentID   int64
	Ref         string // the processor's refund id
	Amount      money.Amount
	Status      RefundStatus
	Operator    string
	Reason      string
	LedgerTxnID int64 // the transaction that took the money back, once confirmed
	CreatedAt   time.Time
}

var (
	// ErrNotRefundable means the payment cannot be refunded through its
	// processor: not a succeeded card or SBP payment, or a processor that
	// does not refund.
	ErrNotRefundable error = derrors.New(derrors.Conflict, "not_refundable", "the payment cannot be refunded through its processor")
	// ErrRefundAmount means a refund of nothing, or of more than remains
	// refundable of the payment.
	ErrRefundAmount error = derrors.New(derrors.Invalid, "refund_amount", "the refund must be positive and at most what remains refundable")
	// ErrRefundPending means another refund of the payment is still being
	// processed: its result comes first.
	ErrRefundPending error = derrors.New(derrors.Conflict, "refund_pending", "a refund of this payment is still being processed")
	// ErrRefunded means the payment was (partly) refunded through its
	// processor: reversing it whole would take back the refunded part twice.
	ErrRefunded error = derrors.New(derrors.Conflict, "refunded", "the payment was refunded through its processor")
)

// CanRefund tells whether a payment's processor refunds and the payment is
// one it could refund (for the back office's button); Refundable tells how
// much remains.
func (s *Service) CanRefund(p Payment) bool {
	proc, ok := s.processors[strings.TrimPrefix(p.Channel, "card:")]
	_, refunds := proc.(Refunder)
	return ok && refunds && strings.HasPrefix(p.Channel, "card:") && p.Status == StatusSucceeded && p.ExternalID != ""
}

// Refundable is what remains refundable of a payment: its amount less the
// refunds made or under way.
func (s *Service) Refundable(ctx context.Context, p Payment) (money.Amount, error) {
	taken, err := refundedOf(ctx, s.db, p.ID)
	if err != nil {
		return 0, err
	}
	return max(p.Amount-taken, 0), nil
}

func refundedOf(ctx context.Context, q store.Querier, paymentID int64) (money.Amount, error) {
	var taken int64
	err := q.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM payment_refunds WHERE payment_id = ? AND status IN (?, ?)`,
		paymentID, string(RefundPending), string(RefundSucceeded)).Scan(&taken)
	if err != nil {
		return 0, fmt.Errorf("refunds of payment %d: %w", paymentID, err)
	}
	return money.Amount(taken), nil
}

// RefundPayment sends all that remains of the account's payment back
// through its processor (see Refund).
func (s *Service) RefundPayment(ctx context.Context, accountID, paymentID int64, reason, operator string) (Refund, error) {
	return s.Refund(ctx, RefundAsk{AccountID: accountID, PaymentID: paymentID, Reason: reason, Operator: operator})
}

// RefundAsk is an operator's request to refund a payment.
type RefundAsk struct {
	AccountID, PaymentID int64
	// Amount is the part to refund; 0 refunds all that remains.
	Amount           money.Amount
	Reason, Operator string
	// Key is the request's one-time key (the back office form's): the same
	// key again returns the refund it made instead of refunding again.
	Key string
}

// Refund sends a payment's money, or a part of it, back through its
// processor on an operator's request, with a reason. Each refund is asked
// of the processor under a key of its own, so that a repeated request (the
// operator pressing again after a timeout) never refunds twice: a refund
// still pending is asked again under its key, and a request's one-time key
// finds the refund it made. The parts never add up to more than the
// payment. When the processor confirms, the part is taken back from the
// account in the same transaction as the refund is recorded, with its
// "возврат прихода" receipt; a refund the processor is still processing is
// finished by its notification.
func (s *Service) Refund(ctx context.Context, in RefundAsk) (Refund, error) {
	switch {
	case strings.TrimSpace(in.Reason) == "":
		return Refund{}, fmt.Errorf("refund payment %d: %w", in.PaymentID, ErrReasonRequired)
	case strings.TrimSpace(in.Operator) == "":
		return Refund{}, fmt.Errorf("refund payment %d: %w", in.PaymentID, ErrOperatorRequired)
	case in.Amount < 0:
		return Refund{}, fmt.Errorf("refund payment %d of %s: %w", in.PaymentID, in.Amount, ErrRefundAmount)
	}
	p, err := s.Get(ctx, in.AccountID, in.PaymentID)
	if err != nil {
		return Refund{}, fmt.Errorf("refund: %w", err)
	}
	proc := s.processors[strings.TrimPrefix(p.Channel, "card:")]
	refunder, _ := proc.(Refunder)
	now := s.clock.Now()
	var rf Refund
	var key string
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if in.Key != "" {
			var err error
			rf, key, err = refundWhere(ctx, tx, `payment_id = ? AND request_key = ?`, p.ID, in.Key)
			if err == nil {
				return nil // this request was made: its refund stands, or is asked again
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		pending, pkey, err := refundWhere(ctx, tx, `payment_id = ? AND status = ?`, p.ID, string(RefundPending))
		switch {
		case err == nil:
			if in.Amount != 0 && in.Amount != pending.Amount {
				return fmt.Errorf("refund of %s pending for payment %d: %w", pending.Amount, p.ID, ErrRefundPending)
			}
			rf, key = pending, pkey // asked before: a retry reuses its key
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		taken, err := refundedOf(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		remaining := p.Amount - taken
		if remaining <= 0 && in.Amount == 0 {
			// All of it was refunded: pressing again changes nothing.
			rf, _, err = refundWhere(ctx, tx, `payment_id = ? AND status = ? ORDER BY id DESC LIMIT 1`, p.ID, string(RefundSucceeded))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("payment %d (%s, %s): %w", p.ID, p.Channel, p.Status, ErrNotRefundable)
			}
			return err
		}
		if !s.CanRefund(p) {
			return fmt.Errorf("payment %d (%s, %s): %w", p.ID, p.Channel, p.Status, ErrNotRefundable)
		}
		amount := in.Amount
		if amount == 0 {
			amount = remaining
		}
		if amount > remaining {
			return fmt.Errorf("refund of %s from payment %d, of which %s remains: %w", amount, p.ID, remaining, ErrRefundAmount)
		}
		key = "kabinet-refund-" + strconv.FormatInt(p.ID, 10) + "-" + randomHex(8)
		rf = Refund{PaymentID: p.ID, Amount: amount, Status: RefundPending, Operator: in.Operator, Reason: strings.TrimSpace(in.Reason), CreatedAt: now}
		return tx.QueryRow(ctx, `INSERT INTO payment_refunds (payment_id, idempotence_key, request_key, amount, status, operator, reason, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.ID, key, in.Key, int64(amount), string(RefundPending), in.Operator, rf.Reason, now.UTC(), now.UTC()).Scan(&rf.ID)
	})
	if err != nil {
		return rf, fmt.Errorf("refund payment %d: %w", in.PaymentID, err)
	}
	if rf.Status != RefundPending {
		return rf, nil
	}
	if refunder == nil {
		return rf, fmt.Errorf("refund payment %d: %w", in.PaymentID, ErrNotRefundable)
	}
	c, err := billing.ContactOf(ctx, s.db, p.AccountID)
	if err != nil {
		return rf, fmt.Errorf("refund payment %d: %w", in.PaymentID, err)
	}
	res, err := refunder.Refund(ctx, RefundRequest{PaymentID: p.ID, Ref: p.ExternalID, Amount: rf.Amount, Reason: rf.Reason, Key: key,
		Account: c.ContractNo, Email: c.Email, Phone: c.Phone})
	if err != nil {
		// Left pending under its key: asking again cannot refund twice.
		return rf, fmt.Errorf("refund payment %d: %w", in.PaymentID, err)
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE payment_refunds SET processor_ref = ?, updated_at = ? WHERE id = ?`, res.Ref, now.UTC(), rf.ID); err != nil {
			return err
		}
		switch res.Status {
		case RefundSucceeded:
			cur, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = ?`+tx.ForUpdate(), p.ID))
			if err != nil {
				return err
			}
			return s.refundDone(ctx, tx, cur, rf.ID, res.Ref, now)
		case RefundFailed:
			_, err := tx.Exec(ctx, `UPDATE payment_refunds SET status = ?, updated_at = ? WHERE id = ?`, string(RefundFailed), now.UTC(), rf.ID)
			return err
		}
		return nil
	})
	if err != nil {
		return rf, fmt.Errorf("refund payment %d: %w", in.PaymentID, err)
	}
	out, _, err := refundWhere(ctx, s.db, `id = ?`, rf.ID)
	return out, err
}

// refundConfirmed finishes a refund Kabinet asked for when the processor's
// notification confirms it: the refund with the processor's id ref, or the
// payment's one pending refund whose id was never recorded (Kabinet died
// before the processor's answer). done is false when Kabinet asked for no
// such refund (one made in the processor's own account), which an
// operator must look at.
func (s *Service) refundConfirmed(ctx context.Context, tx *store.Tx, p Payment, ref string, now time.Time) (done bool, err error) {
	rf, _, err := refundWhere(ctx, tx, `payment_id = ? AND processor_ref = ?`, p.ID, ref)
	if errors.Is(err, sql.ErrNoRows) {
		rf, _, err = refundWhere(ctx, tx, `payment_id = ? AND status = ? AND processor_ref = ''`, p.ID, string(RefundPending))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.refundDone(ctx, tx, p, rf.ID, ref, now)
}

// refundDone takes a confirmed refund's money back from the account, once:
// a refund of the whole payment reverses it; a part is a transaction of its
// own, and the part that makes the refunds whole marks the payment
// reversed. The receipt's "возврат прихода" and the bonus points earned by
// the part go with it.
func (s *Service) refundDone(ctx context.Context, tx *store.Tx, p Payment, refundID int64, ref string, now time.Time) error {
	rf, _, err := refundWhere(ctx, tx, `id = ?`, refundID)
	if err != nil {
		return fmt.Errorf("refund %d: %w", refundID, err)
	}
	if rf.Status == RefundSucceeded {
		return nil
	}
	if p.LedgerTxnID == 0 {
		return fmt.Errorf("refund of payment %d: the payment was never credited", p.ID)
	}
	var before int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM payment_refunds WHERE payment_id = ? AND status = ?`,
		p.ID, string(RefundSucceeded)).Scan(&before); err != nil {
		return fmt.Errorf("refund of payment %d: %w", p.ID, err)
	}
	memo := operatorMemo(rf.Operator, rf.Reason)
	var txn int64
	if before == 0 && rf.Amount == p.Amount {
		txn, err = s.reverseIn(ctx, tx, p.LedgerTxnID, memo, now)
	} else {
		txn, err = s.refundPart(ctx, tx, p, rf, memo, money.Amount(before)+rf.Amount == p.Amount, now)
	}
	if err != nil {
		return fmt.Errorf("refund of payment %d: %w", p.ID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE payment_refunds SET status = ?, processor_ref = ?, ledger_txn_id = ?, updated_at = ? WHERE id = ?`,
		string(RefundSucceeded), ref, txn, now.UTC(), rf.ID); err != nil {
		return fmt.Errorf("refund of payment %d: %w", p.ID, err)
	}
	s.log.Info("payment refunded", "payment", p.ID, "account", p.AccountID, "amount", rf.Amount, "of", p.Amount, "refund", ref)
	return nil
}

// refundPart takes part of a payment back from the account: a transaction
// of its own (the payment's stays, so that a later part or the ledger's
// history shows both), debt and limit settled, the "возврат прихода"
// receipt of the part queued, and the bonus points the part earned taken
// back. whole: this part completes the refunds, and the payment is
// reversed.
func (s *Service) refundPart(ctx context.Context, tx *store.Tx, p Payment, rf Refund, memo string, whole bool, now time.Time) (int64, error) {
	res, err := s.biller.PostAndSettle(ctx, tx, p.AccountID, ledger.Txn{Key: "refund:" + strconv.FormatInt(rf.ID, 10), Kind: ledger.TxnReversal,
		Amount: -rf.Amount, Service: p.Channel, Memo: memo, EffectiveAt: now}, ledger.CashCode(p.Channel), ledger.KindCash, now)
	if err != nil {
		return 0, err
	}
	if res.Duplicate {
		return res.TxnID, nil
	}
	if err := s.biller.PaymentReversed(ctx, tx, billing.ReversedPayment{AccountID: p.AccountID, Channel: p.Channel, ExternalID: p.ExternalID,
		Amount: rf.Amount, TxnID: p.LedgerTxnID, ReversalTxnID: res.TxnID, At: now}); err != nil {
		return 0, err
	}
	if err := s.takeBackBonusPart(ctx, tx, p, rf, now); err != nil {
		return 0, err
	}
	if whole {
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = ?, updated_at = ? WHERE id = ?`, string(StatusReversed), now.UTC(), p.ID); err != nil {
			return 0, err
		}
	}
	return res.TxnID, nil
}

// takeBackBonusPart takes back the points a refunded part earned: the
// payment's accrual in the part's proportion, as far as the account still
// has them.
func (s *Service) takeBackBonusPart(ctx context.Context, tx *store.Tx, p Payment, rf Refund, now time.Time) error {
	paymentKey := billing.PaymentKey(p.Channel, p.ExternalID)
	var accrued, have int64
	err := tx.QueryRow(ctx, `SELECT po.amount, a.balance FROM ledger_txns t JOIN postings po ON po.txn_id = t.id JOIN ledger_accounts a ON a.id = po.ledger_account_id
		WHERE t.key = ? AND a.code = ?`, "bonus:"+paymentKey, bonusCode(p.AccountID)).Scan(&accrued, &have)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bonus of %s: %w", paymentKey, err)
	}
	take := min(accrued*int64(rf.Amount)/int64(p.Amount), have)
	if take <= 0 {
		return nil
	}
	return movePoints(ctx, tx, p.AccountID, money.Amount(-take), ledger.Txn{Key: "bonus-refund:" + strconv.FormatInt(rf.ID, 10), Kind: ledger.TxnReversal}, now)
}

// RefundOf returns the payment's latest refund, derrors.NotFound if it has
// none.
func (s *Service) RefundOf(ctx context.Context, paymentID int64) (Refund, error) {
	rf, _, err := refundWhere(ctx, s.db, `payment_id = ? ORDER BY id DESC LIMIT 1`, paymentID)
	if errors.Is(err, sql.ErrNoRows) {
		return rf, fmt.Errorf("refund of payment %d: %w", paymentID, derrors.NotFound)
	}
	return rf, err
}

// Refunds lists the payment's refunds, oldest first.
func (s *Service) Refunds(ctx context.Context, paymentID int64) ([]Refund, error) {
	rows, err := s.db.Query(ctx, `SELECT `+refundCols+` FROM payment_refunds WHERE payment_id = ? ORDER BY id`, paymentID)
	if err != nil {
		return nil, fmt.Errorf("refunds of payment %d: %w", paymentID, err)
	}
	defer rows.Close()
	var out []Refund
	for rows.Next() {
		rf, _, err := scanRefund(rows)
		if err != nil {
			return nil, fmt.Errorf("refunds of payment %d: %w", paymentID, err)
		}
		out = append(out, rf)
	}
	return out, rows.Err()
}

const refundCols = `id, payment_id, processor_ref, amount, status, operator, reason, COALESCE(ledger_txn_id, 0), created_at, idempotence_key`

func scanRefund(row interface{ Scan(...any) error }) (Refund, string, error) {
	var rf Refund
	var key string
	err := row.Scan(&rf.ID, &rf.PaymentID, &rf.Ref, &rf.Amount, &rf.Status, &rf.Operator, &rf.Reason, &rf.LedgerTxnID, &rf.CreatedAt, &key)
	return rf, key, err
}

// refundWhere reads one refund and its processor key by a condition.
func refundWhere(ctx context.Context, q store.Querier, where string, args ...any) (Refund, string, error) {
	return scanRefund(q.QueryRow(ctx, `SELECT `+refundCols+` FROM payment_refunds WHERE `+where, args...))
}
