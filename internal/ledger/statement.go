package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Line is one movement on a subscriber's account with the balance after it.
type Line struct {
	TxnID       int64
	Kind        string
	Service     string
	Period      string
	Memo        string
	Amount      money.Amount
	Balance     money.Amount
	EffectiveAt time.Time
}

// Statement of a subscriber's account for [From, To).
type Statement struct {
	AccountID int64
	From, To  time.Time
	Opening   money.Amount
	Closing   money.Amount
	Credits   money.Amount // payments, refunds, bonuses paid in
	Debits    money.Amount // charges (negative)
	Lines     []Line
}

// StatementFor reads the subscriber's movements dated in [from, to), oldest
// first, with opening and closing balances. Movements are dated by when they
// count (a catch-up charge by the 1st it belongs to).
func StatementFor(ctx context.Context, db *store.DB, accountID int64, from, to time.Time) (Statement, error) {
	s := Statement{AccountID: accountID, From: from, To: to}
	var opening int64
	if err := db.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM ledger_txns WHERE account_id = ? AND effective_at < ?`,
		accountID, from.UTC()).Scan(&opening); err != nil {
		return s, fmt.Errorf("statement %d: opening: %w", accountID, err)
	}
	s.Opening = money.Amount(opening)
	rows, err := db.Query(ctx, `SELECT id, kind, service, period, memo, amount, effective_at FROM ledger_txns
		WHERE account_id = ? AND effective_at >= ? AND effective_at < ? ORDER BY effective_at, id`, accountID, from.UTC(), to.UTC())
	if err != nil {
		return s, fmt.Errorf("statement %d: %w", accountID, err)
	}
	defer rows.Close()
	bal := s.Opening
	for rows.Next() {
		var l Line
		if err := rows.Scan(&l.TxnID, &l.Kind, &l.Service, &l.Period, &l.Memo, &l.Amount, &l.EffectiveAt); err != nil {
			return s, fmt.Errorf("statement %d: %w", accountID, err)
		}
		bal += l.Amount
		l.Balance = bal
		if l.Amount >= 0 {
			s.Credits += l.Amount
		} else {
			s.Debits += l.Amount
		}
		s.Lines = append(s.Lines, l)
	}
	s.Closing = bal
	return s, rows.Err()
}
