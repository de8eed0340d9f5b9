package autopay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Row is one account's autopay as the back office lists it: who has it, on
// which card, by which rule, and how the latest charge went.
type Row struct {
	AccountID  int64
	Login      string
	ContractNo string
	Enabled    bool
	Rule       Rule
	Fixed      money.Amount
	Card       string // the card's label ("Visa •••• 4242")
	OffReason  payment.Reason
	// Last is the latest period's charge; zero ID when none was planned.
	Last Charge
}

// Filter selects the back office's list: State "on", "off" or "" (both).
type Filter struct {
	State string
	Limit int
}

// List reads the accounts that ever turned autopay on, newest change first.
func (s *Service) List(ctx context.Context, f Filter) ([]Row, error) {
	if f.Limit <= 0 || f.Limit > 2000 {
		f.Limit = 500
	}
	where, args := "", []any{}
	switch f.State {
	case "":
	case "on":
		where, args = "WHERE ap.enabled = ?", append(args, true)
	case "off":
		where, args = "WHERE ap.enabled = ?", append(args, false)
	default:
		return nil, derrors.Invalidf("state", "invalid", "autopay state %q: want on or off", f.State)
	}
	rows, err := s.db.Query(ctx, `SELECT ap.account_id, a.login, a.contract_no, ap.enabled, ap.amount_rule, ap.fixed_amount, ap.off_reason,
			m.title, m.masked, COALESCE(c.id, 0), COALESCE(c.period, ''), COALESCE(c.amount, 0), COALESCE(c.status, ''),
			COALESCE(c.attempts, 0), COALESCE(c.payment_id, 0), COALESCE(c.reason, '')
		FROM autopay ap
		JOIN accounts a ON a.id = ap.account_id
		JOIN saved_methods m ON m.id = ap.method_id
		LEFT JOIN autopay_charges c ON c.id = (SELECT MAX(c2.id) FROM autopay_charges c2 WHERE c2.account_id = ap.account_id)
		`+where+` ORDER BY ap.updated_at DESC, ap.account_id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("autopay list: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var title, masked string
		if err := rows.Scan(&r.AccountID, &r.Login, &r.ContractNo, &r.Enabled, &r.Rule, &r.Fixed, &r.OffReason, &title, &masked,
			&r.Last.ID, &r.Last.Period, &r.Last.Amount, &r.Last.Status, &r.Last.Attempts, &r.Last.PaymentID, &r.Last.Reason); err != nil {
			return nil, fmt.Errorf("autopay list: %w", err)
		}
		r.Card = strings.TrimSpace(title + " " + masked)
		r.Last.AccountID = r.AccountID
		out = append(out, r)
	}
	return out, rows.Err()
}

// DisableTx turns the account's autopay off at an operator's decision, in
// tx (the back office audits it in the same transaction); a charge planned
// but not made is not made. It returns the settings as they were; turning
// off autopay that is off is derrors.Conflict, so that the audit records
// only real changes.
func (s *Service) DisableTx(ctx context.Context, tx *store.Tx, accountID int64, operator string) (Settings, error) {
	before, err := s.get(ctx, tx, accountID)
	if err != nil {
		return before, err
	}
	if !before.Set() {
		return before, fmt.Errorf("autopay of account %d: %w", accountID, derrors.NotFound)
	}
	if !before.Enabled {
		return before, fmt.Errorf("autopay of account %d: %w", accountID, ErrAlreadyOff)
	}
	return before, s.disable(ctx, tx, accountID, payment.ReasonNone, "operator:"+operator)
}

// ErrAlreadyOff means autopay is already off.
var ErrAlreadyOff = derrors.New(derrors.Conflict, "autopay_off", "autopay is already off")

// ownsLetter tells whether the payment of ledger transaction txn is an
// autopay charge: its result letter (autopay_charged) says the payment was
// received, so the "payment received" letter is not sent for it as well.
func ownsLetter(ctx context.Context, q store.Querier, txn int64) (bool, error) {
	key, err := payment.ChargeKeyOfTxn(ctx, q, txn)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return strings.HasPrefix(key, "autopay:"), nil
}

// ReasonMessageID is the translation key of why the charge failed or was
// skipped: a decline's reason (payment.decline.…), or the back office's
// words for autopay turned off and nothing to pay; "" without a reason.
func (c Charge) ReasonMessageID() string {
	switch c.Reason {
	case "":
		return ""
	case "autopay_off", "nothing_to_pay":
		return "admin.autopay.reason." + c.Reason
	}
	return payment.Reason(c.Reason).MessageID()
}
