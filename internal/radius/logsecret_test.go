package radius

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestRejectLogsNoTypedSecret: a User-Name that matches no subscriber may be
// a password typed into the login field; the reject's log line names the
// reason but not what was typed. A known login is still named.
func TestRejectLogsNoTypedSecret(t *testing.T) {
	const typed = "Tr0ub4dor-3"
	for _, tc := range []struct {
		name    string
		login   string
		dirErr  error
		reason  string
		hasName bool
	}{
		{"no such login", typed, nil, "no such login", false},
		{"directory down", typed, errors.New("database is closed"), "database is closed", false},
		{"wrong password of a known login", "alice", nil, "wrong password", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, KindMikrotik)
			var buf bytes.Buffer
			e.srv.log = slog.New(slog.NewTextHandler(&buf, nil))
			e.dir.err = tc.dirErr
			_, raw := papRequest(t, tc.login, "not-it", false)
			e.auth(t, raw)
			out := buf.String()
			if !strings.Contains(out, "access rejected") || !strings.Contains(out, tc.reason) {
				t.Fatalf("log lacks the reject's reason %q:\n%s", tc.reason, out)
			}
			if strings.Contains(out, typed) {
				t.Errorf("log names the typed User-Name:\n%s", out)
			}
			if got := strings.Contains(out, "login="+tc.login); got != tc.hasName {
				t.Errorf("login named: %v, want %v:\n%s", got, tc.hasName, out)
			}
		})
	}
}
