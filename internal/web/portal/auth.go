package portal

import (
	"errors"
	"math"
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type loginData struct {
	Login   string
	Minutes int
}

func (po *Portal) loginForm(w http.ResponseWriter, r *http.Request) {
	if po.p.Sessions.GetInt64(r.Context(), platform.SessionAccount) != 0 {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if po.isEmployee(r.Context()) {
		http.Redirect(w, r, "/company", http.StatusSeeOther)
		return
	}
	po.p.HTML(w, r, http.StatusOK, "portal/login", "", po.p.NewView(r, "login.title", loginData{}))
}

func (po *Portal) login(w http.ResponseWriter, r *http.Request) {
	login := password.NormalLogin(r.PostFormValue("login"))
	pw := r.PostFormValue("password")
	now := po.p.Clock.Now()
	v := po.p.NewView(r, "login.title", loginData{Login: login})
	attempt, ok, wait := po.p.Logins.Allow(login, r.RemoteAddr, now)
	if !ok {
		po.limited(w, r, v, wait.Minutes())
		return
	}
	// A company's employee logs in with an e-mail address; a subscriber's
	// login never has one.
	if po.employeeLogin(w, r, login, pw, v, attempt) {
		return
	}
	a, err := po.d.Subscribers.Authenticate(r.Context(), login, pw)
	if errors.Is(err, subscriber.ErrBadPassword) {
		po.p.Logins.Failed(login, now)
		v.Error = po.p.I18n.T(v.Lang, "login.error.bad", nil)
		po.p.HTML(w, r, http.StatusUnauthorized, "portal/login", "", v)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	// A new token on login: a session id planted before login is worthless.
	if err := po.p.Sessions.RenewToken(r.Context()); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.p.Logins.Succeeded(attempt, now)
	po.p.Sessions.Put(r.Context(), platform.SessionAccount, a.ID)
	po.p.Sessions.Put(r.Context(), platform.SessionLang, platform.Lang(a.Lang))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (po *Portal) limited(w http.ResponseWriter, r *http.Request, v platform.View, minutes float64) {
	v.Error = po.p.I18n.T(v.Lang, "login.error.limited", map[string]any{"Count": int(math.Ceil(max(minutes, 1)))})
	po.p.HTML(w, r, http.StatusTooManyRequests, "portal/login", "", v)
}

func (po *Portal) logout(w http.ResponseWriter, r *http.Request) {
	lang := po.p.LangOf(r)
	if err := po.p.Sessions.Destroy(r.Context()); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.p.Sessions.Put(r.Context(), platform.SessionLang, lang)
	// The browser drops its HTTP cache of the site; app.js has already
	// deleted the offline snapshot (Cache Storage), and the worker's shell
	// holds nothing personal, so it stays.
	w.Header().Set("Clear-Site-Data", `"cache"`)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang switches the interface language and returns to the page.
func (po *Portal) setLang(w http.ResponseWriter, r *http.Request) {
	po.p.Sessions.Put(r.Context(), platform.SessionLang, platform.Lang(r.PostFormValue("lang")))
	http.Redirect(w, r, platform.LocalPath(r.PostFormValue("back"), "/", "/"), http.StatusSeeOther)
}
