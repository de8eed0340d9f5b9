package portal

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

// The voluntary suspension: the page shows the suspension scheduled or
// running (with "resume now" and a form to extend it to a later last day,
// quoted and confirmed as a start is), or a form of a start date and a
// number of days. The form asks for a quote first (GET: the tariff fees
// not charged, the fee, the end); the quote's page confirms it (POST). A
// refusal is shown beside the field it is about, above the form otherwise.

type suspensionData struct {
	Current *suspension.Suspension
	Quote   *suspension.Quote // shown with the confirm button when it may be had
	Rules   suspension.Rules
	From    string // the form's values
	Days    string
	Today   string // the earliest and latest start the date input offers
	Latest  string
	Field   string // the input at fault
	Error   string // translated refusal, beside Field or above the form
	// Extending the current suspension: the last day asked for (the
	// form's value), the days in all it makes, the quote of the whole
	// suspension so extended, with what of its fee is still to pay, and
	// the last days the form offers.
	Last        string
	ExtendDays  int
	ExtendQuote *suspension.Quote
	ExtendFee   money.Amount
	LastMin     string
	LastMax     string
}

func (po *Portal) suspensionMessage(lang string, q suspension.Quote, err error) string {
	id := "suspension.error." + derrors.Code(err)
	if derrors.Code(err) == "" || !po.p.I18n.Has(id) {
		return ""
	}
	return po.p.I18n.T(lang, id, q.Figures(lang, po.p.Zone))
}

func (po *Portal) suspensionPage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, d suspensionData) {
	svc := po.d.Suspensions
	if svc == nil {
		po.p.NotFound(w, r)
		return
	}
	cur, err := svc.Current(r.Context(), a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	today := svc.Day(svc.Clock.Now())
	d.Current, d.Rules = cur, svc.Rules
	if cur != nil {
		d.LastMin = cur.EndsAt.In(po.p.Zone).Format("2006-01-02")
		d.LastMax = cur.StartsAt.In(po.p.Zone).AddDate(0, 0, svc.Rules.MaxDays-1).Format("2006-01-02")
		if d.Last == "" {
			d.Last = d.LastMin
		}
	}
	d.Today, d.Latest = today.Format("2006-01-02"), today.AddDate(0, 0, svc.Rules.AheadDays).Format("2006-01-02")
	if d.From == "" {
		d.From = d.Today
	}
	if d.Days == "" {
		d.Days = strconv.Itoa(svc.Rules.MinDays)
	}
	po.render(w, r, status, "suspension", po.view(r, a, "suspension.title", "home", d))
}

// suspensionForm reads the start and the days; a bad value is the
// field's refusal.
func (po *Portal) suspensionForm(from, days string) (time.Time, int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(days))
	if err != nil || n <= 0 {
		return time.Time{}, 0, suspension.ErrDays
	}
	t, err := po.d.Suspensions.ParseDate(strings.TrimSpace(from))
	return t, n, err
}

