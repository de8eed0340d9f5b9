package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/netaddr"
)

func init() { RegisterProcessor("yookassa", newYooKassa) }

// YooKassa (ЮKassa) API v3, from its published documentation
// (yookassa.ru/developers): JSON over HTTPS, HTTP basic auth with the shop
// id and the secret key, an Idempotence-Key header on every POST (the same
// key returns the first result instead of making a second payment), amounts
// as decimal strings with currency. Notifications carry the whole object but
// are not signed: they are believed only from YooKassa's published networks,
// and even then only what GET /payments/{id} answers is applied.
const (
	yooDefaultAPI = "https://api.yookassa.ru/v3"
	// yooPaymentKey is the metadata key carrying Kabinet's payment id.
	yooPaymentKey = "kabinet_payment_id"
	yooAccountKey = "kabinet_account"
	// Payment statuses.
	yooPending   = "pending"
	yooWaiting   = "waiting_for_capture"
	yooSucceeded = "succeeded"
	yooCanceled  = "canceled"
	// Notification events.
	yooEventSucceeded = "payment.succeeded"
	yooEventCanceled  = "payment.canceled"
	yooEventRefund    = "refund.succeeded"
	yooEventWaiting   = "payment.waiting_for_capture"
	// yooAttempts is how many times a request is sent when YooKassa does not
	// answer, answers 5xx or 202 ("still processing, repeat"), always with the
	// same Idempotence-Key.
	yooAttempts = 3
)

// yooNetworks are the addresses YooKassa says its notifications come from
// (yookassa.ru/developers/using-api/webhooks, "IP addresses"). Taken from
// that page as quoted by several SDKs; check it when YooKassa announces a
// change and set notify_from to override.
var yooNetworks = []string{
	"185.71.76.0/27",
	"185.71.77.0/27",
	"77.75.153.0/25",
	"77.75.156.11",
	"77.75.156.35",
	"77.75.154.128/25",
	"2a02:5180::/32",
}

// yooReasons maps cancellation_details.reason to what the subscriber is told.
// The codes are YooKassa's documented list ("Неуспешные платежи",
// declined-payments); what each tells the subscriber to do follows the
// documentation's own advice for it.
var yooReasons = map[string]Reason{
	"3d_secure_failed":              ReasonThreeDSecure,
	"call_issuer":                   ReasonIssuerDecline,
	"card_expired":                  ReasonCardExpired,
	"country_forbidden":             ReasonOtherMethod,
	"fraud_suspected":               ReasonSecurity,
	"general_decline":               ReasonIssuerDecline,
	"identification_required":       ReasonOtherMethod,
	"insufficient_funds":            ReasonNoFunds,
	"invalid_card_number":           ReasonWrongCardData,
	"invalid_csc":                   ReasonWrongCardData,
	"issuer_unavailable":            ReasonTryLater,
	"payment_method_limit_exceeded": ReasonLimit,
	"payment_method_restricted":     ReasonIssuerDecline,
	"permission_revoked":            ReasonPermissionRevoked,
	"internal_timeout":              ReasonTryLater,
	"expired_on_confirmation":       ReasonExpired,
	"expired_on_capture":            ReasonTryLater,
	"canceled_by_merchant":          ReasonTryLater,
	"unsupported_mobile_operator":   ReasonOtherMethod,
	"deal_expired":                  ReasonTryLater,
}

type yooKassa struct {
	cfg     ProcessorConfig
	api     string
	client  *http.Client
	allow   []netip.Prefix
	proxies []netip.Prefix
	sbp     bool
	log     *slog.Logger
	// receipts: YooKassa issues the receipts, from rules (set by
	// Setup.SetReceiptRules from [fiscal]).
	receipts bool
	rules    *yooRules
	// wait is the pause before a repeated request; tests set it to zero.
	wait func(ctx context.Context, attempt int) error
}

func newYooKassa(cfg ProcessorConfig) (Processor, error) {
	return NewYooKassa(cfg, nil)
}

