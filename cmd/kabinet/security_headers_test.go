package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

func sessionCookie(h http.Header) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "kabinet_session" {
			return c
		}
	}
	return nil
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		tls       bool
	}{{"http://kabinet.test", false}, {"https://kabinet.test", true}} {
		s := newSecEnv(t, fmt.Sprintf("public_url = %q\n", tc.publicURL))
		b := s.browser()
		for _, path := range []string{"/login", "/admin/login", "/site/", "/no-such-page"} {
			a := b.get(path)
			csp := a.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("%s %s: Content-Security-Policy %q", tc.publicURL, path, csp)
			}
			if a.header.Get("X-Frame-Options") != "DENY" || a.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s: framing and sniffing headers %v", tc.publicURL, path, a.header)
			}
			if hsts := a.header.Get("Strict-Transport-Security"); (hsts != "") != tc.tls {
				t.Errorf("%s %s: Strict-Transport-Security %q (only under TLS)", tc.publicURL, path, hsts)
			}
		}
		// Cookie flags, on the cookie a login sets.
		b.get("/login")
		a := b.post("/login", url.Values{"login": {"alice"}, "password": {secSubPassword}})
		c := sessionCookie(a.header)
		if c == nil {
			t.Fatalf("%s: login set no session cookie", tc.publicURL)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.tls {
			t.Errorf("%s: session cookie HttpOnly=%v SameSite=%v Secure=%v", tc.publicURL, c.HttpOnly, c.SameSite, c.Secure)
		}
	}
}

// The session id changes at login (portal and back office): an id planted
// before login is worth nothing after it.
func TestSessionFixation(t *testing.T) {
	s := newSecEnv(t, `public_url = "http://kabinet.test"`)
	for _, area := range []struct{ form, login, password, home string }{
		{"/login", "alice", secSubPassword, "/"},
		{"/admin/login", "op-admin", secOpPassword, "/admin/"},
	} {
		victim := s.browser()
		before := sessionCookie(victim.get(area.form).header)
		if before == nil {
			t.Fatalf("%s: no session before login", area.form)
		}
		after := sessionCookie(victim.post(area.form, url.Values{"login": {area.login}, "password": {area.password}}).header)
		if after == nil || after.Value == before.Value {
			t.Errorf("%s: the session id did not change at login", area.form)
			continue
		}
		// The attacker who planted the old id is not logged in.
		attacker := s.browser()
		req, _ := http.NewRequest("GET", s.ts.URL+area.home, nil)
		req.AddCookie(&http.Cookie{Name: "kabinet_session", Value: before.Value})
		if a := attacker.do(req); a.status != http.StatusSeeOther {
			t.Errorf("%s: the pre-login session id opens %s: %d", area.form, area.home, a.status)
		}
	}
}

