package payment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// Status of a card payment as the subscriber sees it in the payment history.
type Status string

const (
	StatusPending   Status = "pending"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusReversed  Status = "reversed" // taken back by an operator
)

// MessageID is the translation key of the status's text.
func (s Status) MessageID() string { return "payment.status." + string(s) }

// CardPayment is what a processor needs to take a payment on its hosted page.
// The URLs are Kabinet's own, built by the caller from the public address.
type CardPayment struct {
	ID        int64 // Kabinet's payment id, carried through the processor and back
	AccountID int64
	Account   string // contract number or login, shown on the processor's page
	// Email and Phone are the subscriber's, for a receipt the processor
	// issues (a payment's receipt goes to one of them).
	Email, Phone string
	Amount       money.Amount
	Lang         string // "ru" or "en"
	CallbackURL  string // server-to-server callback
	SuccessURL   string // the browser's return after success (a hint only)
	DeclineURL   string // the browser's return after a decline (a hint only)
	// SaveMethod asks the processor to keep the method for later charges
	// (the subscriber ticked "remember the card"); a processor that cannot
	// ignores it.
	SaveMethod bool
}

// Outcome is what a verified callback says happened.
type Outcome string

const (
	OutcomePaid     Outcome = "paid"
	OutcomeDeclined Outcome = "declined"
	// OutcomeReversed is a refund or chargeback. It is recorded and logged for
	// an operator, never applied automatically: taking money back from a
	// subscriber is a decision, and the operator's correction is reversible.
	OutcomeReversed Outcome = "reversed"
)

// Callback is a processor's callback after its signature was verified. Only
// a verified Callback ever reaches the money code.
type Callback struct {
	PaymentID   int64  // Kabinet's payment id, as the processor echoed it
	ExternalID  string // the processor's transaction id
	Outcome     Outcome
	Amount      money.Amount
	Currency    string
	DeclineCode string // the processor's own code, kept for operators
	Reason      Reason // the subscriber-facing reason, for declines
	// Method is the method the processor saved for later charges, on a paid
	// callback of a payment started with SaveMethod; nil otherwise. Only
	// Token, Masked, Expiry and Title are read.
	Method *SavedMethod
	// RefundRef is the processor's refund id of a confirmed refund
	// (OutcomeReversed), when the processor names one.
	RefundRef string
}

// Processor is one card processor. Adding a processor is one file that
// implements this and calls RegisterProcessor in its init.
type Processor interface {
	// Name is the processor's configured name; it scopes external ids.
	Name() string
	// Start returns the processor's hosted page address for the payment.
	Start(ctx context.Context, p CardPayment) (redirectURL string, err error)
	// VerifyCallback reads and checks a callback request. It returns an error
	// wrapping ErrBadSignature or ErrBadCallback for anything it cannot trust.
	VerifyCallback(r *http.Request) (Callback, error)
	// Reason maps the processor's decline code to what the subscriber is told.
	Reason(declineCode string) Reason
	// SecurityPhone is the number the security-service reason asks to call.
	SecurityPhone() string
}

// ProcessorConfig configures one processor. Fields a processor does not use
// are ignored; Options carries the rare processor-specific setting.
type ProcessorConfig = config.Processor

var (
	// ErrBadSignature means a callback's signature does not verify.
	ErrBadSignature = errors.New("callback signature does not verify")
	// ErrBadCallback means a callback is malformed: a field missing or unreadable.
	ErrBadCallback = errors.New("malformed callback")
	// ErrAmountMismatch means a callback's amount or currency differs from
	// the payment's: it is refused, never credited.
	ErrAmountMismatch = errors.New("callback amount differs from the payment")
	// ErrUnknownPayment means a callback names a payment Kabinet never started.
	ErrUnknownPayment = errors.New("unknown payment")
)

// ownCredentials are the kinds that authenticate otherwise than by a shared
// secret and check their own settings (YooKassa: shop_id and secret_key).
var ownCredentials = map[string]bool{"yookassa": true}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]func(ProcessorConfig) (Processor, error){}
)

// RegisterProcessor makes a processor kind available to NewProcessor.
func RegisterProcessor(kind string, build func(ProcessorConfig) (Processor, error)) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[kind]; dup {
		panic("payment: processor kind registered twice: " + kind)
	}
	kinds[kind] = build
}

// ProcessorKinds lists the registered kinds, for config errors and docs.
func ProcessorKinds() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewProcessor builds a configured processor of a registered kind.
func NewProcessor(cfg ProcessorConfig) (Processor, error) {
	kindsMu.RLock()
	build := kinds[cfg.Kind]
	kindsMu.RUnlock()
	if build == nil {
		return nil, fmt.Errorf("payment processor kind %q unknown (known: %v)", cfg.Kind, ProcessorKinds())
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Kind
	}
	if cfg.Currency == "" {
		cfg.Currency = "RUB"
	}
	if cfg.Secret == "" && !ownCredentials[cfg.Kind] {
		return nil, fmt.Errorf("payment processor %q: a shared secret is required", cfg.Name)
	}
	p, err := build(cfg)
	if err != nil {
		return nil, fmt.Errorf("payment processor %q: %w", cfg.Name, err)
	}
	return p, nil
}