// NewYooKassa builds the YooKassa processor; client may be nil for one with
// a 15-second timeout.
func NewYooKassa(cfg ProcessorConfig, client *http.Client) (*yooKassa, error) {
	if cfg.Name == "" {
		cfg.Name = "yookassa"
	}
	if cfg.Currency == "" {
		cfg.Currency = "RUB"
	}
	if cfg.ShopID == "" || cfg.SecretKey == "" {
		return nil, fmt.Errorf("yookassa: shop_id and secret_key are required")
	}
	api := strings.TrimRight(cfg.APIURL, "/")
	if api == "" {
		api = yooDefaultAPI
	}
	if u, err := url.Parse(api); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("yookassa: api_url %q is not an absolute URL", cfg.APIURL)
	}
	from := cfg.NotifyFrom
	if len(from) == 0 {
		from = yooNetworks
	}
	allow, err := netaddr.ParsePrefixes("notify_from", from)
	if err != nil {
		return nil, fmt.Errorf("yookassa: %w", err)
	}
	switch cfg.Receipts {
	case "", ReceiptsYooKassa:
	default:
		return nil, fmt.Errorf("yookassa: receipts %q: want \"yookassa\" (YooKassa issues them) or nothing (Kabinet's own, [fiscal])", cfg.Receipts)
	}
	if cfg.VATCode < 0 || cfg.VATCode > 12 {
		return nil, fmt.Errorf("yookassa: vat_code %d: want one of YooKassa's codes, 1 to 12", cfg.VATCode)
	}
	if client == nil {
		// Every notification is confirmed by a GET to the API: keep enough
		// connections open for a busy hour's concurrent notifications
		// (the default transport keeps two, and opens a connection per
		// request beyond them).
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		client = &http.Client{Timeout: 15 * time.Second, Transport: t}
	}
	y := &yooKassa{cfg: cfg, api: api, client: client, allow: allow, sbp: cfg.SBP == nil || *cfg.SBP, log: slog.Default(),
		receipts: cfg.Receipts == ReceiptsYooKassa}
	y.wait = func(ctx context.Context, attempt int) error {
		t := time.NewTimer(time.Duration(attempt) * 500 * time.Millisecond)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	return y, nil
}

func (y *yooKassa) Name() string                        { return y.cfg.Name }
func (y *yooKassa) IssuesReceipts() bool                { return y.receipts }
func (y *yooKassa) SecurityPhone() string               { return y.cfg.SecurityPhone }
func (y *yooKassa) setTrustedProxies(ps []netip.Prefix) { y.proxies = ps }
func (y *yooKassa) Reason(code string) Reason           { return yooReason(code) }
func (y *yooKassa) Start(ctx context.Context, p CardPayment) (string, error) {
	c, err := y.StartMethod(ctx, p, MethodCard)
	return c.URL, err
}

// SetReceiptRules implements ReceiptIssuer.
func (y *yooKassa) SetReceiptRules(r ReceiptRules) error {
	rules, err := newYooRules(r, y.cfg.VATCode)
	if err != nil {
		return err
	}
	y.rules = rules
	return nil
}

// receipt is the receipt object for a request, nil when Kabinet issues the
// receipts itself.
func (y *yooKassa) receipt(contract, email, phone string, amount money.Amount) (*yooReceipt, error) {
	if !y.receipts {
		return nil, nil
	}
	if y.rules == nil {
		return nil, fmt.Errorf("yookassa: receipts = \"yookassa\" but no receipt rules were set ([fiscal] sno, vat, item)")
	}
	r := y.rules.receipt(contract, email, phone, amount, y.cfg.Currency)
	return &r, nil
}

func yooReason(code string) Reason {
	if r, ok := yooReasons[strings.ToLower(strings.TrimSpace(code))]; ok {
		return r
	}
	return ReasonIssuerDecline
}

func (y *yooKassa) Methods() []string {
	if y.sbp {
		return []string{MethodCard, MethodSBP}
	}
	return []string{MethodCard}
}

// The wire objects, only the fields Kabinet sends or reads.
type yooAmount struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

type yooConfirmation struct {
	Type             string `json:"type"`
	ReturnURL        string `json:"return_url,omitempty"`
	Locale           string `json:"locale,omitempty"`
	ConfirmationURL  string `json:"confirmation_url,omitempty"`
	ConfirmationData string `json:"confirmation_data,omitempty"`
}

type yooMethodData struct {
	Type string `json:"type"`
}

