package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// A hold keeps debt from limiting the line until a moment: a promised
// payment puts one on the account (internal/promise owns the promise and
// its rules; billing owns the account's row and the limit). The hold lifts
// the limit at once, as a payment that clears the debt does; when it ends
// the line is limited again if the debt is still overdue; a payment that
// brings the balance back to zero or above ends it (settle).

// HoldClearedFunc is told, inside the payment's transaction, that a
// payment ended the hold on accountID.
type HoldClearedFunc func(ctx context.Context, tx *store.Tx, accountID int64, now time.Time) error

// OnHoldCleared sets the function told when a payment ends a hold (the
// promise package closes the promise as paid). One per Biller: a second
// call replaces the first.
func (b *Biller) OnHoldCleared(f HoldClearedFunc) { b.holdCleared.Store(&f) }

// Standing is what the rules of a promise need to know of an account, read
// inside the caller's transaction with the account's row locked.
type Standing struct {
	AccountID     int64
	Status        string
	Balance       money.Amount
	DebtSince     time.Time // zero without debt
	PromisedUntil time.Time // zero without a hold
}

// StandingTx reads the account's standing in tx and locks its row until tx
// ends (PostgreSQL; SQLite's one writer needs no lock), so that two
// instances deciding on the same account take turns.
func (b *Biller) StandingTx(ctx context.Context, tx *store.Tx, accountID int64) (Standing, error) {
	var s state
	err := s.scan(tx.QueryRow(ctx, `SELECT `+stateCols+` FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id WHERE a.id = ?`+tx.ForUpdate(), accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return Standing{}, fmt.Errorf("account %d: %w", accountID, derrors.NotFound)
	}
	if err != nil {
		return Standing{}, fmt.Errorf("account %d: %w", accountID, err)
	}
	return Standing{AccountID: s.ID, Status: s.Status, Balance: s.Balance, DebtSince: s.DebtSince.Time, PromisedUntil: s.PromisedUntil.Time}, nil
}

// Hold keeps debt from limiting the account until until. A limited line is
// unlimited at once (account.unlimited: RADIUS sends CoA); the balance does
// not change. It reports whether the limit was lifted.
func (b *Biller) Hold(ctx context.Context, tx *store.Tx, accountID int64, until, now time.Time, reason string) (bool, error) {
	if _, err := tx.Exec(ctx, `UPDATE accounts SET promised_until = ? WHERE id = ?`, until.UTC(), accountID); err != nil {
		return false, fmt.Errorf("hold %d: %w", accountID, err)
	}
	res, err := tx.Exec(ctx, `UPDATE accounts SET status = 'active', limited_since = NULL, updated_at = ? WHERE id = ? AND status = 'limited'`, now.UTC(), accountID)
	if err != nil {
		return false, fmt.Errorf("hold %d: %w", accountID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, tx.Emit(ctx, store.Event{Kind: store.EventAccountUnlimited, AccountID: accountID, At: now, Data: map[string]string{"reason": reason}})
}

// Release ends the hold on the account and limits the line at once if its
// debt is still overdue at now. It reports whether the line was limited.
func (b *Biller) Release(ctx context.Context, tx *store.Tx, accountID int64, now time.Time) (bool, error) {
	if _, err := tx.Exec(ctx, `UPDATE accounts SET promised_until = NULL WHERE id = ?`, accountID); err != nil {
		return false, fmt.Errorf("release %d: %w", accountID, err)
	}
	n, err := b.limitRange(ctx, tx, now, accountID, accountID)
	return n > 0, err
}

// Holds tells, of the accounts given, the end of each one's hold; an
// account without a hold is not in the map.
func (b *Biller) Holds(ctx context.Context, q queryer, ids []int64) (map[int64]time.Time, error) {
	out := map[int64]time.Time{}
	for chunk := range slices.Chunk(ids, store.ChunkRows) {
		marks, args := store.InList(chunk)
		rows, err := q.Query(ctx, `SELECT id, promised_until FROM accounts WHERE promised_until IS NOT NULL AND id IN (`+marks+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("holds: %w", err)
		}
		for rows.Next() {
			var id int64
			var until sql.NullTime
			if err := rows.Scan(&id, &until); err != nil {
				rows.Close()
				return nil, fmt.Errorf("holds: %w", err)
			}
			out[id] = until.Time
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("holds: %w", err)
		}
	}
	return out, nil
}
