package portal

import (
	"errors"
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/push"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type profileData struct {
	Account  subscriber.Account
	Telegram telegramData
	Push     *pushData     // nil: no push notifications on this server
	Notify   *notify.Prefs // nil: no notification choices
}

// pushData is the profile's notifications card: the key the browser
// subscribes with and the account's devices.
type pushData struct {
	Key     string
	Devices []push.Subscription
}

// profilePage renders the profile; field names the input msg is about
// ("" for the page).
func (po *Portal) profilePage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, field, msg string) {
	tg, err := po.telegram(r, a)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	d := profileData{Account: a, Telegram: tg}
	if po.d.Push != nil {
		devices, err := po.d.Push.List(r.Context(), a.ID)
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		d.Push = &pushData{Key: po.d.Push.PublicKey(), Devices: devices}
	}
	if po.d.Notify != nil {
		p, err := po.d.Notify.Prefs(r.Context(), a.ID)
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		d.Notify = &p
	}
	v := po.view(r, a, "profile.title", "profile", d)
	switch {
	case msg != "" && field != "":
		po.p.FieldError(&v, field, msg, nil)
	case msg != "":
		v.Error = po.p.I18n.T(v.Lang, msg, nil)
	}
	po.render(w, r, status, "profile", v)
}

// subscribePush keeps this browser's push subscription (app.js posts it
// after the subscriber allowed notifications).
func (po *Portal) subscribePush(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Push == nil {
		po.p.NotFound(w, r)
		return
	}
	_, err := po.d.Push.Subscribe(r.Context(), a.ID, push.Subscription{Endpoint: r.PostFormValue("endpoint"),
		P256dh: r.PostFormValue("p256dh"), Auth: r.PostFormValue("auth"), Device: push.DeviceName(r.UserAgent())})
	if msg := po.refusal(err); msg != "" {
		po.profilePage(w, r, a, http.StatusUnprocessableEntity, "", msg)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/profile", "push.enabled")
}

// removePush forgets one of the subscriber's devices.
func (po *Portal) removePush(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	id, ok := pathID(r, "id")
	if po.d.Push == nil || !ok {
		po.p.NotFound(w, r)
		return
	}
	err := po.d.Push.Remove(r.Context(), a.ID, id)
	if errors.Is(err, derrors.NotFound) {
		po.p.NotFound(w, r)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/profile", "push.removed")
}

func (po *Portal) profile(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.profilePage(w, r, a, http.StatusOK, "", "")
}

func (po *Portal) saveProfile(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	p := subscriber.Profile{
		Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone"),
		NotifyEmail: r.PostFormValue("notify_email") == "on", NotifySMS: r.PostFormValue("notify_sms") == "on",
		Lang: platform.Lang(r.PostFormValue("lang")),
	}
	err := po.d.Subscribers.UpdateProfile(r.Context(), a.ID, p)
	if errors.Is(err, derrors.Invalid) {
		a.Email, a.Phone, a.NotifyEmail, a.NotifySMS = p.Email, p.Phone, p.NotifyEmail, p.NotifySMS
		field, msg := derrors.Field(err), "profile.error.invalid"
		switch field {
		case "email":
			msg = "profile.error.email"
		case "phone":
			msg = "profile.error.phone"
		}
		po.profilePage(w, r, a, http.StatusUnprocessableEntity, field, msg)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.p.Sessions.Put(r.Context(), platform.SessionLang, p.Lang)
	po.redirect(w, r, "/profile", "profile.saved")
}

// saveNotifications stores the choice of every topic on every channel the
// form showed: a box left unticked is off.
func (po *Portal) saveNotifications(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Notify == nil {
		http.NotFound(w, r)
		return
	}
	p, err := po.d.Notify.Prefs(r.Context(), a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	// A channel the subscriber cannot be reached on was shown disabled
	// (and so not sent): its choices stay as they were.
	set := map[string]map[string]bool{}
	for _, t := range notify.Topics {
		set[t] = map[string]bool{}
		for _, ch := range p.Offered {
			if p.Reachable[ch] {
				set[t][ch] = r.PostFormValue("n."+t+"."+ch) == "on"
			}
		}
	}
	if err := po.d.Notify.SetPrefs(r.Context(), a.ID, set); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/profile", "notify.saved")
}

func (po *Portal) changePassword(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	next := r.PostFormValue("new")
	if next != r.PostFormValue("confirm") {
		po.profilePage(w, r, a, http.StatusUnprocessableEntity, "confirm", "password.error.mismatch")
		return
	}
	err := po.d.Subscribers.ChangePassword(r.Context(), a.ID, r.PostFormValue("current"), next, 0)
	if err == nil {
		// Every session and API token of the account ends with the old
		// password; this one goes on under a new token.
		err = po.p.EndSessions(r.Context(), platform.SessionAccount, a.ID)
	}
	if err == nil {
		err = po.p.Sessions.RenewToken(r.Context())
	}
	switch {
	case errors.Is(err, subscriber.ErrBadPassword):
		po.profilePage(w, r, a, http.StatusUnprocessableEntity, "current", "password.error.current")
	case errors.Is(err, subscriber.ErrWeakPassword):
		po.profilePage(w, r, a, http.StatusUnprocessableEntity, "new", "password.error.weak")
	case err != nil:
		po.p.Fail(w, r, err)
	default:
		po.redirect(w, r, "/profile", "password.changed")
	}
}

type trafficData struct {
	PeriodForm
	Until    string // the last day shown, YYYY-MM-DD
	Days     []traffic.DayUsage
	Max      int64
	In, Out  int64
	Sessions []traffic.Session
	Enabled  bool
}

func (po *Portal) traffic(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	// A wrong period is named beside its field over the last 30 days' chart.
	p, form, ok := po.period(r, statement.LastDays(po.p.Clock.Now(), po.p.Zone, 30), statement.MaxTrafficDays)
	status := http.StatusOK
	if !ok {
		status = http.StatusUnprocessableEntity
	}
	d := trafficData{PeriodForm: form, Until: p.ToISO(), Enabled: po.d.Traffic != nil}
	if po.d.Traffic != nil {
		var err error
		if d.Days, err = po.d.Traffic.Usage(r.Context(), a.ID, p.FromISO(), p.ToISO()); err != nil {
			po.p.Fail(w, r, err)
			return
		}
		if d.Sessions, err = po.d.Traffic.Sessions(r.Context(), a.ID, p.From, p.End(), 50); err != nil {
			po.p.Fail(w, r, err)
			return
		}
	}
	for _, x := range d.Days {
		d.In += x.InputOctets
		d.Out += x.OutputOctets
		d.Max = max(d.Max, x.InputOctets+x.OutputOctets)
	}
	po.render(w, r, status, "traffic", po.view(r, a, "traffic.title", "traffic", d))
}
