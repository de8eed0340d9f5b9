package subscriber

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

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
			return fmt.Errorf("e-mail %q: %w", e.Email, derrors.Invalid)
		}
	}
	if len(e.Name) > 200 || len(e.Address) > 300 || len(e.Phone) > 40 || (e.Phone != "" && !phoneRe.MatchString(e.Phone)) {
		return fmt.Errorf("name, address or phone: %w", derrors.Invalid)
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
			return fmt.Errorf("account %d: %w", id, errNoAccount)
		}
		return nil
	})
}
