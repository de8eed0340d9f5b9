// Package browsertest finds the Chromium that browser tests drive, in one
// way for every test.
package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium is the path of the Chromium binary to drive: $KABINET_CHROMIUM,
// else Debian's /usr/bin/chromium, else chromium or chromium-browser on the
// PATH. Without one the test is skipped, saying how to get it.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KABINET_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("KABINET_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser test skipped: no Chromium (apt-get install -y chromium, or set KABINET_CHROMIUM)")
	return ""
}
