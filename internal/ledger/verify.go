package ledger

import (
	"context"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Problem is one broken invariant of the books.
type Problem struct {
	What    string // "balance", "unbalanced txn", "subscriber amount"
	Code    string // ledger account code or transaction key
	Want    money.Amount
	Got     money.Amount
	Message string
}

func (p Problem) String() string { return p.Message }

// Verify checks the books: every balance equals the sum of its postings,
// every transaction sums to zero, and a transaction's subscriber amount equals
// its posting on that subscriber's account.
func Verify(ctx context.Context, db *store.DB) ([]Problem, error) {
	var out []Problem
	rows, err := db.Query(ctx, `SELECT a.code, a.balance, COALESCE(p.s, 0) FROM ledger_accounts a
		LEFT JOIN (SELECT ledger_account_id, SUM(amount) AS s FROM postings GROUP BY ledger_account_id) p ON p.ledger_account_id = a.id
		WHERE a.balance <> COALESCE(p.s, 0) ORDER BY a.code`)
	if err != nil {
		return nil, fmt.Errorf("verify balances: %w", err)
	}
	for rows.Next() {
		var code string
		var bal, sum int64
		if err := rows.Scan(&code, &bal, &sum); err != nil {
			rows.Close()
			return nil, fmt.Errorf("verify balances: %w", err)
		}
		out = append(out, Problem{What: "balance", Code: code, Want: money.Amount(sum), Got: money.Amount(bal),
			Message: fmt.Sprintf("account %s: balance %s, postings sum to %s", code, money.Amount(bal).Decimal(), money.Amount(sum).Decimal())})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.Query(ctx, `SELECT t.key, COALESCE(SUM(p.amount), 0), COUNT(p.id) FROM ledger_txns t LEFT JOIN postings p ON p.txn_id = t.id
		GROUP BY t.id, t.key HAVING COALESCE(SUM(p.amount), 0) <> 0 OR COUNT(p.id) < 2 ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("verify transactions: %w", err)
	}
	for rows.Next() {
		var key string
		var sum, n int64
		if err := rows.Scan(&key, &sum, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("verify transactions: %w", err)
		}
		out = append(out, Problem{What: "unbalanced txn", Code: key, Got: money.Amount(sum),
			Message: fmt.Sprintf("transaction %s: %d postings sum to %s, not zero", key, n, money.Amount(sum).Decimal())})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.Query(ctx, `SELECT t.key, t.amount, COALESCE(SUM(p.amount), 0) FROM ledger_txns t
		JOIN accounts a ON a.id = t.account_id
		LEFT JOIN postings p ON p.txn_id = t.id AND p.ledger_account_id = a.ledger_id
		GROUP BY t.id, t.key, t.amount HAVING t.amount <> COALESCE(SUM(p.amount), 0) ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("verify subscriber amounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var amt, sum int64
		if err := rows.Scan(&key, &amt, &sum); err != nil {
			return nil, fmt.Errorf("verify subscriber amounts: %w", err)
		}
		out = append(out, Problem{What: "subscriber amount", Code: key, Want: money.Amount(amt), Got: money.Amount(sum),
			Message: fmt.Sprintf("transaction %s: says %s for the subscriber, posts %s", key, money.Amount(amt).Decimal(), money.Amount(sum).Decimal())})
	}
	return out, rows.Err()
}