type yooPaymentRequest struct {
	Amount            yooAmount         `json:"amount"`
	Capture           bool              `json:"capture"`
	Confirmation      *yooConfirmation  `json:"confirmation,omitempty"`
	PaymentMethodData *yooMethodData    `json:"payment_method_data,omitempty"`
	PaymentMethodID   string            `json:"payment_method_id,omitempty"`
	SavePaymentMethod bool              `json:"save_payment_method,omitempty"`
	Description       string            `json:"description,omitempty"`
	Metadata          map[string]string `json:"metadata"`
	Receipt           *yooReceipt       `json:"receipt,omitempty"`
}

type yooPayment struct {
	ID                  string            `json:"id"`
	Status              string            `json:"status"`
	Paid                bool              `json:"paid"`
	Amount              yooAmount         `json:"amount"`
	Confirmation        *yooConfirmation  `json:"confirmation,omitempty"`
	Metadata            map[string]string `json:"metadata"`
	CancellationDetails *struct {
		Party  string `json:"party"`
		Reason string `json:"reason"`
	} `json:"cancellation_details,omitempty"`
	PaymentMethod *struct {
		Type  string `json:"type"`
		ID    string `json:"id"`
		Saved bool   `json:"saved"`
		Title string `json:"title"`
		Card  *struct {
			Last4       string `json:"last4"`
			ExpiryMonth string `json:"expiry_month"`
			ExpiryYear  string `json:"expiry_year"`
			CardType    string `json:"card_type"`
		} `json:"card,omitempty"`
	} `json:"payment_method,omitempty"`
	Test bool `json:"test"`
}

type yooRefund struct {
	ID        string    `json:"id"`
	PaymentID string    `json:"payment_id"`
	Status    string    `json:"status"`
	Amount    yooAmount `json:"amount"`
}

type yooNotification struct {
	Type   string          `json:"type"`
	Event  string          `json:"event"`
	Object json.RawMessage `json:"object"`
}

// yooError is the API's error answer.
type yooError struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Code        string `json:"code"`
	Description string `json:"description"`
	Parameter   string `json:"parameter"`
}

func (y *yooKassa) StartMethod(ctx context.Context, p CardPayment, method string) (Confirmation, error) {
	if p.Amount <= 0 {
		return Confirmation{}, fmt.Errorf("yookassa: amount %s is not positive", p.Amount)
	}
	req := yooPaymentRequest{
		Amount:   yooAmount{Value: p.Amount.Decimal(), Currency: y.cfg.Currency},
		Capture:  true,
		Metadata: map[string]string{yooPaymentKey: strconv.FormatInt(p.ID, 10), yooAccountKey: p.Account},
		// Shown in YooKassa's account and to the payer; at most 128 characters.
		Description: truncate(yooDescription(p), 128),
	}
	var err error
	if req.Receipt, err = y.receipt(p.Account, p.Email, p.Phone, p.Amount); err != nil {
		return Confirmation{}, err
	}
	switch method {
	case MethodCard:
		req.Confirmation = &yooConfirmation{Type: "redirect", ReturnURL: p.SuccessURL, Locale: yooLocale(p.Lang)}
		req.PaymentMethodData = &yooMethodData{Type: "bank_card"}
		req.SavePaymentMethod = p.SaveMethod
	case MethodSBP:
		if !y.sbp {
			return Confirmation{}, fmt.Errorf("yookassa: sbp: %w", ErrMethodUnsupported)
		}
		// The QR scenario: YooKassa answers with confirmation_data, the
		// SBP link Kabinet draws as a QR code. (YooKassa's SBP page lists
		// "redirect" as its scenario; "qr" is documented for the confirmation
		// object and used for SBP by SDKs, not tried against the live API.)
		req.Confirmation = &yooConfirmation{Type: "qr", Locale: yooLocale(p.Lang)}
		req.PaymentMethodData = &yooMethodData{Type: "sbp"}
	default:
		return Confirmation{}, fmt.Errorf("yookassa: method %q: %w", method, ErrMethodUnsupported)
	}
	var out yooPayment
	if err := y.call(ctx, http.MethodPost, "/payments", newIdempotenceKey(p.ID), req, &out); err != nil {
		return Confirmation{}, fmt.Errorf("yookassa: create payment %d: %w", p.ID, err)
	}
	c := Confirmation{Method: method, Ref: out.ID}
	if out.ID == "" || out.Confirmation == nil {
		return c, fmt.Errorf("yookassa: payment %d: the answer has no id or confirmation: %w", p.ID, ErrProcessorUnavailable)
	}
	switch method {
	case MethodCard:
		c.URL = out.Confirmation.ConfirmationURL
		if c.URL == "" {
			return c, fmt.Errorf("yookassa: payment %d: no confirmation_url: %w", p.ID, ErrProcessorUnavailable)
		}
	case MethodSBP:
		c.QR = out.Confirmation.ConfirmationData
		if c.QR == "" {
			return c, fmt.Errorf("yookassa: payment %d: no confirmation_data: %w", p.ID, ErrProcessorUnavailable)
		}
	}
	return c, nil
}

