package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// SavedMethod is a payment method a processor keeps so that Kabinet can
// charge it later without the subscriber (autopay). Kabinet holds only the
// processor's token and what the subscriber is shown, never a card number.
type SavedMethod struct {
	ID        int64
	AccountID int64
	Processor string // the configured processor's name
	// Token is the processor's reference to the method: YooKassa's
	// payment_method.id, the ChronoPay transaction to rebill, the sandbox's
	// own token.
	Token  string
	Masked string // "•••• 4242"
	Expiry string // "MM/YY", empty when the processor does not say
	Title  string // "Visa", "Mir", "SBP"
	// PaymentID is the payment that saved it.
	PaymentID    int64
	CreatedAt    time.Time
	RevokedAt    time.Time // zero while usable
	RevokeReason Reason
}

// Active says whether the method may be charged.
func (m SavedMethod) Active() bool { return m.RevokedAt.IsZero() }

// Label is the method as the subscriber sees it: "Visa •••• 4242".
func (m SavedMethod) Label() string {
	switch {
	case m.Title == "":
		return m.Masked
	case m.Masked == "":
		return m.Title
	}
	return m.Title + " " + m.Masked
}

// MaskLast4 shows a card by its last four digits the way the portal does.
func MaskLast4(last4 string) string { return "•••• " + last4 }

// RecurringCharge is one charge of a saved method.
type RecurringCharge struct {
	PaymentID   int64 // Kabinet's payment id, carried through the processor and back
	AccountID   int64
	Account     string // contract number, for the processor's description
	Email       string // the subscriber's, for a receipt the processor issues
	Phone       string
	Amount      money.Amount
	CallbackURL string // where a processor that answers later sends the result
	// Key is the idempotency key of this attempt: the same key sent again
	// (a retry after a timeout or a crash) must not charge the card twice.
	// A new attempt after a decline has a new key.
	Key string
}

// ChargeResult is a processor's answer to a recurring charge.
type ChargeResult struct {
	ExternalID string
	// Outcome is OutcomePaid or OutcomeDeclined when the processor answers
	// at once; empty while pending, when its callback decides.
	Outcome     Outcome
	DeclineCode string
	Reason      Reason
}

// Recurring is a processor that can charge a saved method without the
// subscriber. A processor that can save a method returns it on the paid
// Callback of a payment started with CardPayment.SaveMethod.
type Recurring interface {
	ChargeSaved(ctx context.Context, m SavedMethod, c RecurringCharge) (ChargeResult, error)
}

// ErrNoSavedMethod means the account has no usable saved method of that id.
var ErrNoSavedMethod = errors.New("no usable saved payment method")

// ErrChargeKeyConflict means a charge key used again for another account or amount.
var ErrChargeKeyConflict = errors.New("charge key repeated with another account or amount")

// ErrNotRecurring means the method's processor cannot charge saved methods.
var ErrNotRecurring = errors.New("the processor cannot charge a saved method")

const savedCols = `id, account_id, processor, token, masked, expiry, title, COALESCE(payment_id, 0), created_at, revoked_at, revoke_reason`

func scanSaved(row interface{ Scan(...any) error }) (SavedMethod, error) {
	var m SavedMethod
	var revoked sql.NullTime
	err := row.Scan(&m.ID, &m.AccountID, &m.Processor, &m.Token, &m.Masked, &m.Expiry, &m.Title, &m.PaymentID, &m.CreatedAt, &revoked, &m.RevokeReason)
	if revoked.Valid {
		m.RevokedAt = revoked.Time
	}
	return m, err
}

