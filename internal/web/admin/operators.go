package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/statement"
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
	// Either end may be open: the log from its first entry, up to now.
	now := a.p.Clock.Now().In(a.p.Zone)
	all := statement.Period{From: time.Date(statement.MinYear, 1, 1, 0, 0, 0, 0, a.p.Zone), To: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, a.p.Zone)}
	p, msg := a.periodOf(r, d.From, d.To, all, statement.MaxStatementDays*10)
	if msg == "" && d.From != "" {
		d.Q.From = p.From
	}
	if msg == "" && d.To != "" {
		d.Q.To = p.End()
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
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnprocessableEntity
	}
	a.renderError(w, r, status, "audit", "admin.audit.title", "audit", d, msg)
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
	Channel string
	Letters []notify.Queued
	L       platform.Listing
	// Counts: channel → status → messages, over the whole queue.
	Counts    map[string]map[string]int
	Channels  []string // every channel, for the filter and the form
	Statuses  []string
	Audiences []string
	// Unsent: no mail server is configured, so no letter leaves the queue.
	Unsent bool
	// Readable: the letters' text is shown. Only while nothing is sent
	// (the demo, a provider before its mail server): then this page is the
	// only place to read them. Credentials letters hold a password, so only
	// operators who may reset it anyway read them. Short messages
	// (Telegram, SMS) tell a balance or a broadcast and are always shown.
	Readable bool
	// The broadcast form: what it holds, and the preview's count.
	Form      broadcastForm
	Preview   int
	Previewed bool
	Cities    []billing.City
	Tariffs   []billing.Tariff
}

type broadcastForm struct {
	Channel, Audience, Value, Text string
}

// mail shows the outgoing queue of every channel: what was sent, what
// waits for a retry, what failed and why; and the broadcast form.
func (a *Admin) mail(w http.ResponseWriter, r *http.Request) {
	a.mailPage(w, r, http.StatusOK, broadcastForm{Channel: notify.ChannelTelegram, Audience: "all"}, -1)
}

func (a *Admin) mailPage(w http.ResponseWriter, r *http.Request, status int, f broadcastForm, preview int) {
	var d mailData
	d.Status = r.URL.Query().Get("status")
	d.Channel = r.URL.Query().Get("channel")
	d.Channels, d.Statuses = notify.Channels, []string{notify.StatusQueued, notify.StatusSending, notify.StatusSent, notify.StatusFailed}
	d.Audiences = []string{"all", "city", "tariff", "login"}
	d.Unsent = !a.d.Office.Mail.Sends()
	d.Readable = d.Unsent && opOf(r).Can(operator.EditSubscribers)
	d.Form, d.Preview, d.Previewed = f, preview, preview >= 0
	ctx := r.Context()
	var err error
	if d.Cities, err = billing.Cities(ctx, a.d.Office.DB); err == nil {
		d.Tariffs, err = billing.Tariffs(ctx, a.d.Office.DB, 0, false)
	}
	d.L = platform.ListingOf(r, 50, true, "date", "to", "subject", "status", "attempts")
	d.L.Path = "/admin/mail" // also when a broadcast preview (a POST) renders the page
	if err == nil && a.d.Office.Mail != nil {
		if d.Letters, d.L.Total, err = a.d.Office.Mail.Page(ctx, notify.Filter{Channel: d.Channel, Status: d.Status,
			Sort: d.L.Sort, Desc: d.L.Desc, Offset: d.L.Offset(), Limit: d.L.Per}); err == nil {
			d.Counts, err = a.d.Office.Mail.Counts(ctx)
		}
	}
	if err != nil {
		a.p.Fail(w, r, err)
		return
	}
	a.render(w, r, status, "mail", "admin.mail.title", "mail", d)
}

// broadcast previews (action=preview: how many it reaches) or queues an
// operators' message to a city, a tariff, one subscriber or everyone;
// queueing is audited in its transaction.
func (a *Admin) broadcast(w http.ResponseWriter, r *http.Request) {
	f := broadcastForm{Channel: r.PostFormValue("channel"), Audience: r.PostFormValue("audience"),
		Value: strings.TrimSpace(r.PostFormValue("value")), Text: r.PostFormValue("text")}
	b := notify.Broadcast{Channel: f.Channel, Text: f.Text}
	switch f.Audience {
	case "all":
		b.Audience.All = true
	case "city":
		b.Audience.City = f.Value
	case "tariff":
		b.Audience.Tariff = f.Value
	case "login":
		b.Audience.Login = f.Value
	}
	if a.d.Office.Mail == nil {
		a.p.NotFound(w, r)
		return
	}
	if r.PostFormValue("action") == "preview" {
		k, err := a.d.Office.Mail.Preview(r.Context(), b)
		if err != nil {
			a.failed(w, r, "/admin/mail", err)
			return
		}
		a.mailPage(w, r, http.StatusOK, f, k)
		return
	}
	res, err := a.d.Office.Mail.SendBroadcast(r.Context(), a.who(r).Actor(), b)
	if err != nil {
		a.failed(w, r, "/admin/mail", err)
		return
	}
	msg := "admin.broadcast.queued"
	if res.Queued == 0 {
		msg = "admin.broadcast.none"
	}
	a.done(w, r, "/admin/mail?channel="+b.Channel, msg)
}
