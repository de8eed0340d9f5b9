package portal

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// The promised payment: the page tells what a promise taken now gives
// (until when, up to how much, its fee) or why there is none; the form
// takes it. A refusal is shown beside the amount when it is the amount's,
// above the form otherwise.

type promiseData struct {
	Offer   promise.Offer
	Amount  string // the form's value
	Field   string // the input at fault
	Error   string // translated refusal, shown beside Field or above the form
	Refusal string // translated reason no promise is offered now
}

// promiseMessage translates a refusal of the promise capability, with the
// figures its texts name; "" for an error that is no refusal.
func (po *Portal) promiseMessage(lang string, o promise.Offer, err error) string {
	id := "promise.error." + derrors.Code(err)
	if derrors.Code(err) == "" || !po.p.I18n.Has(id) {
		return ""
	}
	return po.p.I18n.T(lang, id, o.Figures(lang, po.p.Zone))
}

func (po *Portal) promisePage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, d promiseData) {
	o, err := po.d.Promises.Offer(r.Context(), a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	d.Offer = o
	lang := po.p.LangOf(r)
	if o.Refusal != nil {
		d.Refusal = po.promiseMessage(lang, o, o.Refusal)
	}
	if d.Amount == "" {
		d.Amount = o.Amount.String()
	}
	po.render(w, r, status, "promise", po.view(r, a, "promise.title", "home", d))
}

func (po *Portal) promise(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.promisePage(w, r, a, http.StatusOK, promiseData{})
}

func (po *Portal) takePromise(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	entered := r.PostFormValue("amount")
	d := promiseData{Amount: entered}
	amount, perr := money.Parse(entered)
	if perr != nil {
		amount = 0 // refused below as the amount's
	}
	_, err := po.d.Promises.Take(r.Context(), promise.Request{AccountID: a.ID, Amount: amount, Channel: promise.ChannelPortal})
	if err == nil {
		po.redirect(w, r, "/", "promise.taken")
		return
	}
	status, _ := po.p.I18n.Refusal(err, "promise.error.")
	if status == 0 {
		po.p.Fail(w, r, err)
		return
	}
	o, oerr := po.d.Promises.Offer(r.Context(), a.ID)
	if oerr != nil {
		po.p.Fail(w, r, oerr)
		return
	}
	d.Field = derrors.Field(err)
	d.Error = po.promiseMessage(po.p.LangOf(r), o, err)
	po.promisePage(w, r, a, status, d)
}
