package password

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestMain checks, before any test hashes, that loading the package (as every
// CLI command does through subscriber and operator) computed no hash.
func TestMain(m *testing.M) {
	if n := computed.Load(); n != 0 {
		println("password: loading the package computed", n, "argon2 hashes")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestHashCheck(t *testing.T) {
	h := Hash("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not the PHC form", h)
	}
	if h2 := Hash("correct horse"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	parts := strings.Split(h, "$")
	tests := []struct {
		name string
		phc  string
		pw   string
		want bool
	}{
		{"right", h, "correct horse", true},
		{"wrong", h, "correct horsE", false},
		{"empty password", h, "", false},
		{"empty hash", "", "correct horse", false},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv", "correct horse", false},
		{"argon2i", strings.Replace(h, "argon2id", "argon2i", 1), "correct horse", false},
		{"bad params", strings.Join([]string{"", parts[1], parts[2], "m=x", parts[4], parts[5]}, "$"), "correct horse", false},
		{"zero threads", strings.Join([]string{"", parts[1], parts[2], "m=19456,t=2,p=0", parts[4], parts[5]}, "$"), "correct horse", false},
		{"bad salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"), "correct horse", false},
		{"no key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], ""}, "$"), "correct horse", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Check(tc.phc, tc.pw); got != tc.want {
				t.Errorf("Check = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWasteHashes(t *testing.T) {
	before := computed.Load()
	Waste("anything")
	Waste("anything")
	// The first call makes the dummy hash and checks against it, the
	// second only checks.
	if got := computed.Load() - before; got != 3 {
		t.Errorf("two Waste calls computed %d hashes, want 3", got)
	}
}

// TestLookup: a holder is found by the stored form of the login; a login
// nobody holds costs one Check, like a wrong password, and is no error;
// any other error is passed on.
func TestLookup(t *testing.T) {
	errGone, errDown := errors.New("no such row"), errors.New("database down")
	holders := map[string]int{"alice": 1}
	find := func(_ context.Context, login string) (int, error) {
		if login == "down" {
			return 0, errDown
		}
		if id, ok := holders[login]; ok {
			return id, nil
		}
		return 0, fmt.Errorf("login %s: %w", login, errGone)
	}
	Waste("") // make the dummy hash, so that each case counts only its own work
	for _, tc := range []struct {
		login  string
		holder int
		found  bool
		err    error
		hashes int64
	}{
		{" Alice ", 1, true, nil, 0},
		{"bob", 0, false, nil, 1},
		{"down", 0, false, errDown, 0},
	} {
		before := computed.Load()
		holder, found, err := Lookup(context.Background(), tc.login, "pw", find, errGone)
		if holder != tc.holder || found != tc.found || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%q: %d %v %v, want %d %v %v", tc.login, holder, found, err, tc.holder, tc.found, tc.err)
		}
		if got := computed.Load() - before; got != tc.hashes {
			t.Errorf("%q: %d hashes, want %d", tc.login, got, tc.hashes)
		}
	}
}