// Behind [web] trusted_proxies the client's address comes from
// X-Forwarded-For (login limits, OSMP allow lists); by default the header is
// nobody's word.
func TestTrustedProxies(t *testing.T) {
	osmp := func(s *secEnv, xff string) int {
		req, _ := http.NewRequest("GET", s.ts.URL+"/pay/osmp?command=check&txn_id=1&account=alice&sum=10.00", nil)
		req.SetBasicAuth("sberbank", "demo-sberbank")
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		return s.browser().do(req).status
	}
	// failLogins spends the per-address attempts, each with another login.
	failLogins := func(s *secEnv, xff string, n int) int {
		b := s.browser()
		b.get("/login")
		status := 0
		for i := range n {
			status = b.post("/login", url.Values{"login": {fmt.Sprintf("nobody%d", i)}, "password": {"wrong-password"}}, "X-Forwarded-For", xff).status
		}
		return status
	}

	t.Run("default: no proxy trusted", func(t *testing.T) {
		s := newSecEnv(t, `public_url = "http://kabinet.test"`)
		// The demo banks are allowed from 127.0.0.1: a forged header does not change who asks.
		if st := osmp(s, "203.0.113.9"); st != http.StatusOK {
			t.Errorf("OSMP from 127.0.0.1 with a forged X-Forwarded-For: %d, want 200", st)
		}
		if st := failLogins(s, "203.0.113.1", 20); st != http.StatusUnauthorized {
			t.Fatalf("20 bad logins: %d", st)
		}
		// Another forged address does not give a fresh allowance.
		if st := failLogins(s, "203.0.113.2", 1); st != http.StatusTooManyRequests {
			t.Errorf("a bad login with another X-Forwarded-For: %d, want 429", st)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		s := newSecEnv(t, "public_url = \"http://kabinet.test\"\n[web]\ntrusted_proxies = [\"127.0.0.1/32\"]\n")
		if st := osmp(s, "203.0.113.9"); st != http.StatusForbidden {
			t.Errorf("OSMP for a client not in the allow list, through the proxy: %d, want 403", st)
		}
		if st := osmp(s, "1.2.3.4, 127.0.0.1"); st != http.StatusForbidden {
			t.Errorf("OSMP with only proxies after a forged hop: %d, want 403", st)
		}
		if st := failLogins(s, "203.0.113.1", 21); st != http.StatusTooManyRequests {
			t.Fatalf("21 bad logins from one client: %d, want 429", st)
		}
		if st := failLogins(s, "203.0.113.2", 1); st != http.StatusUnauthorized {
			t.Errorf("another client behind the same proxy: %d, want 401 (not limited)", st)
		}
		if st := failLogins(s, "203.0.113.2, 203.0.113.1", 1); st != http.StatusTooManyRequests {
			t.Errorf("the limited client with a forged left hop: %d, want 429", st)
		}
	})
}

// Secrets never reach the log: passwords of subscribers and operators
// (right and wrong), the banks' OSMP passwords, the processor's secret.
func TestSecretsNotLogged(t *testing.T) {
	s := newSecEnv(t, `public_url = "http://kabinet.test"`)
	wrong := "Wrong-Pass-Word-42"
	b := s.browser()
	b.get("/login")
	b.post("/login", url.Values{"login": {"alice"}, "password": {wrong}})
	b.post("/login", url.Values{"login": {"alice"}, "password": {secSubPassword}})
	b.get("/")
	b.post("/profile/password", url.Values{"current": {wrong}, "password": {"New-Secret-77"}, "password2": {"New-Secret-77"}})
	o := s.browser()
	o.get("/admin/login")
	o.post("/admin/login", url.Values{"login": {"op-admin"}, "password": {wrong}})
	o.post("/admin/login", url.Values{"login": {"op-admin"}, "password": {secOpPassword}})
	o.post("/admin/operators", url.Values{"login": {"newop"}, "role": {"support"}, "password": {"Operator-Secret-99"}})
	s.sendJSON("POST", "/api/v1/login", "", fmt.Sprintf(`{"login":"alice","password":%q}`, wrong))
	s.sendJSON("POST", "/api/v1/login", "", fmt.Sprintf(`{"login":"bob","password":%q}`, secSubPassword))
	for _, pw := range []string{"demo-sberbank", wrong} {
		req, _ := http.NewRequest("GET", s.ts.URL+"/pay/osmp?command=pay&txn_id=77&account=alice&sum=10.00&txn_date=20270310120000", nil)
		req.SetBasicAuth("sberbank", pw)
		s.browser().do(req)
	}
	req, _ := http.NewRequest("POST", s.ts.URL+"/pay/card/sandbox/callback", strings.NewReader("payment=1&status=ok&sign=forged"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.browser().do(req)

	logs, err := os.ReadFile(s.logs.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(bytes.TrimSpace(logs)) == 0 {
		t.Fatal("nothing was logged: the capture is broken")
	}
	for _, secret := range []string{secSubPassword, secOpPassword, wrong, "New-Secret-77", "Operator-Secret-99", "demo-sberbank", "demo-sandbox-secret"} {
		if bytes.Contains(logs, []byte(secret)) {
			t.Errorf("the log contains the secret %q:\n%s", secret, logs)
		}
	}
}
