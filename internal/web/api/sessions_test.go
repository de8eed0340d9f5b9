package api_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// browser is a portal session of one subscriber.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) browser(login, pass string) *browser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: e.t, base: e.ts.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.get("/login")
	if code, loc := b.post("/login", url.Values{"login": {login}, "password": {pass}}); code != http.StatusSeeOther || loc != "/" {
		e.t.Fatalf("portal login %s: %d %s", login, code, loc)
	}
	return b
}

func (b *browser) get(path string) int {
	b.t.Helper()
	r, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return r.StatusCode
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	form.Set("csrf", b.csrf)
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r.StatusCode, r.Header.Get("Location")
}

func (b *browser) cookie() string {
	u, _ := url.Parse(b.base)
	for _, k := range b.c.Jar.Cookies(u) {
		if k.Name == "kabinet_session" {
			return k.Value
		}
	}
	return ""
}

func (b *browser) loggedIn() bool { return b.get("/profile") == http.StatusOK }

// TestPasswordChangeEndsSessions: a subscriber's new password, on the
// portal or in the app, ends every other web session and API token of the
// account; the session or token that changed it goes on (a session under a
// new id); another subscriber's are untouched.
func TestPasswordChangeEndsSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { testPasswordChangeEndsSessions(t, newEnvOn(t, db, 1000, 1000)) })
}

func testPasswordChangeEndsSessions(t *testing.T, e *env) {
	const next1, next2 = "new-password-1", "new-password-2"

	// On the portal.
	b1, b2, bob := e.browser("alice", password), e.browser("alice", password), e.browser("bob", password)
	tok, bobTok := e.token("alice"), e.token("bob")
	before := b1.cookie()
	b1.get("/profile")
	if code, loc := b1.post("/profile/password", url.Values{"current": {password}, "new": {next1}, "confirm": {next1}}); code != http.StatusSeeOther {
		t.Fatalf("portal password change: %d %s", code, loc)
	}
	if !b1.loggedIn() {
		t.Error("the session that changed the password was logged out")
	}
	if after := b1.cookie(); after == before || after == "" {
		t.Errorf("the session kept its id across the password change")
	}
	if b2.loggedIn() {
		t.Error("another portal session outlived the password")
	}
	if r := e.do("GET", "/api/v1/home", tok, "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("an API token after the portal's change: %d", r.status)
	}
	if !bob.loggedIn() || e.do("GET", "/api/v1/home", bobTok, "", nil).status != http.StatusOK {
		t.Error("another subscriber's session or token ended")
	}

	// In the app.
	b3 := e.browser("alice", next1)
	tok1, tok2 := e.token("alice"), e.token("alice")
	if r := e.do("POST", "/api/v1/profile/password", tok1, "", map[string]string{"current": next1, "new": next2}); r.status != http.StatusNoContent {
		t.Fatalf("API password change: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/home", tok1, "", nil); r.status != http.StatusOK {
		t.Errorf("the token that changed the password: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/home", tok2, "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("another token after the app's change: %d", r.status)
	}
	if b1.loggedIn() || b3.loggedIn() {
		t.Error("a portal session outlived the app's password change")
	}
	if !bob.loggedIn() {
		t.Error("another subscriber's session ended")
	}
}
