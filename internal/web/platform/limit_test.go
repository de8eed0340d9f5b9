package platform

import "testing"

// TestAddressKey: one IPv4 address is one key whatever its port; an IPv6
// client is keyed by its /64.
func TestAddressKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"192.0.2.1:5000", "192.0.2.1:6000", true},
		{"192.0.2.1:5000", "192.0.2.2:5000", false},
		{"[2001:db8:1:2::1]:443", "[2001:db8:1:2:ffff::9]:80", true},
		{"[2001:db8:1:2::1]:443", "[2001:db8:1:3::1]:443", false},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1:2", true},
	} {
		if got := AddressKey(tc.a) == AddressKey(tc.b); got != tc.same {
			t.Errorf("%s vs %s: same=%v", tc.a, tc.b, got)
		}
	}
}
