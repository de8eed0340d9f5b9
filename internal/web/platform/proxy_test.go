package platform

import (
	"net/netip"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/config"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		name, remote string
		xff          []string
		proxies      []netip.Prefix
		want         string // "" = unknown
	}{
		{"no proxy trusted: the header is ignored", "127.0.0.1:5000", []string{"192.0.2.7"}, nil, "127.0.0.1"},
		{"direct client", "192.0.2.1:5000", []string{"198.51.100.1"}, proxies, "192.0.2.1"},
		{"through a trusted proxy", "127.0.0.1:5000", []string{"192.0.2.7"}, proxies, "192.0.2.7"},
		{"rightmost untrusted hop wins over a forged left part", "127.0.0.1:1", []string{"1.2.3.4, 192.0.2.7"}, proxies, "192.0.2.7"},
		{"two proxies", "127.0.0.1:1", []string{"192.0.2.7, 10.1.1.1"}, proxies, "192.0.2.7"},
		{"several headers", "127.0.0.1:1", []string{"1.2.3.4", "192.0.2.7"}, proxies, "192.0.2.7"},
		{"only proxies", "127.0.0.1:1", []string{"10.0.0.1"}, proxies, ""},
		{"no header from a proxy", "127.0.0.1:1", nil, proxies, ""},
		{"garbage", "127.0.0.1:1", []string{"not-an-ip"}, proxies, ""},
		{"IPv6 peer", "[2001:db8::1]:443", []string{"192.0.2.7"}, proxies, "2001:db8::1"},
		{"IPv4-mapped proxy", "[::ffff:127.0.0.1]:1", []string{"192.0.2.7"}, proxies, "192.0.2.7"},
	} {
		a, ok := ClientAddr(c.remote, c.xff, c.proxies)
		got := ""
		if ok {
			got = a.String()
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTrustedProxiesConfig(t *testing.T) {
	if ps, err := TrustedProxies(config.Default()); err != nil || len(ps) != 0 {
		t.Errorf("default: %v %v, want no proxy trusted", ps, err)
	}
}