func yooDescription(p CardPayment) string {
	if p.Account == "" {
		return "Оплата услуг связи"
	}
	return "Оплата услуг связи по договору №" + p.Account
}

func yooLocale(lang string) string {
	if lang == "en" {
		return "en_US"
	}
	return "ru_RU"
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// newIdempotenceKey is one request's key: the payment id makes it readable
// in YooKassa's logs, the random part keeps two Kabinets (or a restored
// database) from ever sharing one. Up to 64 characters are allowed.
func newIdempotenceKey(paymentID int64) string {
	return "kabinet-" + strconv.FormatInt(paymentID, 10) + "-" + randomHex(8)
}

// call sends one API request, repeating it with the same Idempotence-Key
// while YooKassa is unreachable, answers 5xx, or answers 202 (the request is
// still being processed). A 4xx is final.
func (y *yooKassa) call(ctx context.Context, method, path, key string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	var last error
	for attempt := range yooAttempts {
		if attempt > 0 {
			if err := y.wait(ctx, attempt); err != nil {
				return fmt.Errorf("%w: %w", ErrProcessorUnavailable, last)
			}
		}
		retry, err := y.once(ctx, method, path, key, body, out)
		if err == nil {
			return nil
		}
		last = err
		if !retry || ctx.Err() != nil {
			break
		}
		y.log.Info("yookassa: repeating a request", "path", path, "attempt", attempt+1, "err", err)
	}
	return last
}

func (y *yooKassa) once(ctx context.Context, method, path, key string, body []byte, out any) (retry bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, y.api+path, rd)
	if err != nil {
		return false, err
	}
	req.SetBasicAuth(y.cfg.ShopID, y.cfg.SecretKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotence-Key", key)
	}
	resp, err := y.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("%w: %v", ErrProcessorUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return true, fmt.Errorf("%w: reading the answer: %v", ErrProcessorUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if err := json.Unmarshal(data, out); err != nil {
			return false, fmt.Errorf("%w: the answer is not the documented JSON: %v", ErrProcessorUnavailable, err)
		}
		return false, nil
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, fmt.Errorf("%w: %s", ErrProcessorUnavailable, resp.Status)
	default:
		var e yooError
		_ = json.Unmarshal(data, &e)
		return false, fmt.Errorf("yookassa answered %s: %s %s (parameter %q, request %s)", resp.Status, e.Code, e.Description, e.Parameter, e.ID)
	}
}

// payment fetches a payment: what is applied always comes from here.
func (y *yooKassa) payment(ctx context.Context, id string) (yooPayment, error) {
	var p yooPayment
	if !validRef(id) {
		return p, fmt.Errorf("yookassa: payment id %q: %w", id, ErrBadCallback)
	}
	err := y.call(ctx, http.MethodGet, "/payments/"+url.PathEscape(id), "", nil, &p)
	if err == nil && p.ID != id {
		err = fmt.Errorf("yookassa: asked for payment %s, got %q: %w", id, p.ID, ErrBadCallback)
	}
	return p, err
}

func validRef(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// callback turns a payment fetched from the API into a Callback; an open
// payment has no Outcome.
func (y *yooKassa) callback(p yooPayment) (Callback, error) {
	id, err := strconv.ParseInt(p.Metadata[yooPaymentKey], 10, 64)
	if err != nil || id <= 0 {
		return Callback{}, fmt.Errorf("yookassa: payment %s carries no Kabinet payment id: %w", p.ID, ErrUnknownPayment)
	}
	amount, err := money.Parse(p.Amount.Value)
	if err != nil || amount <= 0 {
		return Callback{}, fmt.Errorf("yookassa: payment %s: amount %q: %w", p.ID, p.Amount.Value, ErrBadCallback)
	}
	if !strings.EqualFold(p.Amount.Currency, y.cfg.Currency) {
		return Callback{}, fmt.Errorf("yookassa: payment %s: currency %q, want %q: %w", p.ID, p.Amount.Currency, y.cfg.Currency, ErrAmountMismatch)
	}
	cb := Callback{PaymentID: id, ExternalID: p.ID, Amount: amount, Currency: strings.ToUpper(p.Amount.Currency)}
	switch p.Status {
	case yooSucceeded:
		cb.Outcome = OutcomePaid
		if pm := p.PaymentMethod; pm != nil && pm.Saved && pm.ID != "" {
			// Saved for later charges (save_payment_method): its id is what
			// a recurring charge sends as payment_method_id.
			m := &SavedMethod{Token: pm.ID, Title: pm.Title}
			if c := pm.Card; c != nil {
				m.Title = c.CardType
				if c.Last4 != "" {
					m.Masked = MaskLast4(c.Last4)
				}
				if len(c.ExpiryMonth) == 2 && len(c.ExpiryYear) == 4 {
					m.Expiry = c.ExpiryMonth + "/" + c.ExpiryYear[2:]
				}
			} else if pm.Type == "sbp" {
				m.Title = "СБП"
			}
			cb.Method = m
		}
	case yooCanceled:
		cb.Outcome = OutcomeDeclined
		if p.CancellationDetails != nil {
			cb.DeclineCode = p.CancellationDetails.Reason
		}
		cb.Reason = yooReason(cb.DeclineCode)
	case yooPending, yooWaiting:
		// Open; with capture: true waiting_for_capture passes by itself.
	default:
		return Callback{}, fmt.Errorf("yookassa: payment %s: status %q: %w", p.ID, p.Status, ErrBadCallback)
	}
	return cb, nil
}

// Check asks the API for the payment's state (the return page).
func (y *yooKassa) Check(ctx context.Context, ref string) (Callback, error) {
	p, err := y.payment(ctx, ref)
	if err != nil {
		return Callback{}, err
	}
	return y.callback(p)
}

// VerifyCallback reads a notification. Its body is only a hint of which
// object changed: the sender must be in YooKassa's networks, and the state
// applied is the one the API answers for the payment, so a forged, stale or
// reordered notification applies nothing the API does not confirm.
func (y *yooKassa) VerifyCallback(r *http.Request) (Callback, error) {
	if r.Method != http.MethodPost {
		return Callback{}, fmt.Errorf("yookassa: method %s: %w", r.Method, ErrBadCallback)
	}
	addr, ok := netaddr.Client(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), y.proxies)
	if !ok || !netaddr.In(y.allow, addr) {
		return Callback{}, fmt.Errorf("yookassa: notification from %s, outside YooKassa's networks: %w", addr, ErrBadSignature)
	}
	var n yooNotification
	if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
		return Callback{}, fmt.Errorf("yookassa: notification: %v: %w", err, ErrBadCallback)
	}
	var ref struct {
		ID        string `json:"id"`
		PaymentID string `json:"payment_id"`
	}
	if err := json.Unmarshal(n.Object, &ref); err != nil {
		return Callback{}, fmt.Errorf("yookassa: notification object: %v: %w", err, ErrBadCallback)
	}
	ctx := r.Context()
	switch n.Event {
	case yooEventSucceeded, yooEventCanceled, yooEventWaiting:
		p, err := y.payment(ctx, ref.ID)
		if err != nil {
			return Callback{}, err
		}
		cb, err := y.callback(p)
		if err != nil {
			return cb, err
		}
		if cb.Outcome == "" {
			// The notification says the payment is settled; the API says it
			// is not. Either a forgery or a notification that raced ahead.
			return cb, fmt.Errorf("yookassa: %s for payment %s, but the API says %q: %w", n.Event, p.ID, p.Status, ErrNotConfirmed)
		}
		return cb, nil
	case yooEventRefund:
		if !validRef(ref.ID) {
			return Callback{}, fmt.Errorf("yookassa: refund id %q: %w", ref.ID, ErrBadCallback)
		}
		var rf yooRefund
		if err := y.call(ctx, http.MethodGet, "/refunds/"+url.PathEscape(ref.ID), "", nil, &rf); err != nil {
			return Callback{}, fmt.Errorf("yookassa: refund %s: %w", ref.ID, err)
		}
		if rf.ID != ref.ID || rf.Status != yooSucceeded {
			return Callback{}, fmt.Errorf("yookassa: refund %s: the API says %q: %w", ref.ID, rf.Status, ErrNotConfirmed)
		}
		p, err := y.payment(ctx, rf.PaymentID)
		if err != nil {
			return Callback{}, err
		}
		cb, err := y.callback(p)
		if err != nil {
			return cb, err
		}
		cb.Outcome, cb.RefundRef, cb.Reason, cb.DeclineCode = OutcomeReversed, rf.ID, ReasonNone, ""
		return cb, nil
	default:
		return Callback{}, fmt.Errorf("yookassa: event %q: %w", n.Event, ErrBadCallback)
	}
}

