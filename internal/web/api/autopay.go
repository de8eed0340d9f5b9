package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kabinet-billing/kabinet/internal/autopay"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
)

func registerAutopay(a *API) {
	reg(a, true, huma.Operation{OperationID: "autopay", Method: http.MethodGet, Path: "/autopay", Tags: []string{"Money"},
		Summary: "Autopay: whether it is on, the saved card, the day and the amount rule", Errors: []int{503}}, a.autopayGet)
	reg(a, true, huma.Operation{OperationID: "enable-autopay", Method: http.MethodPut, Path: "/autopay", Tags: []string{"Money"},
		Summary:     "Turn autopay on with a saved card, or change its card or amount rule",
		Description: "rule is \"recommended\" (the recommended payment) or \"fixed\" (fixed_amount every month).",
		Errors:      []int{422, 503}}, a.autopayEnable)
	reg(a, true, huma.Operation{OperationID: "start-autopay", Method: http.MethodPost, Path: "/autopay/start", Tags: []string{"Money"},
		Summary:     "Turn autopay on by paying once with \"remember the card\": open the returned URL",
		Description: "Autopay turns on with the rule once the processor confirms the payment and returns the saved card.",
		Errors:      []int{422, 503}}, a.autopayStart)
	reg(a, true, huma.Operation{OperationID: "disable-autopay", Method: http.MethodDelete, Path: "/autopay", Tags: []string{"Money"},
		Summary: "Turn autopay off (the card stays saved)", DefaultStatus: 204, Errors: []int{503}}, a.autopayDisable)
}

type SavedCardOut struct {
	ID     int64  `json:"id"`
	Label  string `json:"label" doc:"The card as shown: \"Visa •••• 4242\""`
	Masked string `json:"masked"`
	Expiry string `json:"expiry,omitempty" doc:"MM/YY"`
}

type AutopayOut struct {
	Body struct {
		Available   bool           `json:"available" doc:"Autopay can be turned on (the processor charges saved cards)"`
		Enabled     bool           `json:"enabled"`
		Rule        string         `json:"rule,omitempty" enum:"recommended,fixed"`
		FixedAmount string         `json:"fixed_amount,omitempty"`
		Card        *SavedCardOut  `json:"card,omitempty"`
		ChargeOn    string         `json:"charge_on" doc:"The day of the next charge, YYYY-MM-DD in the provider's zone"`
		OffReason   string         `json:"off_reason,omitempty" doc:"Why autopay was turned off: the card expired or was blocked"`
		Cards       []SavedCardOut `json:"cards" doc:"Saved cards autopay can use"`
	}
}

type AutopayIn struct {
	Body struct {
		MethodID    int64  `json:"method_id" doc:"One of the saved cards"`
		Rule        string `json:"rule" enum:"recommended,fixed"`
		FixedAmount string `json:"fixed_amount,omitempty" doc:"Rubles, for the fixed rule"`
	}
}

type AutopayStartIn struct {
	Body struct {
		Amount      string `json:"amount" doc:"The first payment, rubles"`
		Rule        string `json:"rule" enum:"recommended,fixed"`
		FixedAmount string `json:"fixed_amount,omitempty"`
		ReturnURL   string `json:"return_url,omitempty" doc:"Where the browser returns; {id} becomes the payment id"`
	}
}

type AutopayStartOut struct {
	Body struct {
		PaymentID int64  `json:"payment_id"`
		URL       string `json:"url" doc:"The processor's page"`
	}
}

func (a *API) autopayOn() bool {
	return a.d.Autopay != nil && a.d.Payments != nil && a.d.Autopay.Enabled()
}

func (a *API) autopayGet(ctx context.Context, _ *struct{}) (*AutopayOut, error) {
	if a.d.Autopay == nil || a.d.Payments == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	acct := account(ctx).ID
	st, err := a.d.Autopay.Get(ctx, acct)
	if err != nil {
		return nil, a.fail(ctx, "autopay", err)
	}
	o := &AutopayOut{}
	o.Body.Available = a.autopayOn() && a.d.Payments.CanCharge(a.d.Processor)
	o.Body.Enabled = st.Enabled
	o.Body.ChargeOn = st.ChargeOn.Format(time.DateOnly)
	o.Body.OffReason = string(st.OffReason)
	if st.Set() {
		o.Body.Rule = string(st.Rule)
		if st.Rule == autopay.RuleFixed {
			o.Body.FixedAmount = st.Fixed.Decimal()
		}
		o.Body.Card = &SavedCardOut{ID: st.Method.ID, Label: st.Method.Label(), Masked: st.Method.Masked, Expiry: st.Method.Expiry}
	}
	cards, err := a.d.Payments.SavedMethods(ctx, acct)
	if err != nil {
		return nil, a.fail(ctx, "autopay", err)
	}
	o.Body.Cards = []SavedCardOut{}
	for _, c := range cards {
		if c.Active() && a.d.Payments.CanCharge(c.Processor) {
			o.Body.Cards = append(o.Body.Cards, SavedCardOut{ID: c.ID, Label: c.Label(), Masked: c.Masked, Expiry: c.Expiry})
		}
	}
	return o, nil
}

