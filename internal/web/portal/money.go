package portal

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

type paymentsData struct {
	Payments    []payment.Payment
	Lines       []ledger.Line
	Names       map[string]string
	Balance     money.Amount
	Recommended money.Amount
	CanPay      bool
	Points      Points // bonus points
	HasBonus    bool   // the payment service runs: points can be shown and spent
}

func (po *Portal) payments(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	d := paymentsData{CanPay: po.canPay()}
	var err error
	if po.d.Payments != nil {
		if d.Payments, err = po.d.Payments.History(r.Context(), a.ID, 50); err != nil {
			po.p.Fail(w, r, err)
			return
		}
	}
	// Balance history: every movement since the contract, newest first, each
	// with the balance after it (computed oldest first by the ledger).
	st, err := ledger.StatementFor(r.Context(), po.d.DB, a.ID, time.Unix(0, 0), po.p.Clock.Now().Add(time.Second))
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	d.Lines = slices.Clone(st.Lines)
	slices.Reverse(d.Lines)
	if len(d.Lines) > 100 {
		d.Lines = d.Lines[:100]
	}
	d.Balance = st.Closing
	if d.Names, err = po.serviceNames(r, po.p.LangOf(r)); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.channelNames(po.p.LangOf(r), d.Names, d.Lines)
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

// channelNames adds the payment channels of lines ("cash", "card:sandbox",
// "osmp:sber") to names, as the subscriber reads them.
func (po *Portal) channelNames(lang string, names map[string]string, lines []ledger.Line) {
	for _, l := range lines {
		if _, ok := names[l.Service]; ok || l.Service == "" {
			continue
		}
		if l.Kind == ledger.TxnPayment || l.Kind == ledger.TxnReversal || l.Kind == ledger.TxnBonus {
			kind, _, _ := strings.Cut(l.Service, ":")
			if id := "channel." + kind; po.p.I18n.Has(id) {
				names[l.Service] = po.p.I18n.T(lang, id, nil)
			}
		}
	}
}

// serviceNames maps tariff and package codes to names for statement lines.
func (po *Portal) serviceNames(r *http.Request, lang string) (map[string]string, error) {
	names := map[string]string{}
	ts, err := billing.Tariffs(r.Context(), po.d.DB, 0, false)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		names[t.Code] = pick(lang, t.Name, t.NameEn)
	}
	ps, err := billing.Packages(r.Context(), po.d.DB, 0, false)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		names[p.Code] = pick(lang, p.Name, p.NameEn)
	}
	return names, nil
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
