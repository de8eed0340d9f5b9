package admin

import (
	"errors"
	"math"
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type loginData struct {
	Login string
}

func (a *Admin) loginForm(w http.ResponseWriter, r *http.Request) {
	if a.p.Sessions.GetInt64(r.Context(), sessionOperator) != 0 {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "login", "admin.login.title", "", loginData{})
}

// login checks the operator's password. The per-login lockout lives in the
// database (operator.Store), so it holds across instances and restarts; the
// per-address limit here stops one address spraying many logins.
func (a *Admin) login(w http.ResponseWriter, r *http.Request) {
	login := r.PostFormValue("login")
	now := a.p.Clock.Now()
	key := "admin:" + platform.AddressKey(r.RemoteAddr)
	fail := func(status int, id string, data map[string]any) {
		v := a.p.NewView(r, "admin.login.title", nil)
		v.D = page{X: loginData{Login: login}, Error: a.p.I18n.T(v.Lang, id, data), Sandbox: a.d.Sandbox}
		a.p.HTML(w, r, status, "admin/login", "admin_layout", v)
	}
	if blocked, wait := a.byAddress.Blocked(key, now); blocked {
		fail(http.StatusTooManyRequests, "admin.login.error.locked", map[string]any{"Minutes": int(math.Ceil(max(wait.Minutes(), 1)))})
		return
	}
	a.byAddress.Spend(key, now)
	op, err := a.d.Office.Operators.Authenticate(r.Context(), login, r.PostFormValue("password"), platform.AddressKey(r.RemoteAddr))
	switch {
	case errors.Is(err, operator.ErrLocked):
		fail(http.StatusTooManyRequests, "admin.login.error.locked", map[string]any{"Minutes": int(math.Ceil(a.d.Office.Operators.Lockout.LockFor.Minutes()))})
		return
	case errors.Is(err, operator.ErrBadPassword):
		fail(http.StatusUnauthorized, "admin.login.error.bad", nil)
		return
	case err != nil:
		a.p.Fail(w, r, err)
		return
	}
	// A new session token at login: one planted before is worthless.
	if err := a.p.Sessions.RenewToken(r.Context()); err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.p.Sessions.Put(r.Context(), sessionOperator, op.ID)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (a *Admin) logout(w http.ResponseWriter, r *http.Request) {
	a.p.Sessions.Remove(r.Context(), sessionOperator)
	if err := a.p.Sessions.RenewToken(r.Context()); err != nil {
		a.p.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

type homeData struct {
	Debt      any
	Open      int
	NewApps   int
	MailQueue int
}

func (a *Admin) home(w http.ResponseWriter, r *http.Request) {
	var d homeData
	op := opOf(r)
	if op.Can(operator.ViewDebt) {
		debt, err := a.d.Reports.Debt(r.Context())
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		d.Debt = debt
	}
	if op.Can(operator.Support) && a.d.Support != nil {
		open, err := a.d.Support.OpenRequests(r.Context(), 500)
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		apps, err := a.d.Support.Applications(r.Context(), "new", 500)
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
		d.Open, d.NewApps = len(open), len(apps)
	}
	a.render(w, r, http.StatusOK, "home", "admin.home.title", "home", d)
}
