package portal

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/autopay"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// autopayForm is what the subscriber typed, shown again beside its errors.
type autopayForm struct {
	Rule   string
	Fixed  string
	Amount string // the first payment that saves the card
	Method int64
}

type autopayData struct {
	Offered     bool // autopay runs and the Pay processor can charge a saved card
	Settings    autopay.Settings
	Cards       []payment.SavedMethod // usable saved cards
	Charges     []autopay.Charge
	Recommended money.Amount
	OffReason   string // why autopay was turned off, when the card was refused
	Form        autopayForm
	// Errors are the message ids by field ("rule", "fixed_amount",
	// "amount", "method"), shown beside the field and announced.
	Errors map[string]string
	// RuleSaved and RuleNew are the amount rule's fields in each form.
	RuleSaved, RuleNew ruleForm
	Days               int // how many days before the 1st the card is charged
}

type ruleForm struct {
	F autopayForm
	E map[string]string
	P string // the form's prefix for the fields' ids
}

func (po *Portal) autopayOffered() bool {
	return po.d.Autopay != nil && po.d.Autopay.Enabled() && po.d.Payments != nil && po.d.Payments.CanCharge(po.d.Processor)
}

func (po *Portal) autopayPage(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	po.renderAutopay(w, r, a, http.StatusOK, autopayForm{}, nil)
}

func (po *Portal) renderAutopay(w http.ResponseWriter, r *http.Request, a subscriber.Account, status int, f autopayForm, errs map[string]string) {
	if po.d.Autopay == nil || po.d.Payments == nil {
		po.p.NotFound(w, r)
		return
	}
	ctx := r.Context()
	d := autopayData{Offered: po.autopayOffered(), Form: f, Errors: errs}
	var err error
	if d.Settings, err = po.d.Autopay.Get(ctx, a.ID); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	cards, err := po.d.Payments.SavedMethods(ctx, a.ID)
	if err != nil {
		po.p.Fail(w, r, err)
		return
	}
	for _, c := range cards {
		if c.Active() && po.d.Payments.CanCharge(c.Processor) {
			d.Cards = append(d.Cards, c)
		}
	}
	if d.Charges, err = po.d.Autopay.Charges(ctx, a.ID, 12); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	if s, err := po.d.Biller.Summary(ctx, a.ID); err == nil {
		d.Recommended = s.Recommended
	}
	if !d.Settings.Enabled && d.Settings.OffReason != "" {
		d.OffReason = po.p.I18n.T(po.p.LangOf(r), d.Settings.OffReason.MessageID(), nil)
	}
	if d.Form.Rule == "" {
		d.Form.Rule = string(autopay.RuleRecommended)
		if d.Settings.Set() {
			d.Form.Rule = string(d.Settings.Rule)
			if d.Settings.Rule == autopay.RuleFixed {
				d.Form.Fixed = d.Settings.Fixed.Decimal()
			}
		}
	}
	if d.Form.Amount == "" {
		d.Form.Amount = "500"
		if d.Recommended > 0 {
			d.Form.Amount = d.Recommended.Decimal()
		}
	}
	d.RuleSaved, d.RuleNew = ruleForm{d.Form, errs, "s"}, ruleForm{d.Form, errs, "n"}
	d.Days = po.d.Autopay.DaysBefore()
	po.render(w, r, status, "autopay", po.view(r, a, "autopay.title", "payments", d))
}

// readAutopayForm parses the rule and the sums; a sum that does not parse
// is named beside its field.
func readAutopayForm(r *http.Request) (autopayForm, autopay.Rule, money.Amount, map[string]string) {
	f := autopayForm{Rule: r.PostFormValue("rule"), Fixed: strings.TrimSpace(r.PostFormValue("fixed_amount")), Amount: strings.TrimSpace(r.PostFormValue("amount"))}
	f.Method, _ = strconv.ParseInt(r.PostFormValue("method"), 10, 64)
	errs := map[string]string{}
	var fixed money.Amount
	if autopay.Rule(f.Rule) == autopay.RuleFixed {
		var err error
		if fixed, err = money.Parse(strings.ReplaceAll(f.Fixed, " ", "")); err != nil {
			errs["fixed_amount"] = "autopay.error.autopay_fixed_required"
		}
	}
	return f, autopay.Rule(f.Rule), fixed, errs
}

// autopayRefused shows a refusal beside its field, or fails the request.
func (po *Portal) autopayRefused(w http.ResponseWriter, r *http.Request, a subscriber.Account, f autopayForm, err error) {
	if errors.Is(err, autopay.ErrOff) {
		po.redirectErr(w, r, "/autopay", "autopay.error.autopay_unavailable")
		return
	}
	if errors.Is(err, derrors.Invalid) {
		field := derrors.Field(err)
		id := "autopay.error." + derrors.Code(err)
		if !po.p.I18n.Has(id) {
			id = "autopay.error.invalid"
		}
		po.renderAutopay(w, r, a, http.StatusUnprocessableEntity, f, map[string]string{field: id})
		return
	}
	po.p.Fail(w, r, err)
}

// autopayStart pays once with "remember the card"; autopay turns on when the
// processor confirms the payment and the card is saved.
func (po *Portal) autopayStart(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if !po.autopayOffered() {
		po.redirectErr(w, r, "/autopay", "autopay.error.autopay_unavailable")
		return
	}
	f, rule, fixed, errs := readAutopayForm(r)
	amount, err := money.Parse(strings.ReplaceAll(f.Amount, " ", ""))
	if err != nil || amount <= 0 || amount > money.Rub(100000) {
		errs["amount"] = "pay.error.amount"
	}
	if len(errs) > 0 {
		po.renderAutopay(w, r, a, http.StatusUnprocessableEntity, f, errs)
		return
	}
	_, next, err := po.d.Autopay.Start(r.Context(), autopay.StartRequest{AccountID: a.ID, Amount: amount, Rule: rule, Fixed: fixed,
		Processor: po.d.Processor, Lang: po.p.LangOf(r), ReturnURL: po.baseURL(r) + "/payments/{id}"})
	if err != nil {
		po.autopayRefused(w, r, a, f, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// autopayEnable turns autopay on with a card saved before, or changes the rule.
func (po *Portal) autopayEnable(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Autopay == nil {
		po.p.NotFound(w, r)
		return
	}
	f, rule, fixed, errs := readAutopayForm(r)
	if len(errs) > 0 {
		po.renderAutopay(w, r, a, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if err := po.d.Autopay.Enable(r.Context(), a.ID, f.Method, rule, fixed); err != nil {
		po.autopayRefused(w, r, a, f, err)
		return
	}
	po.redirect(w, r, "/autopay", "autopay.saved")
}

func (po *Portal) autopayDisable(w http.ResponseWriter, r *http.Request, a subscriber.Account) {
	if po.d.Autopay == nil {
		po.p.NotFound(w, r)
		return
	}
	if err := po.d.Autopay.Disable(r.Context(), a.ID); err != nil {
		po.p.Fail(w, r, err)
		return
	}
	po.redirect(w, r, "/autopay", "autopay.turned_off")
}

// baseURL is where the browser comes back: public_url, or the host it used.
func (po *Portal) baseURL(r *http.Request) string {
	base := strings.TrimRight(po.p.Config.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base
}