// SavedMethods lists the account's saved methods, newest first, revoked
// ones too (the portal says why a card stopped working).
func (s *Service) SavedMethods(ctx context.Context, accountID int64) ([]SavedMethod, error) {
	rows, err := s.db.Query(ctx, `SELECT `+savedCols+` FROM saved_methods WHERE account_id = ? ORDER BY created_at DESC, id DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("saved methods of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []SavedMethod
	for rows.Next() {
		m, err := scanSaved(rows)
		if err != nil {
			return nil, fmt.Errorf("saved methods of account %d: %w", accountID, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SavedMethod returns the account's method id, scoped by account.
func (s *Service) SavedMethod(ctx context.Context, accountID, id int64) (SavedMethod, error) {
	m, err := scanSaved(s.db.QueryRow(ctx, `SELECT `+savedCols+` FROM saved_methods WHERE id = ? AND account_id = ?`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("saved method %d of account %d: %w", id, accountID, ErrNoSavedMethod)
	}
	if err != nil {
		return m, fmt.Errorf("saved method %d: %w", id, err)
	}
	return m, nil
}

// SavedMethodOf is SavedMethod inside a transaction.
func SavedMethodOf(ctx context.Context, q store.Querier, accountID, id int64) (SavedMethod, error) {
	m, err := scanSaved(q.QueryRow(ctx, `SELECT `+savedCols+` FROM saved_methods WHERE id = ? AND account_id = ?`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("saved method %d of account %d: %w", id, accountID, ErrNoSavedMethod)
	}
	if err != nil {
		return m, fmt.Errorf("saved method %d: %w", id, err)
	}
	return m, nil
}

// SavedByPayment returns the method a payment saved, if it saved one.
func SavedByPayment(ctx context.Context, q store.Querier, paymentID int64) (SavedMethod, bool, error) {
	m, err := scanSaved(q.QueryRow(ctx, `SELECT `+savedCols+` FROM saved_methods WHERE payment_id = ?`, paymentID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("method saved by payment %d: %w", paymentID, err)
	}
	return m, true, nil
}

// CanCharge says whether the named processor charges saved methods.
func (s *Service) CanCharge(processor string) bool {
	p, ok := s.processors[processor]
	if !ok {
		return false
	}
	_, ok = p.(Recurring)
	return ok
}

// ForgetMethod revokes the account's saved method at the subscriber's
// wish: it is never charged again.
func (s *Service) ForgetMethod(ctx context.Context, accountID, id int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		return RevokeMethod(ctx, tx, accountID, id, "", s.clock.Now())
	})
}

// RevokeMethod marks a method unusable inside tx; revoking twice keeps the
// first time and reason.
func RevokeMethod(ctx context.Context, tx *store.Tx, accountID, id int64, why Reason, now time.Time) error {
	res, err := tx.Exec(ctx, `UPDATE saved_methods SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL`,
		now.UTC(), string(why), id, accountID)
	if err != nil {
		return fmt.Errorf("revoke saved method %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := SavedMethodOf(ctx, tx, accountID, id); err != nil {
			return err
		}
	}
	return nil
}

// requestSave marks a pending card payment whose method is to be saved.
func requestSave(ctx context.Context, tx *store.Tx, paymentID int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO saved_method_requests (payment_id) VALUES (?) ON CONFLICT (payment_id) DO NOTHING`, paymentID); err != nil {
		return fmt.Errorf("payment %d: remember the card: %w", paymentID, err)
	}
	return nil
}

