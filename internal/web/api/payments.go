package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/web/platform"
)

type PaymentOut struct {
	ID        int64      `json:"id"`
	Channel   string     `json:"channel"`
	Amount    Money      `json:"amount"`
	Status    string     `json:"status" enum:"pending,succeeded,failed,reversed"`
	Reason    string     `json:"reason,omitempty" doc:"Why a card payment failed, in the client's language"`
	CreatedAt time.Time  `json:"created_at"`
	PaidAt    *time.Time `json:"paid_at,omitempty"`
}

func (a *API) paymentOut(ctx context.Context, p payment.Payment) PaymentOut {
	o := PaymentOut{ID: p.ID, Channel: p.Channel, Amount: m(p.Amount), Status: string(p.Status), CreatedAt: p.CreatedAt}
	if !p.PaidAt.IsZero() {
		o.PaidAt = &p.PaidAt
	}
	if id, phone := a.d.Payments.ReasonText(p); id != "" {
		o.Reason = a.p.I18n.T(lang(ctx), id, map[string]any{"Phone": phone})
	}
	return o
}

// paymentsPage and balancePage are how many items a page of payments and
// of balance history holds.
const paymentsPage, balancePage = 100, 200

func (a *API) payments(ctx context.Context, in *PageIn) (*ListOut[PaymentOut], error) {
	if a.d.Payments == nil {
		return list([]PaymentOut{}), nil
	}
	page := max(in.Page, 1)
	// One more than a page tells whether another follows.
	ps, err := a.d.Payments.History(ctx, account(ctx).ID, (page-1)*paymentsPage, paymentsPage+1)
	if err != nil {
		return nil, a.fail(ctx, "payments", err)
	}
	out := make([]PaymentOut, min(len(ps), paymentsPage))
	for i := range out {
		out[i] = a.paymentOut(ctx, ps[i])
	}
	o := list(out)
	if len(ps) > paymentsPage {
		o.Body.Next = page + 1
	}
	return o, nil
}

type PaymentOne struct{ Body PaymentOut }

func (a *API) payment(ctx context.Context, in *IDPath) (*PaymentOne, error) {
	if a.d.Payments == nil {
		return nil, a.problem(ctx, http.StatusNotFound, "api.error.not_found")
	}
	// Refresh asks the processor about a pending payment, so that an app
	// polling here sees the result as soon as the processor knows it.
	p, err := a.d.Payments.Refresh(ctx, account(ctx).ID, in.ID)
	if err != nil {
		return nil, a.refused(ctx, "payment", err)
	}
	return &PaymentOne{Body: a.paymentOut(ctx, p)}, nil
}

type CardIn struct {
	Body struct {
		Amount    string `json:"amount" example:"500.00" doc:"Roubles"`
		ReturnURL string `json:"return_url,omitempty" format:"uri" doc:"Where the processor's page sends the browser back; {id} becomes the payment id"`
		Method    string `json:"method,omitempty" enum:"card,sbp" doc:"card (the default): the processor's page; sbp: a QR code for any bank's app, where the processor offers it"`
	}
}

type CardOut struct {
	Body struct {
		PaymentID int64  `json:"payment_id"`
		Method    string `json:"method" enum:"card,sbp"`
		URL       string `json:"url,omitempty" doc:"card: the processor's page; open it in a browser"`
		QR        string `json:"qr,omitempty" doc:"sbp: the payment link; show it as a QR code, or open it on the phone to choose the bank's app. Then poll GET /payments/{id}"`
		QRSVG     string `json:"qr_svg,omitempty" doc:"sbp: the same link drawn as a QR code (SVG)"`
	}
}

func (a *API) payCard(ctx context.Context, in *CardIn) (*CardOut, error) {
	if a.d.Payments == nil || a.d.Processor == "" {
		return nil, a.problem(ctx, http.StatusServiceUnavailable, "api.error.unavailable")
	}
	amount, err := money.Parse(strings.ReplaceAll(strings.TrimSpace(in.Body.Amount), " ", ""))
	if err != nil || amount <= 0 || amount > money.Rub(100000) {
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.amount")
	}
	ret := in.Body.ReturnURL
	if ret == "" {
		ret = strings.TrimRight(a.p.Config.PublicURL, "/") + "/payments/{id}"
	} else if !a.returnAllowed(ret) {
		return nil, a.problem(ctx, http.StatusUnprocessableEntity, "api.error.return_url")
	}
	p, c, err := a.d.Payments.Start(ctx, payment.CardStart{AccountID: account(ctx).ID, Amount: amount, Processor: a.d.Processor,
		Lang: lang(ctx), ReturnURL: ret, Method: in.Body.Method})
	if err != nil {
		return nil, a.refused(ctx, "card payment", err)
	}
	o := &CardOut{}
	o.Body.PaymentID, o.Body.Method, o.Body.URL, o.Body.QR = p.ID, c.Method, c.URL, c.QR
	if c.QR != "" {
		svg, err := platform.QRCodeSVG(c.QR)
		if err != nil {
			return nil, a.fail(ctx, "sbp qr code", err)
		}
		o.Body.QRSVG = string(svg)
	}
	return o, nil
}

// returnAllowed tells whether the processor's page may send the browser to
// ret: a page under public_url, or a link into the app (one of its
// configured schemes). Anything else would make Kabinet's payment an open
// redirect to another site.
func (a *API) returnAllowed(ret string) bool {
	u, err := url.Parse(ret)
	if err != nil || u.Scheme == "" || strings.ContainsFunc(ret, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	for _, s := range a.d.AppSchemes {
		if strings.EqualFold(u.Scheme, s) {
			return true
		}
	}
	pub, err := url.Parse(strings.TrimRight(a.p.Config.PublicURL, "/"))
	if a.p.Config.PublicURL == "" || err != nil || u.User != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, pub.Scheme) && strings.EqualFold(u.Host, pub.Host) &&
		(u.Path == pub.Path || strings.HasPrefix(u.Path, pub.Path+"/"))
}
