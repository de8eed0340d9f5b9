package importer

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// HistoryRow is a payment made in the old billing, before the cut-over:
// shown to the subscriber, never part of the balance's movements (the
// opening balance holds it).
type HistoryRow struct {
	PaidAt  time.Time
	Amount  money.Amount
	Channel string // as the old billing named it
	Memo    string
}

type queryer interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// History lists an account's payments from the old billing made in
// [from, to), newest first, at most limit of them (0: all).
func History(ctx context.Context, q queryer, accountID int64, from, to time.Time, limit int) ([]HistoryRow, error) {
	query := `SELECT paid_at, amount, channel, memo FROM payment_history WHERE account_id = ? AND paid_at >= ? AND paid_at < ? ORDER BY paid_at DESC, id DESC`
	args := []any{accountID, from.UTC(), to.UTC()}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("payment history of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		var h HistoryRow
		if err := rows.Scan(&h.PaidAt, &h.Amount, &h.Channel, &h.Memo); err != nil {
			return nil, fmt.Errorf("payment history of %d: %w", accountID, err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
