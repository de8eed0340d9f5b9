package netflow

import (
	"context"
	"fmt"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// ClassDay is one day's bytes of one class.
type ClassDay struct {
	Day          string // YYYY-MM-DD in the provider's zone
	Class        string
	InputOctets  int64 // upload
	OutputOctets int64 // download
	Flows        int64
}

// Usage returns an account's traffic per day and class for days in
// [from, to] (YYYY-MM-DD, inclusive), oldest first, classes in their order.
func Usage(ctx context.Context, db *store.DB, accountID int64, from, to string) ([]ClassDay, error) {
	rows, err := db.Query(ctx, `SELECT u.day, u.class, u.input_octets, u.output_octets, u.flows FROM usage_class_daily u
		LEFT JOIN traffic_classes c ON c.code = u.class
		WHERE u.account_id = ? AND u.day >= ? AND u.day <= ? ORDER BY u.day, COALESCE(c.position, 1000), u.class`, accountID, from, to)
	if err != nil {
		return nil, fmt.Errorf("traffic by class of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []ClassDay
	for rows.Next() {
		var d ClassDay
		if err := rows.Scan(&d.Day, &d.Class, &d.InputOctets, &d.OutputOctets, &d.Flows); err != nil {
			return nil, fmt.Errorf("traffic by class of %d: %w", accountID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
