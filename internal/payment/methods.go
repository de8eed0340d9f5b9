package payment

import (
	"context"
	"net/netip"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// Ways a subscriber pays through a processor.
const (
	MethodCard = "card"
	// MethodSBP is the Faster Payments System (Система быстрых платежей):
	// a QR code the subscriber scans with any bank's app, or, on a phone, a
	// link that opens the bank's app.
	MethodSBP = "sbp"
)

// Confirmation is how the subscriber confirms a payment the processor has
// created: a page to go to (cards), or a QR code to scan and a link for
// phones (SBP).
type Confirmation struct {
	Method string
	// Ref is the processor's own id of the payment, known from the start
	// (YooKassa's payment id): the return page asks the processor about it.
	Ref string
	// URL is the processor's page for cards.
	URL string
	// QR is the data the QR code carries (an SBP payment link). Kabinet
	// draws it; on a phone the same link opens the bank's app.
	QR string
}

// MethodProcessor is a processor that creates its payment up front and
// offers more than the card. Service.StartCard uses it when a processor
// implements it; Start remains for the card.
type MethodProcessor interface {
	Processor
	// Methods lists the methods the processor offers, MethodCard first.
	Methods() []string
	// StartMethod creates the payment at the processor.
	StartMethod(ctx context.Context, p CardPayment, method string) (Confirmation, error)
}

// Checker asks a processor for a payment's state, so that the page the
// subscriber returns to can show the result as soon as the processor knows
// it, before its notification arrives. The answer is as trustworthy as a
// verified callback: it comes from the processor's API, asked by Kabinet.
// A Callback with an empty Outcome means the payment is still open.
type Checker interface {
	Check(ctx context.Context, ref string) (Callback, error)
}

// RefundRequest asks a processor to return a payment's money to the card or
// account it came from.
type RefundRequest struct {
	PaymentID int64
	Ref       string // the processor's payment id (the payment's external id)
	Amount    money.Amount
	Reason    string // shown in the processor's account
	// Key makes the request idempotent at the processor: a retry with the
	// same key returns the first refund.
	Key string
	// Account (the contract number), Email and Phone are the subscriber's,
	// for the refund receipt a processor that issues receipts makes.
	Account, Email, Phone string
}

// RefundResult is the processor's answer.
type RefundResult struct {
	Ref    string // the processor's refund id
	Status RefundStatus
}

// RefundStatus of a refund.
type RefundStatus string

const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

// Refunder is a processor that can return a payment's money.
type Refunder interface {
	Refund(ctx context.Context, r RefundRequest) (RefundResult, error)
}

// proxyAware is a processor that checks its callbacks' source address and
// so must know [web] trusted_proxies.
type proxyAware interface {
	setTrustedProxies([]netip.Prefix)
}

// ErrMethodUnsupported means the processor does not offer the method.
var ErrMethodUnsupported error = derrors.New(derrors.Invalid, "method", "the processor does not offer this way of paying")

// ProcessorUnavailable means the processor's API could not be reached or
// failed; the subscriber may try again later.
var ErrProcessorUnavailable error = derrors.New(derrors.Unavailable, "processor", "the payment processor is unavailable")

// MethodsOf lists the methods a processor offers.
func MethodsOf(p Processor) []string {
	if mp, ok := p.(MethodProcessor); ok {
		return mp.Methods()
	}
	return []string{MethodCard}
}
