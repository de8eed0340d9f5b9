package platform

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/netaddr"
)

// TrustedProxies reads [web] trusted_proxies: networks or single addresses
// of the reverse proxies in front of Kabinet, the only peers whose
// X-Forwarded-For is believed.
//
//	[web]
//	trusted_proxies = ["127.0.0.1/32", "10.0.0.0/8"]
func TrustedProxies(cfg config.Config) ([]netip.Prefix, error) {
	return netaddr.ParsePrefixes("[web] trusted_proxies", cfg.Web.TrustedProxies)
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
		if a, ok := netaddr.Client(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), p.proxies); ok {
			r2 := *r
			r2.RemoteAddr = net.JoinHostPort(a.String(), "0")
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}
