package admin

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type auditData struct {
	Q       operator.AuditQuery
	From    string
	To      string
	Entries []auditRow
	L       platform.Listing
}

func (a *Admin) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l := platform.ListingOf(r, 100, true, "at")
	d := auditData{Q: operator.AuditQuery{Operator: q.Get("operator"), Action: q.Get("action"), Object: q.Get("object"), Text: q.Get("text"),
		Limit: l.Per, Offset: l.Offset(), Oldest: !l.Desc}, From: q.Get("from"), To: q.Get("to")}
	if t, err := time.ParseInLocation("2006-01-02", d.From, a.p.Zone); err == nil {
		d.Q.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", d.To, a.p.Zone); err == nil {
		d.Q.To = t.AddDate(0, 0, 1)
	}
	entries, err := a.d.Office.Operators.Search(r.Context(), d.Q)
	if err == nil {
		l.Total, err = a.d.Office.Operators.AuditCount(r.Context(), d.Q)
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	d.Entries, d.L = a.auditRows(r, entries), l
	a.render(w, r, http.StatusOK, "audit", "admin.audit.title", "audit", d)
}

type operatorsData struct {
	Operators []operator.Operator
	Roles     []operator.Role
	Now       time.Time
	L         platform.Listing
}

func (a *Admin) operators(w http.ResponseWriter, r *http.Request) {
	list, err := a.d.Office.Operators.List(r.Context())
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	l := platform.ListingOf(r, 50, false, "login", "name", "role", "last_login")
	list = platform.SortPage(&l, list, map[string]func(x, y operator.Operator) int{
		"login":      func(x, y operator.Operator) int { return strings.Compare(x.Login, y.Login) },
		"name":       func(x, y operator.Operator) int { return platform.Fold(x.Name, y.Name) },
		"role":       func(x, y operator.Operator) int { return strings.Compare(string(x.Role), string(y.Role)) },
		"last_login": func(x, y operator.Operator) int { return x.LastLoginAt.Compare(y.LastLoginAt) },
	})
	a.render(w, r, http.StatusOK, "operators", "admin.operators.title", "operators", operatorsData{Operators: list, Roles: operator.Roles, Now: a.p.Clock.Now(), L: l})
}

func (a *Admin) addOperator(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	role, err := operator.ParseRole(f("role"))
	if err != nil {
		a.failed(w, r, "/admin/operators", err)
		return
	}
	w2 := a.who(r)
	if _, err := a.d.Office.Operators.Add(r.Context(), w2.Op.Actor(w2.Address), operator.NewOperator{Login: f("login"), Name: f("name"), Email: f("email"), Role: role, Password: f("password")}); err != nil {
		a.failed(w, r, "/admin/operators", err)
		return
	}
	a.done(w, r, "/admin/operators", "admin.flash.saved")
}

// updateOperator changes role, disables or enables, unlocks, or sets a new
// password; the operator store audits it.
func (a *Admin) updateOperator(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.p.NotFound(w, r)
		return
	}
	f := r.PostFormValue
	var c operator.Change
	if s := f("role"); s != "" {
		role, err := operator.ParseRole(s)
		if err != nil {
			a.failed(w, r, "/admin/operators", err)
			return
		}
		c.Role = &role
	}
	switch f("disabled") {
	case "1":
		t := true
		c.Disabled = &t
	case "0":
		t := false
		c.Disabled = &t
	}
	if pw := f("password"); strings.TrimSpace(pw) != "" {
		c.Password = &pw
	}
	c.Unlock = f("unlock") != ""
	w2 := a.who(r)
	if _, err := a.d.Office.Operators.Update(r.Context(), w2.Op.Actor(w2.Address), id, c); err != nil {
		a.failed(w, r, "/admin/operators", err)
		return
	}
	if c.Password != nil {
		// Every session of the operator ends with the old password; an
		// admin who changed their own goes on under a new token.
		err := a.p.EndSessions(r.Context(), sessionOperator, id)
		if err == nil && id == w2.Op.ID {
			err = a.p.Sessions.RenewToken(r.Context())
		}
		if err != nil {
			a.p.Fail(w, r, err)
			return
		}
	}
	a.done(w, r, "/admin/operators", "admin.flash.saved")
}

type mailData struct {
	Status  string
	Letters []notify.Queued
	L       platform.Listing
	// Unsent: no mail server is configured, so nothing leaves the queue.
	Unsent bool
	// Readable: the letters' text is shown. Only while nothing is sent
	// (the demo, a provider before its mail server): then this page is the
	// only place to read them. Credentials letters hold a password, so only
	// operators who may reset it anyway read them.
	Readable bool
}

// mail shows the outgoing queue: what was sent, what waits for a retry.
func (a *Admin) mail(w http.ResponseWriter, r *http.Request) {
	var d mailData
	d.Status = r.URL.Query().Get("status")
	d.Unsent = !a.d.Office.Mail.Sends()
	d.Readable = d.Unsent && opOf(r).Can(operator.EditSubscribers)
	if a.d.Office.Mail != nil {
		var err error
		if d.Letters, err = a.d.Office.Mail.List(r.Context(), 0, d.Status, 1000); err != nil {
			a.p.Fail(w, r, err)
			return
		}
	}
	// The newest thousand letters of the status chosen, sorted and paged here.
	d.L = platform.ListingOf(r, 50, true, "date", "to", "subject", "status", "attempts")
	d.Letters = platform.SortPage(&d.L, d.Letters, map[string]func(x, y notify.Queued) int{
		"date":     func(x, y notify.Queued) int { return cmp.Compare(x.ID, y.ID) },
		"to":       func(x, y notify.Queued) int { return platform.Fold(x.To, y.To) },
		"subject":  func(x, y notify.Queued) int { return platform.Fold(x.Subject, y.Subject) },
		"status":   func(x, y notify.Queued) int { return strings.Compare(x.Status, y.Status) },
		"attempts": func(x, y notify.Queued) int { return cmp.Compare(x.Attempts, y.Attempts) },
	})
	a.render(w, r, http.StatusOK, "mail", "admin.mail.title", "mail", d)
}
