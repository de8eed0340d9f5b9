package netflow

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/traffic"
)

// Resolver tells which subscriber had an address at a time (0: nobody).
type Resolver interface {
	Account(a netip.Addr, at time.Time) int64
}

// Leases is where SessionResolver reads who had which address;
// traffic.Store satisfies it.
type Leases interface {
	AddressLeases(ctx context.Context, since time.Time) ([]traffic.AddressLease, error)
}

// SessionResolver answers from a snapshot of RADIUS sessions, refreshed
// periodically: a flow lookup must not touch the database.
type SessionResolver struct {
	Leases Leases
	Clock  clock.Clock
	// Keep is how long a stopped session's address still attributes flows:
	// routers export a flow up to their active timeout (often 30 min) after
	// its bytes passed.
	Keep time.Duration
	snap atomic.Pointer[map[netip.Addr][]traffic.AddressLease]
}

// NewSessionResolver makes a resolver; call Refresh before use.
func NewSessionResolver(l Leases, clk clock.Clock) *SessionResolver {
	return &SessionResolver{Leases: l, Clock: clk, Keep: time.Hour}
}

// Refresh reloads the snapshot.
func (r *SessionResolver) Refresh(ctx context.Context) error {
	ls, err := r.Leases.AddressLeases(ctx, r.Clock.Now().Add(-r.Keep))
	if err != nil {
		return fmt.Errorf("refresh flow resolver: %w", err)
	}
	m := make(map[netip.Addr][]traffic.AddressLease, len(ls))
	for _, l := range ls {
		m[l.Addr.Unmap()] = append(m[l.Addr.Unmap()], l)
	}
	r.snap.Store(&m)
	return nil
}

// Run refreshes every interval until ctx ends; errors keep the old snapshot.
func (r *SessionResolver) Run(ctx context.Context, every time.Duration, onErr func(error)) {
	clock.Every(ctx, every, func(ctx context.Context) {
		if err := r.Refresh(ctx); err != nil && onErr != nil {
			onErr(err)
		}
	})
}

// slack covers the clock difference between the router and us, and a
// session's first packets before its accounting Start arrived.
const slack = 2 * time.Minute

// Account implements Resolver.
func (r *SessionResolver) Account(a netip.Addr, at time.Time) int64 {
	p := r.snap.Load()
	if p == nil {
		return 0
	}
	ls := (*p)[a.Unmap()]
	if len(ls) == 1 && ls[0].Until.IsZero() {
		return ls[0].AccountID // the usual case: one open session
	}
	var best int64
	var bestFrom time.Time
	for _, l := range ls {
		if at.Before(l.From.Add(-slack)) || (!l.Until.IsZero() && at.After(l.Until.Add(slack))) {
			continue
		}
		// The address moved between subscribers within the slack: the
		// later session is the one the flow most likely belongs to.
		if best == 0 || l.From.After(bestFrom) {
			best, bestFrom = l.AccountID, l.From
		}
	}
	return best
}

// StaticResolver maps fixed addresses, for tests and static-IP setups.
type StaticResolver map[netip.Addr]int64

// Account implements Resolver.
func (s StaticResolver) Account(a netip.Addr, _ time.Time) int64 { return s[a.Unmap()] }
