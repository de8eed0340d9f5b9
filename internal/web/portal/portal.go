// Package portal is the subscriber's personal account on the web: login,
// balance, tariffs, packages, payments and statements, traffic, requests,
// chat and profile. Handlers only translate: they parse the request, call a
// capability (billing, subscriber, payment, support, content, traffic) and
// render. Every query is scoped by the logged-in account; an id that belongs
// to someone else is answered as if it did not exist (404).
package portal

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/kabinet-billing/kabinet/internal/autopay"
	"github.com/kabinet-billing/kabinet/internal/derrors"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/push"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/support"
	"github.com/kabinet-billing/kabinet/internal/suspension"
	"github.com/kabinet-billing/kabinet/internal/telegram"
	"github.com/kabinet-billing/kabinet/internal/traffic"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

// Deps are what the portal calls. Payments and Traffic may be nil: the Pay
// button and the traffic page then say so instead of failing.
type Deps struct {
	DB          *store.DB
	Biller      *billing.Biller
	Subscribers *subscriber.Directory
	Payments    *payment.Service
	Processor   string // the card processor the Pay button uses
	Traffic     *traffic.Store
	Support     *support.Service
	Statements  *statement.Service
	Autopay     *autopay.Service // nil: no autopay pages
	Promises    *promise.Service
	Suspensions *suspension.Service // nil: no suspension pages
	Receipts    *fiscal.Queue       // nil: no fiscal receipts to show
	Notify      *notify.Notifier    // nil: no notification choices
	// Telegram is the subscribers' bot and TelegramLinks its chats; nil:
	// the profile offers no Telegram.
	Telegram      TelegramBot
	TelegramLinks *telegram.Links
	// Company lets company clients' employees into their cabinet
	// (/company); nil: no company cabinet.
	Company *company.Service
	Push    *push.Service // nil: no push notifications
	// Documents lists the organisation's invoices and acts in its cabinet
	// and downloads them; nil: the card says there are none yet.
	Documents *documents.Service
}

// Portal serves the subscriber's pages.
type Portal struct {
	p         *platform.Platform
	d         Deps
	newsCache newsCache
}

// Register mounts the portal at / on the platform's mux.
func Register(p *platform.Platform, d Deps) *Portal {
	po := &Portal{p: p, d: d}
	p.Page("GET /login", po.loginForm)
	p.Page("POST /login", po.login)
	p.Page("POST /logout", po.logout)
	p.Page("POST /lang", po.setLang)
	p.Page("GET /{$}", po.withSummary(po.home))
	p.Page("GET /tariffs", po.auth(po.tariffs))
	p.Page("GET /tariffs/{code}", po.auth(po.tariffConfirm))
	p.Page("POST /tariffs/{code}", po.auth(po.tariffChange))
	p.Page("POST /tariffs/cancel", po.auth(po.tariffCancel))
	p.Page("GET /packages", po.auth(po.packages))
	p.Page("GET /packages/{code}", po.auth(po.packageConfirm))
	p.Page("POST /packages/{code}", po.auth(po.packageConnect))
	p.Page("GET /subscriptions/{id}", po.auth(po.disconnectConfirm))
	p.Page("POST /subscriptions/{id}", po.auth(po.disconnect))
	p.Page("GET /payments", po.auth(po.payments))
	p.Page("POST /payments/card", po.auth(po.payCard))
	p.Page("GET /payments/howto", po.auth(po.howToPay))
	p.Page("GET /payments/{id}", po.auth(po.paymentStatus))
	p.Page("GET /payments/{id}/state", po.auth(po.paymentPoll))
	p.Page("GET /payments/{id}/qr.svg", po.auth(po.paymentQR))
	p.Page("GET /autopay", po.auth(po.autopayPage))
	p.Page("POST /autopay", po.auth(po.autopayEnable))
	p.Page("POST /autopay/start", po.auth(po.autopayStart))
	p.Page("POST /autopay/off", po.auth(po.autopayDisable))
	p.Page("GET /promise", po.auth(po.promise))
	p.Page("POST /promise", po.auth(po.takePromise))
	p.Page("GET /suspension", po.auth(po.suspension))
	p.Page("POST /suspension", po.auth(po.startSuspension))
	p.Page("POST /suspension/resume", po.auth(po.resumeSuspension))
	p.Page("POST /suspension/extend", po.auth(po.extendSuspension))
	p.Page("GET /bonus", po.auth(po.bonus))
	p.Page("GET /bonus/balance", po.auth(po.bonusBalance))
	p.Page("POST /bonus", po.auth(po.spendBonus))
	p.Page("GET /statement", po.auth(po.statement))
	p.Page("GET /traffic", po.auth(po.traffic))
	p.Page("GET /requests", po.auth(po.requests))
	p.Page("POST /requests", po.auth(po.fileRequest))
	p.Page("GET /requests/{id}", po.auth(po.request))
	p.Page("POST /requests/{id}", po.auth(po.replyRequest))
	p.Page("GET /chat", po.auth(po.chat))
	p.Page("GET /chat/messages", po.auth(po.chatMessages))
	p.Page("POST /chat", po.auth(po.say))
	p.Page("GET /profile", po.auth(po.profile))
	p.Page("POST /profile", po.auth(po.saveProfile))
	p.Page("POST /profile/password", po.auth(po.changePassword))
	p.Page("POST /profile/telegram", po.auth(po.linkTelegram))
	p.Page("POST /profile/telegram/unlink", po.auth(po.unlinkTelegram))
	p.Page("POST /profile/notifications", po.auth(po.saveNotifications))
	if d.Company != nil {
		po.registerCompany()
	}
	p.Page("POST /profile/push", po.auth(po.subscribePush))
	p.Page("POST /profile/push/{id}/delete", po.auth(po.removePush))
	return po
}

