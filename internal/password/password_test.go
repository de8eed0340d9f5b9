package password

import (
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
