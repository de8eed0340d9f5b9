package payment

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

func init() { RegisterProcessor("chronopay", newChronoPay) }

// ChronoPay's field names and sign formulas, in one place so that they can be
// corrected against the provider's own documentation (../shared/protocols/
// card-processors.md quotes its public integration notes).
const (
	chronoDefaultPage = "https://payments.chronopay.com/"

	// Payment page fields.
	chronoProductID    = "product_id"
	chronoProductPrice = "product_price"
	chronoCallbackURL  = "cb_url"
	chronoSuccessURL   = "success_url"
	chronoDeclineURL   = "decline_url"
	chronoLanguage     = "language"
	// cb_type=P asks for the callback as a POST form, the only kind
	// VerifyCallback takes.
	chronoCallbackType = "cb_type"
	chronoCallbackPost = "P"
	chronoPaymentField = "cs1" // Kabinet's payment id
	chronoAccountField = "cs2" // Kabinet's account id, for the processor's reports
	chronoSign         = "sign"

	// Callback fields.
	chronoCustomerID = "customer_id"
	chronoTxnID      = "transaction_id"
	chronoTxnType    = "transaction_type"
	chronoTotal      = "total"
	chronoCurrency   = "currency"
	// Assumed: no integration we could read names the field that carries a
	// decline's reason, so this name and the codes in chronoReasons are a
	// guess to be checked against ChronoPay's own documentation. Without
	// the field a decline shows the issuing bank's reason.
	chronoDeclineCode = "decline_code"
)

// chronoPageSign = MD5(product_id-product_price-shared_secret), hyphen-joined.
func chronoPageSign(productID, price, secret string) string {
	return md5hex(productID + "-" + price + "-" + secret)
}