// Refund returns a payment's money: POST /refunds under the request's key.
func (y *yooKassa) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	receipt, err := y.receipt(r.Account, r.Email, r.Phone, r.Amount)
	if err != nil {
		return RefundResult{}, err
	}
	body := struct {
		PaymentID   string      `json:"payment_id"`
		Amount      yooAmount   `json:"amount"`
		Description string      `json:"description,omitempty"`
		Receipt     *yooReceipt `json:"receipt,omitempty"`
	}{r.Ref, yooAmount{Value: r.Amount.Decimal(), Currency: y.cfg.Currency}, truncate(r.Reason, 250), receipt}
	var out yooRefund
	if err := y.call(ctx, http.MethodPost, "/refunds", r.Key, body, &out); err != nil {
		return RefundResult{}, fmt.Errorf("yookassa: refund of payment %d: %w", r.PaymentID, err)
	}
	res := RefundResult{Ref: out.ID}
	switch out.Status {
	case yooSucceeded:
		res.Status = RefundSucceeded
	case yooCanceled:
		res.Status = RefundFailed
	default:
		res.Status = RefundPending
	}
	return res, nil
}

// ErrNotConfirmed means a notification names a change the processor's API
// does not confirm. It is refused; a genuine one is repeated by the processor.
var ErrNotConfirmed = errors.New("the processor's API does not confirm the notification")

