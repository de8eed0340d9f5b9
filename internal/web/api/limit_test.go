package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// login posts to /api/v1/login over a connection of its own: a new client
// port each time, as a script opening a connection per guess has.
func (e *env) loginFresh(login, pass string) int {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"login": login, "password": pass})
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	r, err := c.Post(e.ts.URL+"/api/v1/login", "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r.StatusCode
}

// TestLoginLimitPerAddress: guesses at many logins from one address, each
// over a new connection, meet the address's limit (the port is not part of
// the key); it recovers with time.
func TestLoginLimitPerAddress(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	var codes []int
	for i := range 30 {
		codes = append(codes, e.loginFresh("guess"+strconv.Itoa(i), "x"))
	}
	for i, c := range codes {
		want := http.StatusUnauthorized
		if i >= 20 {
			want = http.StatusTooManyRequests
		}
		if c != want {
			t.Fatalf("attempt %d: %d, want %d (all: %v)", i+1, c, want, codes)
		}
	}
	e.clk.Advance(time.Minute)
	if c := e.loginFresh("alice", password); c != http.StatusOK {
		t.Errorf("a minute later: %d", c)
	}
}

// TestLoginBudgetShared: wrong passwords for one login on the portal use up
// that login's attempts in the API too, and the other way round.
func TestLoginBudgetShared(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	portal := func(login, pass string) int {
		t.Helper()
		r, err := web.Get(e.ts.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no csrf field on the login page: %s", body)
		}
		form := url.Values{"login": {login}, "password": {pass}, "csrf": {string(m[1])}}
		req, _ := http.NewRequest("POST", e.ts.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r, err = web.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	for i := range 5 {
		if c := portal("alice", "wrong"); c != http.StatusUnauthorized {
			t.Fatalf("portal attempt %d: %d", i+1, c)
		}
	}
	if c := e.loginFresh("alice", password); c != http.StatusTooManyRequests {
		t.Errorf("API after five wrong passwords on the portal: %d, want 429", c)
	}
	for i := range 5 {
		if c := e.loginFresh("bob", "wrong"); c != http.StatusUnauthorized {
			t.Fatalf("API attempt %d: %d", i+1, c)
		}
	}
	if c := portal("bob", password); c != http.StatusTooManyRequests {
		t.Errorf("portal after five wrong passwords in the API: %d, want 429", c)
	}
}

// TestCardReturnURL: the processor's page sends the browser back only to
// the provider's site (public_url) or into the app (its scheme).
func TestCardReturnURL(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	tok := e.token("alice")
	for _, tc := range []struct {
		ret    string
		status int
	}{
		{"", 200},
		{"https://my.example.net/payments/{id}", 200},
		{"HTTPS://MY.example.net/payments/{id}", 200},
		{"ru.example.kabinet://payments/{id}", 200},
		{"https://evil.example.com/payments/{id}", 422},
		{"https://my.example.net.evil.example.com/", 422},
		{"https://my.example.net@evil.example.com/", 422},
		{"https://user@my.example.net/", 422},
		{"http://my.example.net/payments/{id}", 422},
		{"//evil.example.com/", 422},
		{"/payments/{id}", 422},
		{"javascript:alert(1)", 422},
		{"other.app://payments/{id}", 422},
	} {
		body := map[string]any{"amount": "100"}
		if tc.ret != "" {
			body["return_url"] = tc.ret
		}
		r := e.do("POST", "/api/v1/payments/card", tok, "en", body)
		if r.status != tc.status {
			t.Errorf("return_url %q: %d %s, want %d", tc.ret, r.status, r.body, tc.status)
		}
	}
}

// TestSchemaLinksFromPublicURL: the "$schema" links and Link headers name
// public_url, whatever Host or X-Forwarded-Host the client sends.
func TestSchemaLinksFromPublicURL(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	tok := e.token("alice")
	for _, hdr := range []map[string]string{
		{},
		{"Host": "evil.example.com"},
		{"X-Forwarded-Host": "evil.example.com"},
		{"Forwarded": "host=evil.example.com;proto=https"},
	} {
		req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/home", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		r.Body.Close()
		want := "https://my.example.net/api/v1/schemas/"
		if s, _ := body["$schema"].(string); r.StatusCode != 200 || !strings.HasPrefix(s, want) {
			t.Errorf("%v: %d $schema %q, want under %s", hdr, r.StatusCode, s, want)
		}
		if l := r.Header.Get("Link"); l == "" || strings.Contains(l, "evil") {
			t.Errorf("%v: Link %q", hdr, l)
		}
	}
}