// chronoCallbackSign = MD5(shared_secret + customer_id + transaction_id +
// transaction_type + total), plain concatenation.
func chronoCallbackSign(secret, customerID, txnID, txnType, total string) string {
	return md5hex(secret + customerID + txnID + txnType + total)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// chronoOutcomes maps transaction_type (lower-cased) to what happened.
// onetime, initial (a first payment that may be rebilled), rebill, refund
// and chargeback are the types integrations handle; purchase and decline
// are assumed.
var chronoOutcomes = map[string]Outcome{
	"onetime":    OutcomePaid,
	"initial":    OutcomePaid,
	"rebill":     OutcomePaid,
	"purchase":   OutcomePaid,
	"decline":    OutcomeDeclined,
	"refund":     OutcomeReversed,
	"chargeback": OutcomeReversed,
}

// chronoReasons maps decline codes to the subscriber's reason. Assumed to be
// ISO 8583 response codes, which acquirers pass through (see
// chronoDeclineCode). Unknown codes fall to the issuing bank, whose phone is
// on the card.
var chronoReasons = map[string]Reason{
	"14": ReasonWrongCardData, // invalid card number
	"54": ReasonWrongCardData, // expired card
	"55": ReasonWrongCardData, // wrong PIN
	"82": ReasonWrongCardData, // CVV mismatch
	"N7": ReasonWrongCardData, // CVV2 mismatch
	"51": ReasonNoFunds,
	"61": ReasonNoFunds,  // exceeds withdrawal limit
	"59": ReasonSecurity, // suspected fraud (the acquirer's antifraud)
	"34": ReasonSecurity,
	"63": ReasonSecurity,
	"05": ReasonIssuerDecline,
	"57": ReasonIssuerDecline,
	"62": ReasonIssuerDecline,
}

type chronoPay struct{ cfg ProcessorConfig }

func newChronoPay(cfg ProcessorConfig) (Processor, error) {
	if cfg.ProductID == "" {
		return nil, fmt.Errorf("chronopay: product_id is required")
	}
	if cfg.PageURL == "" {
		cfg.PageURL = chronoDefaultPage
	}
	if _, err := url.Parse(cfg.PageURL); err != nil {
		return nil, fmt.Errorf("chronopay: page URL: %w", err)
	}
	return &chronoPay{cfg: cfg}, nil
}

func (c *chronoPay) Name() string          { return c.cfg.Name }
func (c *chronoPay) SecurityPhone() string { return c.cfg.SecurityPhone }

func (c *chronoPay) Start(_ context.Context, p CardPayment) (string, error) {
	if p.Amount <= 0 {
		return "", fmt.Errorf("chronopay: amount %s is not positive", p.Amount)
	}
	u, err := url.Parse(c.cfg.PageURL)
	if err != nil {
		return "", fmt.Errorf("chronopay: page URL: %w", err)
	}
	price := p.Amount.Decimal()
	q := u.Query()
	q.Set(chronoProductID, c.cfg.ProductID)
	q.Set(chronoProductPrice, price)
	q.Set(chronoCallbackURL, p.CallbackURL)
	q.Set(chronoSuccessURL, p.SuccessURL)
	q.Set(chronoDeclineURL, p.DeclineURL)
	q.Set(chronoCallbackType, chronoCallbackPost)
	q.Set(chronoPaymentField, strconv.FormatInt(p.ID, 10))
	q.Set(chronoAccountField, strconv.FormatInt(p.AccountID, 10))
	if p.Lang != "" {
		q.Set(chronoLanguage, p.Lang)
	}
	q.Set(chronoSign, chronoPageSign(c.cfg.ProductID, price, c.cfg.Secret))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (c *chronoPay) VerifyCallback(r *http.Request) (Callback, error) {
	if r.Method != http.MethodPost {
		return Callback{}, fmt.Errorf("chronopay: method %s: %w", r.Method, ErrBadCallback)
	}
	if err := r.ParseForm(); err != nil {
		return Callback{}, fmt.Errorf("chronopay: %v: %w", err, ErrBadCallback)
	}
	f := r.PostForm
	customer, txn, typ, total := f.Get(chronoCustomerID), f.Get(chronoTxnID), f.Get(chronoTxnType), f.Get(chronoTotal)
	want := chronoCallbackSign(c.cfg.Secret, customer, txn, typ, total)
	got := strings.ToLower(f.Get(chronoSign))
	// Checked before anything else is read, so that an unsigned request
	// cannot even probe which payment ids exist.
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return Callback{}, fmt.Errorf("chronopay: transaction %q: %w", txn, ErrBadSignature)
	}
	return decodeCallback(c, callbackFields{
		paymentID: f.Get(chronoPaymentField), externalID: txn, kind: typ, total: total,
		currency: f.Get(chronoCurrency), declineCode: f.Get(chronoDeclineCode), wantCurrency: c.cfg.Currency,
	}, chronoOutcomes)
}

func (c *chronoPay) Reason(code string) Reason {
	if r, ok := chronoReasons[strings.ToUpper(strings.TrimSpace(code))]; ok {
		return r
	}
	return ReasonIssuerDecline
}

// callbackFields are a signed callback's fields before they are decoded;
// processors share the decoding so that they share its strictness.
type callbackFields struct {
	paymentID, externalID, kind, total, currency, declineCode string
	wantCurrency                                              string
}

func decodeCallback(p Processor, f callbackFields, outcomes map[string]Outcome) (Callback, error) {
	name := p.Name()
	id, err := strconv.ParseInt(f.paymentID, 10, 64)
	if err != nil || id <= 0 {
		return Callback{}, fmt.Errorf("%s: payment id %q: %w", name, f.paymentID, ErrBadCallback)
	}
	if f.externalID == "" || len(f.externalID) > 64 {
		return Callback{}, fmt.Errorf("%s: transaction id %q: %w", name, f.externalID, ErrBadCallback)
	}
	outcome, ok := outcomes[strings.ToLower(f.kind)]
	if !ok {
		return Callback{}, fmt.Errorf("%s: transaction type %q: %w", name, f.kind, ErrBadCallback)
	}
	amount, err := parseWireAmount(f.total)
	if err != nil || amount <= 0 {
		return Callback{}, fmt.Errorf("%s: total %q: %w", name, f.total, ErrBadCallback)
	}
	// A total in another currency is a different amount, whatever its digits.
	if f.currency != "" && !strings.EqualFold(f.currency, f.wantCurrency) {
		return Callback{}, fmt.Errorf("%s: currency %q, want %q: %w", name, f.currency, f.wantCurrency, ErrAmountMismatch)
	}
	cb := Callback{
		PaymentID: id, ExternalID: f.externalID, Outcome: outcome, Amount: amount,
		Currency: strings.ToUpper(f.currency), DeclineCode: f.declineCode,
	}
	if outcome == OutcomeDeclined {
		cb.Reason = p.Reason(f.declineCode)
	}
	return cb, nil
}
