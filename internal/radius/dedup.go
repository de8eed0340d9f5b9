package radius

import (
	"net/netip"
	"sync"
	"time"
)

// A NAS retransmits a request it got no answer to with the same Identifier
// and Request Authenticator (RFC 5080 §2.2.2). Processing it again would
// double-count accounting and waste CPU; the answer already sent is resent
// instead, and a retransmission of a request still in progress is dropped.

type dedupKey struct {
	src  netip.AddrPort
	id   byte
	auth [16]byte
}

type dedupEntry struct {
	at   time.Time
	resp []byte // nil while in progress
}

const dedupShards = 32

type dedup struct {
	ttl    time.Duration
	shards [dedupShards]struct {
		mu sync.Mutex
		m  map[dedupKey]*dedupEntry
	}
}

func newDedup(ttl time.Duration) *dedup {
	d := &dedup{ttl: ttl}
	for i := range d.shards {
		d.shards[i].m = map[dedupKey]*dedupEntry{}
	}
	return d
}

func (d *dedup) shard(k dedupKey) int {
	return int(k.auth[0]^k.auth[7]^k.id) % dedupShards
}

// begin registers a request. It returns (nil, true) for a new request the
// caller must process, (resp, false) for a finished duplicate to resend, and
// (nil, false) for a duplicate still in progress.
func (d *dedup) begin(k dedupKey, now time.Time) ([]byte, bool) {
	s := &d.shards[d.shard(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok && now.Sub(e.at) < d.ttl {
		return e.resp, false
	}
	s.m[k] = &dedupEntry{at: now}
	return nil, true
}

// finish stores the response sent; nil forgets the request so that a
// retransmission is processed afresh (e.g. after a failed write).
func (d *dedup) finish(k dedupKey, resp []byte) {
	s := &d.shards[d.shard(k)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if resp == nil {
		delete(s.m, k)
		return
	}
	if e, ok := s.m[k]; ok {
		e.resp = resp
	}
}

// sweep drops entries older than the TTL.
func (d *dedup) sweep(now time.Time) {
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if now.Sub(e.at) >= d.ttl {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}

func (d *dedup) len() int {
	n := 0
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
