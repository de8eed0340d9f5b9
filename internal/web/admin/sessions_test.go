package admin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/apitoken"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// cookie is the client's session cookie.
func (c *client) cookie() string {
	u, _ := url.Parse(c.e.srv.URL)
	for _, k := range c.c.Jar.Cookies(u) {
		if k.Name == "kabinet_session" {
			return k.Value
		}
	}
	return ""
}

// TestOperatorPasswordEndsSessions: a new password for an operator ends
// every session of theirs; an admin who changes their own stays logged in
// under a new session id.
func TestOperatorPasswordEndsSessions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	admin1, admin2 := e.login(operator.RoleAdmin), e.login(operator.RoleAdmin)
	mgr, cashier := e.login(operator.RoleManager), e.login(operator.RoleCashier)
	id := func(login string) int64 {
		o, err := e.office.Operators.ByLogin(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	loggedIn := func(c *client) bool {
		code, _ := c.get("/admin/")
		return code == http.StatusOK
	}
	if code, _ := admin1.post(fmt.Sprintf("/admin/operators/%d", id("manager")), url.Values{"password": {"another-long-pw-1"}}); code != http.StatusSeeOther {
		t.Fatalf("manager's new password: %d", code)
	}
	if loggedIn(mgr) {
		t.Error("the manager's session outlived the password")
	}
	if !loggedIn(cashier) || !loggedIn(admin2) {
		t.Error("another operator's session ended")
	}
	before := admin1.cookie()
	if code, _ := admin1.post(fmt.Sprintf("/admin/operators/%d", id("admin")), url.Values{"password": {"another-long-pw-2"}}); code != http.StatusSeeOther {
		t.Fatalf("own new password: %d", code)
	}
	if loggedIn(admin2) {
		t.Error("the admin's other session outlived the password")
	}
	if !loggedIn(admin1) {
		t.Error("the admin who changed the password was logged out")
	}
	if after := admin1.cookie(); after == before || after == "" {
		t.Errorf("session id kept across the password change: %q", after)
	}
	// An edit without a password ends nothing.
	if code, _ := admin1.post(fmt.Sprintf("/admin/operators/%d", id("cashier")), url.Values{"unlock": {"1"}}); code != http.StatusSeeOther || !loggedIn(cashier) {
		t.Errorf("an edit without a password: %d, cashier logged in %v", code, loggedIn(cashier))
	}
}

// TestResetEndsSubscriberSessions: the provider's reset of a subscriber's
// password ends their web sessions and API tokens.
func TestResetEndsSubscriberSessions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a, err := e.office.Dir.ByLogin(ctx, "ivanov")
	if err != nil {
		t.Fatal(err)
	}
	// A portal session and an app token of the subscriber.
	sctx, err := e.p.Sessions.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	e.p.Sessions.Put(sctx, platform.SessionAccount, a.ID)
	session, _, err := e.p.Sessions.Commit(sctx)
	if err != nil {
		t.Fatal(err)
	}
	tokens := apitoken.New(e.office.DB, e.clk)
	secret, _, err := tokens.Issue(ctx, a.ID, "phone")
	if err != nil {
		t.Fatal(err)
	}
	c := e.login(operator.RoleManager)
	code, loc := c.post(fmt.Sprintf("/admin/subscribers/%d/password", a.ID), url.Values{"confirmed_by": {"паспорт в офисе"}})
	if code != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", code, loc)
	}
	sctx, err = e.p.Sessions.Load(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	if id := e.p.Sessions.GetInt64(sctx, platform.SessionAccount); id != 0 {
		t.Error("the subscriber's web session outlived the reset")
	}
	if _, err := tokens.Check(ctx, secret); !errors.Is(err, apitoken.ErrBadToken) {
		t.Errorf("the subscriber's API token after the reset: %v", err)
	}
	if code, _ := c.get("/admin/"); code != http.StatusOK {
		t.Errorf("the operator who reset it was logged out: %d", code)
	}
}