// suspension is the page; with from and days in the query it is the quote.
func (po *Portal) suspension(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Suspensions == nil {
		po.p.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	d := suspensionData{From: q.Get("from"), Days: q.Get("days")}
	if q.Has("last") {
		po.extensionQuote(w, r, a, q.Get("last"))
		return
	}
	if !q.Has("from") && !q.Has("days") {
		po.suspensionPage(w, r, a, http.StatusOK, d)
		return
	}
	lang := po.p.LangOf(r)
	from, days, err := po.suspensionForm(d.From, d.Days)
	var quote suspension.Quote
	if err == nil {
		if quote, err = po.d.Suspensions.Quote(r.Context(), a.ID, from, days); err != nil {
			po.p.Fail(w, r, err)
			return
		}
		err = quote.Refusal
	} else {
		quote.Rules = po.d.Suspensions.Rules
	}
	status := http.StatusOK
	if err != nil {
		if status, _ = po.p.I18n.Refusal(err, "suspension.error."); status == 0 {
			po.p.Fail(w, r, err)
			return
		}
		d.Field, d.Error = derrors.Field(err), po.suspensionMessage(lang, quote, err)
	} else {
		d.Quote = &quote
	}
	po.suspensionPage(w, r, a, status, d)
}

func (po *Portal) startSuspension(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Suspensions == nil {
		po.p.NotFound(w, r)
		return
	}
	d := suspensionData{From: r.PostFormValue("from"), Days: r.PostFormValue("days")}
	from, days, err := po.suspensionForm(d.From, d.Days)
	if err == nil {
		var u suspension.Suspension
		if u, err = po.d.Suspensions.Start(r.Context(), suspension.Request{AccountID: a.ID, From: from, Days: days, Channel: suspension.ChannelPortal}); err == nil {
			flash := "suspension.scheduled"
			if u.Frozen() {
				flash = "suspension.started"
			}
			po.redirect(w, r, "/suspension", flash)
			return
		}
	}
	status, _ := po.p.I18n.Refusal(err, "suspension.error.")
	if status == 0 {
		po.p.Fail(w, r, err)
		return
	}
	quote, qerr := po.d.Suspensions.Quote(r.Context(), a.ID, from, days)
	if qerr != nil {
		po.p.Fail(w, r, qerr)
		return
	}
	d.Field, d.Error = derrors.Field(err), po.suspensionMessage(po.p.LangOf(r), quote, err)
	po.suspensionPage(w, r, a, status, d)
}

// extensionQuote is the page with the quote of extending the current
// suspension to last (a form's date; one that is no date is ErrLonger's
// field), or the refusal beside the field.
func (po *Portal) extensionQuote(w http.ResponseWriter, r *http.Request, a subscriber.Account, last string) {
	d := suspensionData{Last: last}
	q := suspension.Quote{Rules: po.d.Suspensions.Rules}
	t, err := po.d.Suspensions.ParseDate(strings.TrimSpace(last))
	if err != nil {
		err = suspension.ErrLonger
	} else {
		var cur *suspension.Suspension
		if q, cur, err = po.d.Suspensions.QuoteExtension(r.Context(), suspension.Request{AccountID: a.ID, Last: t}); err != nil {
			po.p.Fail(w, r, err)
			return
		}
		if err = q.Refusal; err == nil {
			d.ExtendQuote, d.ExtendDays = &q, q.Days
			if d.ExtendFee = q.Fee; cur.Frozen() {
				d.ExtendFee = q.Fee - cur.Fee
			}
		}
	}
	status := http.StatusOK
	if err != nil {
		if status, _ = po.p.I18n.Refusal(err, "suspension.error."); status == 0 {
			po.p.Fail(w, r, err)
			return
		}
		d.Field, d.Error = "last", po.suspensionMessage(po.p.LangOf(r), q, err)
		if derrors.Field(err) == "" {
			d.Field = ""
		}
	}
	po.suspensionPage(w, r, a, status, d)
}

func (po *Portal) extendSuspension(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Suspensions == nil {
		po.p.NotFound(w, r)
		return
	}
	days, err := strconv.Atoi(r.PostFormValue("days"))
	if err != nil {
		days = 0 // refused as not longer
	}
	if _, err = po.d.Suspensions.Extend(r.Context(), suspension.Request{AccountID: a.ID, Days: days, Channel: suspension.ChannelPortal}); err == nil {
		po.redirect(w, r, "/suspension", "suspension.extended")
		return
	}
	status, _ := po.p.I18n.Refusal(err, "suspension.error.")
	if status == 0 {
		po.p.Fail(w, r, err)
		return
	}
	po.suspensionPage(w, r, a, status, suspensionData{Error: po.suspensionMessage(po.p.LangOf(r), suspension.Quote{Rules: po.d.Suspensions.Rules, Days: days}, err)})
}

func (po *Portal) resumeSuspension(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Suspensions == nil {
		po.p.NotFound(w, r)
		return
	}
	u, err := po.d.Suspensions.Resume(r.Context(), a.ID, suspension.ChannelPortal, "")
	if err != nil {
		status, _ := po.p.I18n.Refusal(err, "suspension.error.")
		if status == 0 {
			po.p.Fail(w, r, err)
			return
		}
		po.suspensionPage(w, r, a, status, suspensionData{Error: po.suspensionMessage(po.p.LangOf(r), suspension.Quote{Rules: po.d.Suspensions.Rules}, err)})
		return
	}
	flash := "suspension.resumed"
	if u.State == suspension.StateCancelled {
		flash = "suspension.cancelled"
	}
	po.redirect(w, r, "/suspension", flash)
}
