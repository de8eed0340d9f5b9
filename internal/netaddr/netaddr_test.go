package netaddr

import (
	"net/netip"
	"testing"
)

func TestClient(t *testing.T) {
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
		{"empty hops are skipped", "127.0.0.1:1", []string{"192.0.2.7, ", ""}, proxies, "192.0.2.7"},
		{"bare address", "192.0.2.1", nil, proxies, "192.0.2.1"},
	} {
		a, ok := Client(c.remote, c.xff, c.proxies)
		got := ""
		if ok {
			got = a.String()
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	ps, err := ParsePrefixes("allow", []string{"194.54.14.7/24", " 10.0.0.5 ", "::ffff:127.0.0.1", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"194.54.14.0/24", "10.0.0.5/32", "127.0.0.1/32", "2001:db8::/32"}
	for i, p := range ps {
		if p.String() != want[i] {
			t.Errorf("%d: %s, want %s", i, p, want[i])
		}
	}
	if _, err := ParsePrefixes("[web] trusted_proxies", []string{"nginx"}); err == nil || err.Error() != `[web] trusted_proxies: "nginx" is neither an address nor a network` {
		t.Errorf("bad entry: %v", err)
	}
}

func TestKey(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"192.0.2.1", "192.0.2.1", true},
		{"192.0.2.1", "192.0.2.2", false},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"::ffff:192.0.2.1", "192.0.2.1", true},
	} {
		if got := Key(netip.MustParseAddr(c.a)) == Key(netip.MustParseAddr(c.b)); got != c.same {
			t.Errorf("Key(%s) == Key(%s): %v, want %v", c.a, c.b, got, c.same)
		}
	}
}
