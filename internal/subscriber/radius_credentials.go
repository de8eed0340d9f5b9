package subscriber

import (
	"context"
	"fmt"
)

// RadiusCredential is a login with the cleartext password that CHAP and
// MS-CHAPv2 need, for the RADIUS server's in-memory cache.
type RadiusCredential struct {
	AccountID int64
	Login     string
	Password  string
	// PasswordErr is set when the sealed copy cannot be opened (a changed
	// secret key); the login then cannot authenticate over RADIUS.
	PasswordErr error
}

// RadiusCredentials returns the credentials of every account (accountID 0)
// or of one, in one query.
func (d *Directory) RadiusCredentials(ctx context.Context, accountID int64) ([]RadiusCredential, error) {
	q, args := `SELECT id, login, password_enc FROM accounts`, []any{}
	if accountID != 0 {
		q, args = q+` WHERE id = ?`, []any{accountID}
	}
	rows, err := d.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("radius credentials: %w", err)
	}
	defer rows.Close()
	var out []RadiusCredential
	for rows.Next() {
		var c RadiusCredential
		var sealed string
		if err := rows.Scan(&c.AccountID, &c.Login, &sealed); err != nil {
			return nil, fmt.Errorf("radius credentials: %w", err)
		}
		c.Password, c.PasswordErr = d.Sealer.Open(c.Login, sealed)
		out = append(out, c)
	}
	return out, rows.Err()
}
