package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// The reads below are what other packages need of the accounts table:
// billing keeps the account's row and its money state, subscriber writes
// the contract and credentials on it, and the rest read it through these
// (docs/architecture.md says who else reads it directly, and why).

// Contact is what a letter or a payment needs to know of a subscriber.
type Contact struct {
	ID          int64
	Login       string
	ContractNo  string
	Name        string
	Email       string
	Phone       string
	Lang        string
	Status      string
	NotifyEmail bool // the subscriber wants letters
}

// ContactOf reads account id's contact on q (a DB or, inside a write, its Tx).
func ContactOf(ctx context.Context, q store.Querier, id int64) (Contact, error) {
	c := Contact{ID: id}
	err := q.QueryRow(ctx, `SELECT login, contract_no, name, email, phone, lang, status, notify_email FROM accounts WHERE id = ?`, id).
		Scan(&c.Login, &c.ContractNo, &c.Name, &c.Email, &c.Phone, &c.Lang, &c.Status, &c.NotifyEmail)
	if errors.Is(err, sql.ErrNoRows) {
		err = derrors.NotFound
	}
	if err != nil {
		return c, fmt.Errorf("account %d: %w", id, err)
	}
	return c, nil
}

// Logins maps the accounts ids to their logins; an id with no account is
// left out.
func Logins(ctx context.Context, q store.Querier, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	marks, args := store.InList(ids)
	rows, err := q.Query(ctx, `SELECT id, login FROM accounts WHERE id IN (`+marks+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("logins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var login string
		if err := rows.Scan(&id, &login); err != nil {
			return nil, fmt.Errorf("logins: %w", err)
		}
		out[id] = login
	}
	return out, rows.Err()
}

// CountAccounts is how many accounts there are, closed ones included.
func CountAccounts(ctx context.Context, q store.Querier) (int64, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}
