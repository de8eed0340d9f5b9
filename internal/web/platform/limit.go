package platform

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kabinet-billing/kabinet/internal/netaddr"
)

// Limiter limits attempts per key (a login, an address). Each key gets a
// token bucket; times come from the caller so that tests move a fake clock.
type Limiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter allows burst attempts at once and one more every interval.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{every: every, burst: burst, buckets: map[string]*bucket{}}
}

func (l *Limiter) get(key string, now time.Time) *rate.Limiter {
	// Forget buckets that have been full for a while, so that a flood of
	// distinct keys does not grow the map forever.
	if now.Sub(l.swept) > 10*time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > l.every*time.Duration(l.burst)+time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim
}

// Blocked tells whether key has no attempts left at now, and when the next
// one is allowed.
func (l *Limiter) Blocked(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.get(key, now)
	if lim.TokensAt(now) >= 1 {
		return false, 0
	}
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return true, wait
}

// Spend uses one attempt of key.
func (l *Limiter) Spend(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.get(key, now).AllowN(now, 1)
}

// AddressKey is the rate-limit key of a client address: the IPv4 address, or
// the /64 an IPv6 client gets from its provider (one subscriber owns the
// whole /64 and can change addresses inside it at will).
func AddressKey(remoteAddr string) string {
	a, ok := netaddr.Peer(remoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil {
			host = remoteAddr
		}
		return "addr:" + host
	}
	return netaddr.Key(a)
}

// Logins limits subscribers' login attempts, on the portal and the API
// alike: a guess costs the same budget whichever door it comes through.
type Logins struct {
	// A person mistyping gets five tries, then one a minute; a script
	// guessing many logins from one address meets the address limit.
	byLogin, byAddress *Limiter
}

// NewLogins makes the limits.
func NewLogins() *Logins {
	return &Logins{byLogin: NewLimiter(time.Minute, 5), byAddress: NewLimiter(6*time.Second, 20)}
}

// Allow tells whether an attempt at login from remoteAddr (host:port; the
// port is ignored, so new connections share one budget) may go ahead, and
// spends one attempt of the address. When not, wait is how long until the
// next attempt is allowed.
func (l *Logins) Allow(login, remoteAddr string, now time.Time) (ok bool, wait time.Duration) {
	addr := AddressKey(remoteAddr)
	if blocked, wait := l.byAddress.Blocked(addr, now); blocked {
		return false, wait
	}
	if blocked, wait := l.byLogin.Blocked("login:"+login, now); blocked {
		return false, wait
	}
	l.byAddress.Spend(addr, now)
	return true, 0
}

// Failed spends one attempt of the login: its password was wrong.
func (l *Logins) Failed(login string, now time.Time) {
	l.byLogin.Spend("login:"+login, now)
}