// auth lets only a logged-in subscriber through, with the account loaded.
func (po *Portal) auth(h func(http.ResponseWriter, *http.Request, subscriber.Account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := po.p.Sessions.GetInt64(r.Context(), platform.SessionAccount)
		if id == 0 {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		a, err := po.d.Subscribers.ByID(r.Context(), id)
		if errors.Is(err, derrors.NotFound) || (err == nil && a.Status == billing.StatusClosed) {
			po.loggedOut(w, r)
			return
		}
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		h(w, r, a)
	}
}

// withSummary is auth for a page that shows the account's summary (the
// brief one: see billing.Brief): the summary's query reads the account as
// well, so the page needs no other.
func (po *Portal) withSummary(h func(http.ResponseWriter, *http.Request, billing.Summary)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := po.p.Sessions.GetInt64(r.Context(), platform.SessionAccount)
		if id == 0 && po.isEmployee(r.Context()) {
			http.Redirect(w, r, "/company", http.StatusSeeOther)
			return
		}
		if id == 0 {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		s, err := po.d.Biller.Brief(r.Context(), id)
		if errors.Is(err, derrors.NotFound) || (err == nil && s.Status == billing.StatusClosed) {
			po.loggedOut(w, r)
			return
		}
		if err != nil {
			po.p.Fail(w, r, err)
			return
		}
		h(w, r, s)
	}
}

// loggedOut ends the session of an account that is gone or closed.
func (po *Portal) loggedOut(w http.ResponseWriter, r *http.Request) {
	po.p.Sessions.Destroy(r.Context())
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// view makes the page's common data with the subscriber shown in the header.
func (po *Portal) view(r *http.Request, a subscriber.Account, title, nav string, d any) platform.View {
	v := po.p.NewView(r, title, d)
	v.Nav = nav
	v.User = &platform.User{ID: a.ID, Login: a.Login, Name: a.Name, ContractNo: a.ContractNo}
	return v
}

func (po *Portal) render(w http.ResponseWriter, r *http.Request, status int, page string, v platform.View) {
	po.p.HTML(w, r, status, "portal/"+page, "", v)
}

// pathID reads a numeric id from the path; anything else is a 404.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// redirect after a POST, with a message for the next page.
func (po *Portal) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		po.p.Flash(r, flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// redirectErr is redirect with an error for the next page, shown as one.
func (po *Portal) redirectErr(w http.ResponseWriter, r *http.Request, to, msg string) {
	po.p.FlashError(r, msg)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// refusal is the message for a capability's refusal that the page shows
// beside its form ("refused.<code>"), or "" when err is none of those.
func (po *Portal) refusal(err error) string {
	_, id := po.p.I18n.Refusal(err, "refused.")
	return id
}
