package portal

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/statement"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
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
	// The pay form: the ways the processor offers (card, SBP), the amount
	// typed and what is wrong with it, shown beside the field.
	Methods     []string
	Amount      string
	AmountError string
	HasSBP      bool
	// Receipts are the fiscal receipts by the payment's ledger transaction
	// (a sale and, after a reversal, its refund).
	Receipts map[int64][]fiscal.Receipt
}

func (po *Portal) payments(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.paymentsPage(w, r, a, http.StatusOK, paymentsData{Amount: r.URL.Query().Get("amount")})
}

// paymentsPage renders /payments; a refused pay form comes back here with
// its error beside the amount instead of as a message on another page.
func (po *Portal) paymentsPage(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, d paymentsData) {
	d.CanPay = po.canPay()
	if d.CanPay {
		proc, _ := po.d.Payments.Processor(po.d.Processor)
		d.Methods = payment.MethodsOf(proc)
		d.HasSBP = slices.Contains(d.Methods, payment.MethodSBP)
	}
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
	if po.d.Receipts != nil {
		if d.Receipts, err = po.d.Receipts.ByTxn(r.Context(), a.ID); err != nil {
			po.p.Fail(w, r, err)
			return
		}
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
	po.render(w, r, status, "payments", po.view(r, a, "payments.title", "payments", d))
}

func pick(lang, ru, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return ru
}

func (po *Portal) payCard(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if !po.canPay() {
		po.redirectErr(w, r, "/payments", "pay.unavailable")
		return
	}
	typed := strings.TrimSpace(r.PostFormValue("amount"))
	method := r.PostFormValue("method")
	if method == "" {
		method = payment.MethodCard
	}
	refuse := func(msg string) {
		po.paymentsPage(w, r, a, http.StatusUnprocessableEntity, paymentsData{Amount: typed, AmountError: po.p.I18n.T(po.p.LangOf(r), msg, nil)})
	}
	amount, err := money.Parse(strings.ReplaceAll(strings.ReplaceAll(typed, " ", ""), ",", "."))
	if err != nil || amount <= 0 || amount > money.Rub(100000) {
		refuse("pay.error.amount")
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
	p, c, err := po.d.Payments.Start(r.Context(), payment.CardStart{AccountID: a.ID, Amount: amount, Processor: po.d.Processor,
		Lang: po.p.LangOf(r), ReturnURL: base + "/payments/{id}", Method: method})
	if _, id := po.p.I18n.Refusal(err, "pay.error."); id != "" {
		refuse(id)
		return
	} else if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	if c.Method == payment.MethodSBP {
		// The QR code is shown on our own page, which waits for the result.
		http.Redirect(w, r, "/payments/"+strconv.FormatInt(p.ID, 10), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, c.URL, http.StatusSeeOther)
}

type paymentData struct {
	Payment payment.Payment
	Reason  string
	// SBP is the QR code's link while an SBP payment waits; the page draws
	// it from /payments/{id}/qr.svg and offers it as a link on phones.
	SBP     string
	Method  string
	Polling bool // the page asks again every few seconds
}

// paymentData reads the payment, asking the processor about a pending one,
// so that the page shows the result as soon as it is known.
func (po *Portal) paymentState(w http.ResponseWriter, r *http.Request, a subscriber.Account) (paymentData, bool) {
	id, ok := pathID(r, "id")
	if !ok || po.d.Payments == nil {
		po.p.NotFound(w, r)
		return paymentData{}, false
	}
	p, err := po.d.Payments.Refresh(r.Context(), a.ID, id)
	if errors.Is(err, derrors.NotFound) {
		po.p.NotFound(w, r)
		return paymentData{}, false
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return paymentData{}, false
	}
	d := paymentData{Payment: p, Polling: p.Status == payment.StatusPending}
	if strings.HasPrefix(p.Channel, "card:") {
		d.Method = payment.MethodCard
	}
	if c, err := po.d.Payments.Confirmation(r.Context(), a.ID, id); err == nil {
		d.Method = c.Method
		if c.Method == payment.MethodSBP && p.Status == payment.StatusPending {
			d.SBP = c.QR
		}
	}
	lang := po.p.LangOf(r)
	if msg, phone := po.d.Payments.ReasonText(p); msg != "" {
		d.Reason = po.p.I18n.T(lang, msg, map[string]any{"Phone": phone})
	}
	return d, true
}

func (po *Portal) paymentStatus(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	d, ok := po.paymentState(w, r, a)
	if !ok {
		return
	}
	po.render(w, r, http.StatusOK, "payment", po.view(r, a, "payment.title", "payments", d))
}

// paymentPoll is the part of the payment page htmx asks for every few
// seconds while the payment is pending; once it is settled the answer has
// no trigger and the asking stops.
func (po *Portal) paymentPoll(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	d, ok := po.paymentState(w, r, a)
	if !ok {
		return
	}
	po.p.HTML(w, r, http.StatusOK, "portal/payment", "payment-state", po.view(r, a, "payment.title", "payments", d))
}

// paymentQR draws the SBP payment's QR code, here rather than by an outside
// service, so that the payment link never leaves Kabinet.
func (po *Portal) paymentQR(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	id, ok := pathID(r, "id")
	if !ok || po.d.Payments == nil {
		po.p.NotFound(w, r)
		return
	}
	c, err := po.d.Payments.Confirmation(r.Context(), a.ID, id)
	if errors.Is(err, derrors.NotFound) || (err == nil && c.QR == "") {
		po.p.NotFound(w, r)
		return
	}
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	svg, err := platform.QRCodeSVG(c.QR)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(svg)
}

type howtoData struct {
	ContractNo  string
	Recommended string // formatted; empty when nothing is due
	Ways        []config.HowToPay
}

// howToPay lists where else the subscriber pays ([[payment.howto]]): the
// banks' apps, the terminals, the office, each with the contract number to
// type, which the page copies with one press.
func (po *Portal) howToPay(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	s, err := po.d.Biller.Summary(r.Context(), a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	d := howtoData{ContractNo: a.ContractNo, Ways: po.p.Config.Payment.HowTo}
	if s.Recommended > 0 {
		d.Recommended = s.Recommended.Format(po.p.LangOf(r))
	}
	po.render(w, r, http.StatusOK, "howto", po.view(r, a, "howto.title", "payments", d))
}
