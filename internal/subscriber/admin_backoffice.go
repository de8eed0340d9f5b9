package subscriber

// Back-office additions (issue 6): the operators' search and contract edit.

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/store"
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

// ContractEdit is what an operator may change on a contract.
type ContractEdit struct {
	Name    string
	Address string
	City    string // code; empty keeps none
	Phone   string
	Email   string
}

// EditContract saves an operator's edit of the contract details.
func (d *Directory) EditContract(ctx context.Context, id int64, e ContractEdit) error {
	e.Name, e.Address, e.Phone, e.Email = strings.TrimSpace(e.Name), strings.TrimSpace(e.Address), strings.TrimSpace(e.Phone), strings.TrimSpace(e.Email)
	if e.Email != "" {
		if addr, err := mail.ParseAddress(e.Email); err != nil || addr.Address != e.Email {
			return fmt.Errorf("e-mail %q: %w", e.Email, ErrInvalid)
		}
	}
	if len(e.Name) > 200 || len(e.Address) > 300 || len(e.Phone) > 40 || (e.Phone != "" && !phoneRe.MatchString(e.Phone)) {
		return fmt.Errorf("name, address or phone: %w", ErrInvalid)
	}
	return d.DB.Write(ctx, func(tx *store.Tx) error {
		var city any
		if e.City != "" {
			c, err := billing.CityByCode(ctx, tx, e.City)
			if err != nil {
				return err
			}
			city = c.ID
		}
		res, err := tx.Exec(ctx, `UPDATE accounts SET name = ?, address = ?, city_id = ?, phone = ?, email = ?, updated_at = ? WHERE id = ?`,
			e.Name, e.Address, city, e.Phone, e.Email, d.Clock.Now().UTC(), id)
		if err != nil {
			return fmt.Errorf("edit account %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("account %d: %w", id, ErrNotFound)
		}
		return nil
	})
}
