package billing

import (
	"context"
	"fmt"
)

// RadiusLine is what the RADIUS server needs to admit an account's line:
// its status and the speed it should run at now.
type RadiusLine struct {
	AccountID int64
	Status    string
	Speed     Speed
}

// RadiusLines returns the lines of every account (accountID 0) or of one,
// in two queries however many accounts there are: the RADIUS cache loads
// them all at start and must not take one round trip per subscriber.
func (b *Biller) RadiusLines(ctx context.Context, accountID int64) (map[int64]RadiusLine, error) {
	where, args := "", []any{}
	if accountID != 0 {
		where, args = " WHERE a.id = ?", []any{accountID}
	}
	rows, err := b.DB.Query(ctx, `SELECT a.id, a.status, t.down_kbps, t.up_kbps FROM accounts a JOIN tariffs t ON t.id = a.tariff_id`+where, args...)
	if err != nil {
		return nil, fmt.Errorf("radius lines: %w", err)
	}
	type acct struct {
		status string
		tariff Tariff
	}
	accts := map[int64]acct{}
	for rows.Next() {
		var id int64
		var a acct
		if err := rows.Scan(&id, &a.status, &a.tariff.DownKbps, &a.tariff.UpKbps); err != nil {
			rows.Close()
			return nil, fmt.Errorf("radius lines: %w", err)
		}
		accts[id] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("radius lines: %w", err)
	}

	swhere := ""
	if accountID != 0 {
		swhere = " AND s.account_id = ?"
	}
	rows, err = b.DB.Query(ctx, `SELECT `+subscriptionCols+` FROM subscriptions s JOIN packages k ON k.id = s.package_id WHERE s.ended_at IS NULL`+swhere, args...)
	if err != nil {
		return nil, fmt.Errorf("radius lines: subscriptions: %w", err)
	}
	defer rows.Close()
	subs := map[int64][]Subscription{}
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("radius lines: subscriptions: %w", err)
		}
		subs[s.AccountID] = append(subs[s.AccountID], s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("radius lines: subscriptions: %w", err)
	}
	now := b.Clock.Now()
	out := make(map[int64]RadiusLine, len(accts))
	for id, a := range accts {
		out[id] = RadiusLine{AccountID: id, Status: a.status, Speed: speedOf(a.tariff, subs[id], a.status, b.Rules.LimitKbps, now)}
	}
	return out, nil
}