// ChargeSaved charges a saved method without the subscriber: a payment with
// payment_method_id and no confirmation, under the charge's key (a retry
// after a timeout returns the first payment). YooKassa usually answers
// succeeded or canceled at once; a pending one is settled by its
// notification, which carries the same metadata.
func (y *yooKassa) ChargeSaved(ctx context.Context, m SavedMethod, c RecurringCharge) (ChargeResult, error) {
	if c.Amount <= 0 || m.Token == "" || c.Key == "" {
		return ChargeResult{}, fmt.Errorf("yookassa: charge of payment %d: amount, method and key are required", c.PaymentID)
	}
	req := yooPaymentRequest{
		Amount:          yooAmount{Value: c.Amount.Decimal(), Currency: y.cfg.Currency},
		Capture:         true,
		PaymentMethodID: m.Token,
		Description:     truncate(yooDescription(CardPayment{Account: c.Account}), 128),
		Metadata:        map[string]string{yooPaymentKey: strconv.FormatInt(c.PaymentID, 10), yooAccountKey: c.Account},
	}
	var err error
	if req.Receipt, err = y.receipt(c.Account, c.Email, c.Phone, c.Amount); err != nil {
		return ChargeResult{}, err
	}
	var out yooPayment
	if err := y.call(ctx, http.MethodPost, "/payments", c.Key, req, &out); err != nil {
		return ChargeResult{}, fmt.Errorf("yookassa: charge of payment %d: %w", c.PaymentID, err)
	}
	res := ChargeResult{ExternalID: out.ID}
	switch out.Status {
	case yooSucceeded:
		res.Outcome = OutcomePaid
	case yooCanceled:
		res.Outcome = OutcomeDeclined
		if out.CancellationDetails != nil {
			res.DeclineCode = out.CancellationDetails.Reason
		}
		res.Reason = yooReason(res.DeclineCode)
	}
	return res, nil
}
