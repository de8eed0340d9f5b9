package platform

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/config"
)

// TrustedProxies reads [web] trusted_proxies: networks or single addresses
// of the reverse proxies in front of Kabinet, the only peers whose
// X-Forwarded-For is believed.
//
//	[web]
//	trusted_proxies = ["127.0.0.1/32", "10.0.0.0/8"]
func TrustedProxies(cfg config.Config) ([]netip.Prefix, error) {
	wc := cfg.Web
	var out []netip.Prefix
	for _, s := range wc.TrustedProxies {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("[web] trusted_proxies: %q is neither an address nor a network", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ClientAddr is the address a request came from: the connection's peer, or,
// when the peer is a trusted proxy, the rightmost address in X-Forwarded-For
// that is not a trusted proxy (everything left of it is the client's own
// word, which anyone can write). ok is false when the peer is a proxy and
// the header names no untrusted hop (or is malformed): the client is unknown.
func ClientAddr(remoteAddr string, forwarded []string, proxies []netip.Prefix) (addr netip.Addr, ok bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	peer, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	peer = peer.Unmap()
	if !inPrefixes(proxies, peer) {
		return peer, true
	}
	hops := strings.Split(strings.Join(forwarded, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}, false
		}
		if a = a.Unmap(); !inPrefixes(proxies, a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// realClient rewrites r.RemoteAddr to the client's address when the request
// came through a trusted proxy, so that everything keyed by address (login
// limits, the audit log, OSMP allow lists, the speed test) sees the client,
// not the proxy. A request from a proxy that does not name its client keeps
// the proxy's address: limits then apply to the proxy as a whole.
func (p *Platform) realClient(next http.Handler) http.Handler {
	if len(p.proxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), p.proxies); ok {
			r2 := *r
			r2.RemoteAddr = net.JoinHostPort(a.String(), "0")
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}
