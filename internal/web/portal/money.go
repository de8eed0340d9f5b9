package portal

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// historyPage is how many rows each history table on /payments shows.
const historyPage = 50

type paymentsData struct {
	Payments     []payment.Payment
	PaymentPager pager
	Lines        []statement.Line
	LinePager    pager
	Balance      money.Amount
	Recommended  money.Amount
	CanPay       bool
	Points       Points // bonus points
	HasBonus     bool   // the payment service runs: points can be shown and spent
	Earlier      []importer.HistoryRow
}

func (po *Portal) payments(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	d := paymentsData{CanPay: po.canPay()}
	q := r.URL.Query()
	var err error
	if po.d.Payments != nil {
		// One row more than shown tells whether an older page exists.
		page := pageOf(q, "pp")
		if d.Payments, err = po.d.Payments.History(r.Context(), a.ID, (page-1)*historyPage, historyPage+1); err != nil {
			po.p.Fail(w, r, err)
			return
		}
		d.PaymentPager = newPager(r.URL, "pp", page, len(d.Payments) > historyPage)
		d.Payments = d.Payments[:min(len(d.Payments), historyPage)]
	}
	// Balance history: every movement since the contract, newest first, each
	// with the balance after it.
	page := pageOf(q, "hp")
	st, err := po.d.Statements.History(r.Context(), po.p.LangOf(r), a, ledger.Page{Offset: (page - 1) * historyPage, Limit: historyPage})
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	d.Lines, d.Balance = st.Lines, st.Closing
	d.LinePager = newPager(r.URL, "hp", page, st.More())
	if d.Earlier, err = po.earlier(r, a, time.Unix(0, 0), po.p.Clock.Now().Add(time.Second), 100); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	if s, err := po.d.Biller.Summary(r.Context(), a.ID); err == nil {
		d.Recommended = s.Recommended
	}
	if po.d.Payments != nil {
		d.HasBonus = true
		if d.Points, err = po.bonusPoints(r, a); err != nil {
			po.p.Fail(w, r, err)
			return
		}
	}
	po.render(w, r, http.StatusOK, "payments", po.view(r, a, "payments.title", "payments", d))
}

func pick(lang, ru, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return ru
}

func (po *Portal) payCard(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if !po.canPay() {
		po.redirect(w, r, "/payments", "pay.unavailable")
		return
	}
	amount, err := money.Parse(strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("amount")), " ", ""))
	if err != nil || amount <= 0 || amount > money.Rub(100000) {
		po.redirect(w, r, "/payments", "pay.error.amount")
		return
	}
	base := strings.TrimRight(po.p.Config.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	_, next, err := po.d.Payments.StartCard(r.Context(), payment.CardStart{AccountID: a.ID, Amount: amount, Processor: po.d.Processor,
		Lang: po.p.LangOf(r), ReturnURL: base + "/payments/{id}"})
	if errors.Is(err, payment.ErrBadAmount) {
		po.redirect(w, r, "/payments", "pay.error.amount")
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type paymentData struct {
	Payment payment.Payment
	Reason  string
}

func (po *Portal) paymentStatus(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	id, ok := pathID(r, "id")
	if !ok || po.d.Payments == nil {
		po.p.NotFound(w, r)
		return
	}
	p, err := po.d.Payments.Get(r.Context(), a.ID, id)
	if errors.Is(err, payment.ErrNotFound) {
		po.p.NotFound(w, r)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	d := paymentData{Payment: p}
	lang := po.p.LangOf(r)
	if msg, phone := po.d.Payments.ReasonText(p); msg != "" {
		d.Reason = po.p.I18n.T(lang, msg, map[string]any{"Phone": phone})
	}
	po.render(w, r, http.StatusOK, "payment", po.view(r, a, "payment.title", "payments", d))
}