// SaveRequested says whether the payment asked to remember its method.
func SaveRequested(ctx context.Context, q store.Querier, paymentID int64) (bool, error) {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM saved_method_requests WHERE payment_id = ?`, paymentID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("payment %d: %w", paymentID, err)
	}
	return true, nil
}

// afterCallback is the saved-method side of an applied callback, in its
// transaction: a paid payment that asked to remember the card stores the
// method the processor returned; a recurring charge refused because the card
// expired or was blocked revokes its method.
func (s *Service) afterCallback(ctx context.Context, tx *store.Tx, p Payment, processor string, cb Callback, now time.Time) error {
	switch cb.Outcome {
	case OutcomePaid:
		if cb.Method == nil || cb.Method.Token == "" {
			return nil
		}
		ok, err := SaveRequested(ctx, tx, p.ID)
		if err != nil || !ok {
			return err
		}
		m := *cb.Method
		m.AccountID, m.Processor, m.PaymentID, m.CreatedAt = p.AccountID, processor, p.ID, now
		err = tx.QueryRow(ctx, `INSERT INTO saved_methods (account_id, processor, token, masked, expiry, title, payment_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (processor, token) DO NOTHING RETURNING id`,
			p.AccountID, processor, m.Token, m.Masked, m.Expiry, m.Title, p.ID, now.UTC()).Scan(&m.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the processor returned a method saved before
		}
		if err != nil {
			return fmt.Errorf("payment %d: save the method: %w", p.ID, err)
		}
		for _, h := range s.onSaved {
			if err := h(ctx, tx, m); err != nil {
				return fmt.Errorf("payment %d: saved method %d: %w", p.ID, m.ID, err)
			}
		}
		return tx.Emit(ctx, store.Event{Kind: EventMethodSaved, AccountID: p.AccountID, At: now,
			Data: map[string]string{"payment": strconv.FormatInt(p.ID, 10), "method": m.Masked}})
	case OutcomeDeclined:
		if !cb.Reason.RevokesMethod() {
			return nil
		}
		var methodID int64
		err := tx.QueryRow(ctx, `SELECT method_id FROM saved_method_charges WHERE payment_id = ?`, p.ID).Scan(&methodID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("payment %d: %w", p.ID, err)
		}
		return RevokeMethod(ctx, tx, p.AccountID, methodID, cb.Reason, now)
	}
	return nil
}

// OnMethodSaved registers f to run in the transaction that saves a method,
// after it is stored: autopay turns itself on there when the payment was
// started from its page. An error from f rolls the callback back (the
// processor repeats it). Register before the service takes callbacks.
func (s *Service) OnMethodSaved(f func(ctx context.Context, tx *store.Tx, m SavedMethod) error) {
	s.onSaved = append(s.onSaved, f)
}

// EventMethodSaved is emitted when a paid payment saved its method.
const EventMethodSaved = "payment.method_saved"

// SavedCharge asks to charge a saved method.
type SavedCharge struct {
	AccountID int64
	MethodID  int64
	Amount    money.Amount
	// Key is the idempotency key (see RecurringCharge.Key). Charging again
	// with a key already used resumes that charge: the same payment, and
	// the processor asked again with the same key.
	Key  string
	Memo string
}

// ChargeSaved charges the account's saved method: it records a pending card
// payment (once per key), asks the processor, and applies an immediate
// answer as a callback would be applied: paid credits the account, declined
// fails the payment and, when the card expired or was blocked, revokes the
// method. A pending answer waits for the processor's callback. The payment
// is returned as it stands; an error from the processor leaves it pending
// for a retry with the same key.
func (s *Service) ChargeSaved(ctx context.Context, in SavedCharge) (Payment, error) {
	if in.Amount <= 0 {
		return Payment{}, fmt.Errorf("charge saved method %d of %s: %w", in.MethodID, in.Amount, ErrBadAmount)
	}
	if in.Key == "" {
		return Payment{}, fmt.Errorf("charge saved method %d: an idempotency key is required", in.MethodID)
	}
	now := s.clock.Now()
	var m SavedMethod
	var p Payment
	var contract billing.Contact
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if m, err = SavedMethodOf(ctx, tx, in.AccountID, in.MethodID); err != nil {
			return err
		}
		var pid int64
		err = tx.QueryRow(ctx, `SELECT payment_id FROM saved_method_charges WHERE charge_key = ?`, in.Key).Scan(&pid)
		switch {
		case err == nil:
			p, err = scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = ?`, pid))
			if err != nil {
				return fmt.Errorf("payment %d of charge %s: %w", pid, in.Key, err)
			}
			if p.AccountID != in.AccountID || p.Amount != in.Amount {
				return fmt.Errorf("charge key %s was %s to account %d, now %s to %d: %w", in.Key, p.Amount, p.AccountID, in.Amount, in.AccountID, ErrChargeKeyConflict)
			}
		case errors.Is(err, sql.ErrNoRows):
			if !m.Active() {
				return fmt.Errorf("saved method %d revoked (%s): %w", m.ID, m.RevokeReason, ErrNoSavedMethod)
			}
			p = Payment{Channel: CardChannel(m.Processor), AccountID: in.AccountID, Amount: in.Amount, Status: StatusPending,
				Source: SourceOnline, Memo: in.Memo, CreatedAt: now}
			if p.ID, _, err = insertPayment(ctx, tx, p, now); err != nil {
				return err
			}
			if _, err = tx.Exec(ctx, `INSERT INTO saved_method_charges (charge_key, payment_id, method_id, created_at) VALUES (?, ?, ?, ?)`,
				in.Key, p.ID, m.ID, now.UTC()); err != nil {
				return fmt.Errorf("charge %s: %w", in.Key, err)
			}
		default:
			return fmt.Errorf("charge %s: %w", in.Key, err)
		}
		contract, err = billing.ContactOf(ctx, tx, in.AccountID)
		return err
	})
	if err != nil {
		return Payment{}, fmt.Errorf("charge saved method %d: %w", in.MethodID, err)
	}
	if p.Status != StatusPending {
		return p, nil // this key's charge has its answer already
	}
	proc, ok := s.processors[m.Processor]
	if !ok {
		return p, fmt.Errorf("charge saved method %d: processor %q is not configured: %w", m.ID, m.Processor, ErrNotRecurring)
	}
	rec, ok := proc.(Recurring)
	if !ok {
		return p, fmt.Errorf("charge saved method %d on %s: %w", m.ID, m.Processor, ErrNotRecurring)
	}
	res, err := rec.ChargeSaved(ctx, m, RecurringCharge{PaymentID: p.ID, AccountID: in.AccountID, Account: contract.ContractNo,
		Email: contract.Email, Phone: contract.Phone, Amount: in.Amount,
		CallbackURL: s.opts.PublicURL + CallbackPath(proc.Name()), Key: in.Key})
	if err != nil {
		return p, fmt.Errorf("charge saved method %d, payment %d: %w", m.ID, p.ID, err)
	}
	if res.Outcome == "" {
		return p, nil
	}
	if res.Outcome == OutcomeDeclined && res.Reason == ReasonNone {
		res.Reason = proc.Reason(res.DeclineCode)
	}
	cb := Callback{PaymentID: p.ID, ExternalID: res.ExternalID, Outcome: res.Outcome, Amount: p.Amount,
		DeclineCode: res.DeclineCode, Reason: res.Reason}
	if cb.ExternalID == "" && cb.Outcome == OutcomePaid {
		return p, fmt.Errorf("charge saved method %d, payment %d: paid without a transaction id", m.ID, p.ID)
	}
	if err := s.ApplyCardCallback(ctx, proc.Name(), cb); err != nil {
		return p, fmt.Errorf("charge saved method %d: %w", m.ID, err)
	}
	return s.Get(ctx, in.AccountID, p.ID)
}

// ChargeKeyOfTxn is the key of the saved-method charge whose payment was
// credited in ledger transaction txn; sql.ErrNoRows when that payment was
// not such a charge.
func ChargeKeyOfTxn(ctx context.Context, q store.Querier, txn int64) (string, error) {
	var key string
	err := q.QueryRow(ctx, `SELECT c.charge_key FROM saved_method_charges c JOIN payments p ON p.id = c.payment_id WHERE p.ledger_txn_id = ?`, txn).Scan(&key)
	return key, err
}
