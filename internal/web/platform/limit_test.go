package platform

import (
	"strconv"
	"testing"
	"time"
)

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

// A bucket: burst attempts at once, one more every interval, never more
// than burst; an attempt given back is there again at once.
func TestLimiter(t *testing.T) {
	l := NewLimiter(6*time.Second, 3)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if blocked, _ := l.Blocked("k", t0); blocked {
			t.Fatalf("attempt %d blocked", i+1)
		}
		l.Spend("k", t0)
	}
	if blocked, wait := l.Blocked("k", t0); !blocked || wait != 6*time.Second {
		t.Errorf("after the burst: %v, wait %s", blocked, wait)
	}
	if blocked, wait := l.Blocked("k", t0.Add(2*time.Second)); !blocked || wait != 4*time.Second {
		t.Errorf("2 s later: %v, wait %s", blocked, wait)
	}
	l.give("k", t0.Add(2*time.Second))
	if blocked, _ := l.Blocked("k", t0.Add(2*time.Second)); blocked {
		t.Error("an attempt given back is not there")
	}
	if blocked, _ := l.Blocked("other", t0); blocked {
		t.Error("another key is blocked")
	}
	// An hour later the bucket is full again, and no fuller.
	later := t0.Add(time.Hour)
	l.give("k", later)
	for i := range 3 {
		if blocked, _ := l.Blocked("k", later); blocked {
			t.Fatalf("an hour later, attempt %d blocked", i+1)
		}
		l.Spend("k", later)
	}
	if blocked, _ := l.Blocked("k", later); !blocked {
		t.Error("more than the burst after a give on a full bucket")
	}
}

// Successful logins do not use up an address's attempts (an office or a
// carrier-grade NAT behind one address); wrong passwords do.
func TestLoginsCountFailures(t *testing.T) {
	l := NewLogins()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 50 {
		a, ok, _ := l.Allow("user"+strconv.Itoa(i), "192.0.2.7:5000", now)
		if !ok {
			t.Fatalf("successful login %d from a shared address refused", i+1)
		}
		l.Succeeded(a, now)
	}
	for i := range 20 {
		if _, ok, _ := l.Allow("guess"+strconv.Itoa(i), "192.0.2.7:5000", now); !ok {
			t.Fatalf("wrong password %d refused early", i+1)
		}
		l.Failed("guess"+strconv.Itoa(i), now)
	}
	if _, ok, _ := l.Allow("guess99", "192.0.2.7:5000", now); ok {
		t.Error("the 21st wrong guess from one address is let through")
	}
}