// autopayRule reads the rule's fixed sum; a sum that does not parse is the
// same refusal as a missing one.
func autopayRule(rule, fixed string) (autopay.Rule, money.Amount, error) {
	var sum money.Amount
	if autopay.Rule(rule) == autopay.RuleFixed {
		var err error
		if sum, err = money.Parse(strings.ReplaceAll(strings.TrimSpace(fixed), " ", "")); err != nil {
			return "", 0, derrors.Invalidf("fixed_amount", "autopay_fixed_required", "fixed sum %q: %v", fixed, err)
		}
	}
	return autopay.Rule(rule), sum, nil
}

// autopayRefused names the field at fault in the problem's errors.
func (a *API) autopayRefused(ctx context.Context, err error) error {
	if errors.Is(err, autopay.ErrOff) {
		return a.problem(ctx, http.StatusServiceUnavailable, "api.error.autopay_unavailable")
	}
	if errors.Is(err, derrors.Invalid) {
		id := "api.error." + derrors.Code(err)
		if !a.p.I18n.Has(id) {
			id = "api.error.invalid"
		}
		l := lang(ctx)
		return &huma.ErrorModel{Status: http.StatusUnprocessableEntity, Title: statusTitle(a.p, l, http.StatusUnprocessableEntity), Detail: a.t(l, id),
			Errors: []*huma.ErrorDetail{{Location: "body." + derrors.Field(err), Message: a.t(l, id)}}}
	}
	return a.refused(ctx, "autopay", err)
}

func (a *API) autopayEnable(ctx context.Context, in *AutopayIn) (*AutopayOut, error) {
	if !a.autopayOn() {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.autopay_unavailable")
	}
	rule, fixed, err := autopayRule(in.Body.Rule, in.Body.FixedAmount)
	if err == nil {
		err = a.d.Autopay.Enable(ctx, account(ctx).ID, in.Body.MethodID, rule, fixed)
	}
	if err != nil {
		return nil, a.autopayRefused(ctx, err)
	}
	return a.autopayGet(ctx, nil)
}

func (a *API) autopayStart(ctx context.Context, in *AutopayStartIn) (*AutopayStartOut, error) {
	if !a.autopayOn() {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.autopay_unavailable")
	}
	amount, err := money.Parse(strings.ReplaceAll(strings.TrimSpace(in.Body.Amount), " ", ""))
	if err != nil || amount <= 0 || amount > money.Rub(100000) {
		return nil, a.autopayRefused(ctx, derrors.Invalidf("amount", "amount", "first payment %q", in.Body.Amount))
	}
	ret := in.Body.ReturnURL
	if ret == "" {
		ret = strings.TrimRight(a.p.Config.PublicURL, "/") + "/payments/{id}"
	} else if !a.returnAllowed(ret) {
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.return_url")
	}
	rule, fixed, err := autopayRule(in.Body.Rule, in.Body.FixedAmount)
	if err != nil {
		return nil, a.autopayRefused(ctx, err)
	}
	p, next, err := a.d.Autopay.Start(ctx, autopay.StartRequest{AccountID: account(ctx).ID, Amount: amount, Rule: rule, Fixed: fixed,
		Processor: a.d.Processor, Lang: lang(ctx), ReturnURL: ret})
	if err != nil {
		return nil, a.autopayRefused(ctx, err)
	}
	o := &AutopayStartOut{}
	o.Body.PaymentID, o.Body.URL = p.ID, next
	return o, nil
}

func (a *API) autopayDisable(ctx context.Context, _ *struct{}) (*struct{}, error) {
	if a.d.Autopay == nil {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	if err := a.d.Autopay.Disable(ctx, account(ctx).ID); err != nil {
		return nil, a.fail(ctx, "autopay off", err)
	}
	return nil, nil
}
