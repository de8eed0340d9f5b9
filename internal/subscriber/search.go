package subscriber

import (
	"context"
	"fmt"
	"strings"
)

// Search finds accounts for an operator by a piece of the login, contract
// number, name, address, phone or e-mail; newest contracts first. Digits-only
// queries also match phones written with spaces and dashes.
func (d *Directory) Search(ctx context.Context, q string, limit int) ([]Account, error) {
	q = strings.TrimSpace(q)
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if q == "" {
		rows, err := d.DB.Query(ctx, `SELECT `+accountCols+` FROM accounts a LEFT JOIN cities c ON c.id = a.city_id ORDER BY a.id DESC LIMIT ?`, limit)
		return collect(rows, err)
	}
	p := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	phone := "-"
	if len(digits) >= 4 {
		phone = "%" + digits + "%"
	}
	rows, err := d.DB.Query(ctx, `SELECT `+accountCols+` FROM accounts a LEFT JOIN cities c ON c.id = a.city_id
		WHERE a.login LIKE LOWER(?) ESCAPE '\' OR a.contract_no LIKE ? ESCAPE '\' OR LOWER(a.name) LIKE LOWER(?) ESCAPE '\'
		OR LOWER(a.address) LIKE LOWER(?) ESCAPE '\' OR LOWER(a.email) LIKE LOWER(?) ESCAPE '\'
		OR REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(a.phone, ' ', ''), '-', ''), '(', ''), ')', ''), '+', '') LIKE ?
		ORDER BY a.id DESC LIMIT ?`, p, p, p, p, p, phone, limit)
	return collect(rows, err)
}

func collect(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}, err error) ([]Account, error) {
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
