package platform

import (
	"net"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/netaddr"
)

// Limiter limits attempts per key (a login, an address). Each key gets a
// token bucket: burst attempts at once and one more every interval. Times
// come from the caller so that tests move a fake clock. (Its own bucket
// rather than golang.org/x/time/rate's: an attempt must be given back
// after the moment it was taken, which rate's reservations cannot do.)
type Limiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64   // attempts left at at
	at     time.Time // when tokens was last brought up to date
	seen   time.Time
}

// NewLimiter allows burst attempts at once and one more every interval.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{every: every, burst: burst, buckets: map[string]*bucket{}}
}

// get is key's bucket with its attempts brought up to now.
func (l *Limiter) get(key string, now time.Time) *bucket {
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
		b = &bucket{tokens: float64(l.burst), at: now}
		l.buckets[key] = b
	}
	if now.After(b.at) {
		b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
		b.at = now
	}
	b.seen = now
	return b
}

// Blocked tells whether key has no attempts left at now, and when the next
// one is allowed.
func (l *Limiter) Blocked(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, now)
	if b.tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - b.tokens) * float64(l.every))
}

// Spend uses one attempt of key (none when it has none left).
func (l *Limiter) Spend(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.get(key, now); b.tokens >= 1 {
		b.tokens--
	}
}

// give returns one attempt to key.
func (l *Limiter) give(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, now)
	b.tokens = min(float64(l.burst), b.tokens+1)
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

// Attempt is a login attempt Allow let through: the address it spent an
// attempt of.
type Attempt struct{ addr string }

// Allow tells whether an attempt at login from remoteAddr (host:port; the
// port is ignored, so new connections share one budget) may go ahead, and
// spends one attempt of the address until Succeeded gives it back (the
// password is checked, at its cost, only within the address's budget).
// When not, wait is how long until the next attempt is allowed.
func (l *Logins) Allow(login, remoteAddr string, now time.Time) (a Attempt, ok bool, wait time.Duration) {
	addr := AddressKey(remoteAddr)
	if blocked, wait := l.byAddress.Blocked(addr, now); blocked {
		return a, false, wait
	}
	if blocked, wait := l.byLogin.Blocked("login:"+login, now); blocked {
		return a, false, wait
	}
	l.byAddress.Spend(addr, now)
	return Attempt{addr: addr}, true, 0
}

// Succeeded gives the address's attempt back: a login that succeeds does
// not count against an address that many subscribers may share (an
// office, a provider's carrier-grade NAT); only wrong passwords do.
func (l *Logins) Succeeded(a Attempt, now time.Time) {
	if a.addr != "" {
		l.byAddress.give(a.addr, now)
	}
}

// Failed spends one attempt of the login: its password was wrong.
func (l *Logins) Failed(login string, now time.Time) {
	l.byLogin.Spend("login:"+login, now)
}
