package traffic

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/kabinet-billing/kabinet/internal/store"
)

// AddressLease is who held an address when: the NetFlow collector maps a
// flow's address to a subscriber with it.
type AddressLease struct {
	Addr      netip.Addr
	AccountID int64
	From      time.Time
	Until     time.Time // zero while the session is open
}

// AddressLeases lists the addresses of sessions open now or stopped at or
// after since, with their subscriber; sessions of unknown logins are left
// out. Flows arrive up to the exporter's active timeout late, so the caller
// asks for a little history, not only open sessions.
func (s *Store) AddressLeases(ctx context.Context, since time.Time) ([]AddressLease, error) {
	rows, err := s.DB.Query(ctx, `SELECT framed_ip, account_id, started_at, stopped_at FROM sessions
		WHERE account_id IS NOT NULL AND framed_ip <> '' AND (stopped_at IS NULL OR stopped_at >= ?)`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("address leases: %w", err)
	}
	defer rows.Close()
	var out []AddressLease
	for rows.Next() {
		var ip string
		var l AddressLease
		var from, until store.Time
		if err := rows.Scan(&ip, &l.AccountID, &from, &until); err != nil {
			return nil, fmt.Errorf("address leases: %w", err)
		}
		if l.Addr, err = netip.ParseAddr(ip); err != nil {
			continue // a NAS sent something odd; nothing to attribute
		}
		l.From, l.Until = from.Time, until.Time
		out = append(out, l)
	}
	return out, rows.Err()
}
