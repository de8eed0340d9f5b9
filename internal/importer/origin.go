package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// Origin is where an imported account came from, with what Kabinet keeps
// of the old billing only for the operators: the credit it allowed (debt
// in Kabinet works by its grace period) and a second phone.
type Origin struct {
	System      string       `json:"system"`
	Key         string       `json:"key"` // the account's key in the old billing
	ImportedAt  time.Time    `json:"imported_at"`
	Credit      money.Amount `json:"credit"`
	CreditUntil string       `json:"credit_until,omitempty"` // as the source has it, a date
	Phone2      string       `json:"phone2,omitempty"`
}

// OriginOf tells where the account came from; ok is false for an account
// that was not imported.
func OriginOf(ctx context.Context, q queryer, accountID int64) (o Origin, ok bool, err error) {
	rows, err := q.Query(ctx, `SELECT key, fields, imported_at FROM import_rows WHERE target_id = ? AND key LIKE ? ORDER BY imported_at LIMIT 1`,
		accountID, "%:subscriber:%")
	if err != nil {
		return o, false, fmt.Errorf("origin of %d: %w", accountID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return o, false, rows.Err()
	}
	var key, fields string
	if err := rows.Scan(&key, &fields, &o.ImportedAt); err != nil {
		return o, false, fmt.Errorf("origin of %d: %w", accountID, err)
	}
	var f subFields
	if err := json.Unmarshal([]byte(fields), &f); err != nil {
		return o, false, fmt.Errorf("origin of %d: %w", accountID, err)
	}
	o.System, o.Key, _ = strings.Cut(key, ":subscriber:")
	// The credit was checked at the import: it reads or it is none.
	o.Credit, _ = amount(f.Credit)
	o.CreditUntil, o.Phone2 = f.CreditUntil, f.Phone2
	return o, true, rows.Err()
}

// Describe is the origin in a line, for the command line.
func (o Origin) Describe(zone *time.Location) string {
	s := fmt.Sprintf("%s %s, imported %s", o.System, o.Key, o.ImportedAt.In(zone).Format("2006-01-02 15:04"))
	if o.Credit != 0 {
		s += ", credit " + o.Credit.Decimal()
		if o.CreditUntil != "" {
			s += " until " + o.CreditUntil
		}
	}
	if o.Phone2 != "" {
		s += ", second phone " + o.Phone2
	}
	return s
}
