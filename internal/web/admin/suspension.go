package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/suspension"
)

// The subscriber card's voluntary suspension: the one scheduled or running
// (with "resume now"), the latest ones, and a form of a start and a number
// of days that shows the quote on the card (GET sfrom, sdays) before the
// operator confirms it (POST), audited.

func (a *Admin) suspensionCard(r *http.Request, id int64, d *cardData) error {
	ctx := r.Context()
	svc := a.d.Office.Suspensions
	var err error
	if d.Suspension, err = svc.Current(ctx, id); err != nil {
		return err
	}
	if d.Suspensions, err = svc.History(ctx, id, 5); err != nil {
		return err
	}
	q := r.URL.Query()
	d.SFrom, d.SDays = q.Get("sfrom"), q.Get("sdays")
	if d.SFrom == "" {
		d.SFrom = svc.Day(svc.Clock.Now()).Format("2006-01-02")
	}
	if d.SDays == "" {
		d.SDays = strconv.Itoa(svc.Rules.MinDays)
	}
	if !q.Has("sfrom") || d.Suspension != nil {
		return nil
	}
	from, days, ferr := a.suspensionForm(d.SFrom, d.SDays)
	if ferr != nil {
		_, d.SRefusal = a.p.I18n.Refusal(ferr, "admin.error.suspension_")
		return nil
	}
	quote, err := svc.Quote(ctx, id, from, days)
	if err != nil {
		return err
	}
	d.SQuote = &quote
	if quote.Refusal != nil {
		_, d.SRefusal = a.p.I18n.Refusal(quote.Refusal, "admin.error.suspension_")
	}
	return nil
}

func (a *Admin) suspensionForm(from, days string) (time.Time, int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(days))
	if err != nil || n <= 0 {
		return time.Time{}, 0, suspension.ErrDays
	}
	t, err := a.d.Office.Suspensions.ParseDate(strings.TrimSpace(from))
	return t, n, err
}

// suspend confirms the quote shown on the card.
func (a *Admin) suspend(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok || a.d.Office.Suspensions == nil {
		a.p.NotFound(w, r)
		return
	}
	from, days, err := a.suspensionForm(r.PostFormValue("from"), r.PostFormValue("days"))
	if err == nil {
		_, err = a.d.Office.Suspend(r.Context(), a.who(r), suspension.Request{AccountID: id, From: from, Days: days}, r.PostFormValue("note"))
	}
	if err != nil {
		a.suspensionFailed(w, r, id, err)
		return
	}
	a.done(w, r, back(id)+"#suspension", "admin.flash.suspended")
}

func (a *Admin) resumeSuspension(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok || a.d.Office.Suspensions == nil {
		a.p.NotFound(w, r)
		return
	}
	if _, err := a.d.Office.ResumeSuspension(r.Context(), a.who(r), id, r.PostFormValue("note")); err != nil {
		a.suspensionFailed(w, r, id, err)
		return
	}
	a.done(w, r, back(id)+"#suspension", "admin.flash.suspension_resumed")
}

// extendSuspension moves the running or scheduled suspension's last day.
func (a *Admin) extendSuspension(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok || a.d.Office.Suspensions == nil {
		a.p.NotFound(w, r)
		return
	}
	last, err := a.d.Office.Suspensions.ParseDate(strings.TrimSpace(r.PostFormValue("last")))
	if err != nil {
		a.suspensionFailed(w, r, id, suspension.ErrLonger)
		return
	}
	if _, err := a.d.Office.ExtendSuspension(r.Context(), a.who(r), suspension.Request{AccountID: id, Last: last}, r.PostFormValue("note")); err != nil {
		a.suspensionFailed(w, r, id, err)
		return
	}
	a.done(w, r, back(id)+"#suspension", "admin.flash.suspension_extended")
}

// suspensionFailed brings a refusal by the rules back to the card with its
// reason; anything else is failed's.
func (a *Admin) suspensionFailed(w http.ResponseWriter, r *http.Request, id int64, err error) {
	if _, msg := a.p.I18n.Refusal(err, "admin.error.suspension_"); msg != "" {
		a.p.Sessions.Put(r.Context(), sessionError, msg)
		http.Redirect(w, r, back(id)+"#suspension", http.StatusSeeOther)
		return
	}
	a.failed(w, r, back(id), err)
}
