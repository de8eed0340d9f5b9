package fiscal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
)

// Operator is a fiscal data operator's API as the worker uses it.
type Operator interface {
	// Register hands a receipt over; it returns the operator's id of the
	// document (ATOL's uuid) once accepted.
	Register(ctx context.Context, r Receipt) (uuid string, err error)
	// Report tells the document's result: Done false while the operator is
	// still registering it.
	Report(ctx context.Context, uuid string) (Result, error)
}

// Result is a registered receipt's fiscal data.
type Result struct {
	Done                    bool
	FNNumber                string // ФН: the fiscal drive's number
	FiscalDocumentNumber    int64  // ФД
	FiscalDocumentAttribute string // ФП: the fiscal sign
	FiscalReceiptNumber     int64
	ShiftNumber             int64
	ReceiptDatetime         string
	ECRRegistrationNumber   string
	FNSSite                 string
	CheckURL                string
}

// ErrRejected means the operator refused the document for good (its data,
// or a registration that failed): retrying the same request repeats it.
// Every other error is trouble that may pass, retried with backoff.
var ErrRejected = errors.New("refused by the fiscal data operator")

// DefaultATOLURL is ATOL Online's production API v5.
const DefaultATOLURL = "https://online.atol.ru/possystem/v5"

// ATOL is a client of ATOL Online API v5, as its documentation describes
// it (and the public clients that follow it):
//
//	POST {api}/getToken                 {"login","pass"} → {"token","error","timestamp"}
//	POST {api}/{group}/sell|sell_refund  header Token; {"external_id","receipt","timestamp"} → {"uuid","status":"wait","error","timestamp"}
//	GET  {api}/{group}/report/{uuid}     header Token → {"uuid","status":"wait|done|fail","error","payload":{…}}
//
// A token is valid for 24 hours; the client takes a new one before then,
// and again when the service answers that it expired.
type ATOL struct {
	URL       string
	Login     string
	Password  string
	GroupCode string
	HTTP      *http.Client
	Clock     clock.Clock

	mu      sync.Mutex
	token   string
	expires time.Time
}

// tokenLife is taken a little short of ATOL's 24 hours, so that a token is
// never used in its last minutes.
const tokenLife = 23 * time.Hour

type atolError struct {
	ErrorID string `json:"error_id,omitempty"`
	Code    int    `json:"code"`
	Text    string `json:"text"`
	Type    string `json:"type,omitempty"`
}

func (e *atolError) Error() string {
	return fmt.Sprintf("ATOL error %d (%s): %s", e.Code, e.Type, e.Text)
}

// tokenTrouble tells an answer that the token is missing, wrong or expired:
// HTTP 401, or the error codes ATOL's v4 and v5 documents list for tokens
// (10 no token, 11 token expired or wrong; the exact numbering in v5 could
// not be confirmed, so 401 is what is relied on first).
func tokenTrouble(status int, e *atolError) bool {
	return status == http.StatusUnauthorized || (e != nil && (e.Code == 10 || e.Code == 11))
}

// rub is an amount in rubles as ATOL's JSON has it: a number with up to two
// decimals (1598 or 999.99).
type rub money.Amount

func (r rub) MarshalJSON() ([]byte, error) {
	s := money.Amount(r).Decimal()
	s = strings.TrimSuffix(strings.TrimSuffix(s, "0"), ".0")
	s = strings.TrimSuffix(s, ".")
	return []byte(s), nil
}

func (r *rub) UnmarshalJSON(b []byte) error {
	a, err := money.Parse(strings.Trim(string(b), `"`))
	*r = rub(a)
	return err
}

// flex takes a JSON number or string as text: ATOL's examples give the
// fiscal sign as a number, some clients as a string.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	*f = flex(strings.Trim(string(b), `"`))
	if *f == "null" {
		*f = ""
	}
	return nil
}

type atolRequest struct {
	ExternalID string      `json:"external_id"`
	Receipt    atolReceipt `json:"receipt"`
	Timestamp  string      `json:"timestamp"` // "dd.mm.yyyy HH:MM:SS"
}

type atolReceipt struct {
	Client   atolClient    `json:"client"`
	Company  atolCompany   `json:"company"`
	Items    []atolItem    `json:"items"`
	Payments []atolPayment `json:"payments"`
	Vats     []atolVat     `json:"vats"`
	Total    rub           `json:"total"`
}

type atolClient struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

type atolCompany struct {
	Email          string `json:"email"`
	SNO            string `json:"sno"`
	INN            string `json:"inn"`
	PaymentAddress string `json:"payment_address"`
}

type atolItem struct {
	Name          string  `json:"name"`
	Price         rub     `json:"price"`
	Quantity      float64 `json:"quantity"`
	Sum           rub     `json:"sum"`
	Measure       int     `json:"measure"` // 0: pieces or units (ФФД 1.2 tag 2108)
	PaymentMethod string  `json:"payment_method"`
	PaymentObject int     `json:"payment_object"` // ФФД 1.2 numeric code (tag 1212)
	Vat           atolVat `json:"vat"`
}

type atolVat struct {
	Type string `json:"type"`
	Sum  *rub   `json:"sum,omitempty"`
}

type atolPayment struct {
	Type int `json:"type"`
	Sum  rub `json:"sum"`
}

type atolResponse struct {
	UUID      string       `json:"uuid"`
	Status    string       `json:"status"`
	Error     *atolError   `json:"error"`
	Token     string       `json:"token"`
	Timestamp string       `json:"timestamp"`
	Payload   *atolPayload `json:"payload"`
}

type atolPayload struct {
	Total                   rub    `json:"total"`
	FNSSite                 string `json:"fns_site"`
	FNNumber                flex   `json:"fn_number"`
	ShiftNumber             int64  `json:"shift_number"`
	ReceiptDatetime         string `json:"receipt_datetime"`
	FiscalReceiptNumber     int64  `json:"fiscal_receipt_number"`
	FiscalDocumentNumber    int64  `json:"fiscal_document_number"`
	ECRRegistrationNumber   flex   `json:"ecr_registration_number"`
	FiscalDocumentAttribute flex   `json:"fiscal_document_attribute"`
	// ofd_receipt_url is in the payload of some ATOL answers (the check at
	// the fiscal data operator); not every document lists it.
	OFDReceiptURL string `json:"ofd_receipt_url"`
}

// vatType is ATOL's code of the VAT rate for the item. An advance or a
// prepayment is taxed at the calculated rate (22/122), a payment for what
// is delivered at the rate itself. Codes vat22 and vat122 (from 2026) are
// those ATOL's clients and integrators use; ATOL's own v5 document listing
// them could not be read here.
func vatType(rate, method string) string {
	if rate == "none" {
		return "none"
	}
	if rate == "0" {
		return "vat0"
	}
	switch method {
	case "full_prepayment", "prepayment", "advance":
		// 22/122, 10/110, 5/105 …
		n, _ := strconv.Atoi(rate)
		return "vat" + strconv.Itoa(100+n)
	}
	return "vat" + rate
}

// vatSum is the tax in an amount that includes it, at rate percent,
// rounded to the kopeck.
func vatSum(a money.Amount, rate string) money.Amount {
	p, err := strconv.ParseInt(rate, 10, 64)
	if err != nil || p == 0 {
		return 0
	}
	v := int64(a) * p
	d := 100 + p
	return money.Amount((v + d/2) / d)
}

// body is the receipt as ATOL wants it.
func (r Receipt) body(now time.Time) atolRequest {
	vt := vatType(r.VAT, r.PaymentMethod)
	var vs *rub
	if r.VAT != "none" {
		s := rub(vatSum(r.Amount, r.VAT))
		vs = &s
	}
	vat := atolVat{Type: vt, Sum: vs}
	return atolRequest{
		ExternalID: r.ExternalID,
		Receipt: atolReceipt{
			Client:  atolClient{Email: r.ClientEmail, Phone: r.ClientPhone},
			Company: atolCompany{Email: r.CompanyEmail, SNO: r.SNO, INN: r.INN, PaymentAddress: r.PaymentAddress},
			Items: []atolItem{{Name: r.Item, Price: rub(r.Amount), Quantity: 1, Sum: rub(r.Amount), Measure: 0,
				PaymentMethod: r.PaymentMethod, PaymentObject: r.PaymentObject, Vat: vat}},
			Payments: []atolPayment{{Type: r.PaymentType, Sum: rub(r.Amount)}},
			Vats:     []atolVat{vat},
			Total:    rub(r.Amount),
		},
		Timestamp: now.In(moscow).Format("02.01.2006 15:04:05"),
	}
}

var moscow = func() *time.Location {
	l, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		return time.FixedZone("MSK", 3*3600)
	}
	return l
}()

func (a *ATOL) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock.Now()
}

func (a *ATOL) base() string {
	u := strings.TrimRight(a.URL, "/")
	if u == "" {
		u = DefaultATOLURL
	}
	return u
}

func (a *ATOL) client() *http.Client {
	if a.HTTP == nil {
		return &http.Client{Timeout: 30 * time.Second}
	}
	return a.HTTP
}

// do sends one request and decodes the answer, whatever its status.
func (a *ATOL) do(ctx context.Context, method, url, token string, in any) (int, atolResponse, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, atolResponse{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, atolResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if token != "" {
		req.Header.Set("Token", token)
	}
	resp, err := a.client().Do(req)
	if err != nil {
		return 0, atolResponse{}, fmt.Errorf("ATOL %s: %w", req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, atolResponse{}, fmt.Errorf("ATOL %s: %w", req.URL.Path, err)
	}
	var out atolResponse
	if err := json.Unmarshal(data, &out); err != nil {
		if resp.StatusCode >= 500 {
			return resp.StatusCode, out, fmt.Errorf("ATOL %s: HTTP %d", req.URL.Path, resp.StatusCode)
		}
		return resp.StatusCode, out, fmt.Errorf("ATOL %s: HTTP %d, not JSON: %.100q", req.URL.Path, resp.StatusCode, data)
	}
	return resp.StatusCode, out, nil
}

// getToken returns the cached token, or a new one.
func (a *ATOL) getToken(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && a.now().Before(a.expires) {
		return a.token, nil
	}
	status, out, err := a.do(ctx, http.MethodPost, a.base()+"/getToken", "", map[string]string{"login": a.Login, "pass": a.Password})
	if err != nil {
		return "", err
	}
	if out.Error != nil || out.Token == "" {
		if out.Error != nil && status < 500 {
			// Wrong credentials stay wrong until the config changes, but
			// retrying with backoff costs nothing and survives a fix.
			return "", fmt.Errorf("ATOL getToken: %w", out.Error)
		}
		return "", fmt.Errorf("ATOL getToken: HTTP %d without a token", status)
	}
	a.token, a.expires = out.Token, a.now().Add(tokenLife)
	return a.token, nil
}

func (a *ATOL) dropToken(token string) {
	a.mu.Lock()
	if a.token == token {
		a.token = ""
	}
	a.mu.Unlock()
}

// call sends an authenticated request, taking a new token once if the
// service says the one it had expired.
func (a *ATOL) call(ctx context.Context, method, path string, in any) (int, atolResponse, error) {
	for try := 0; ; try++ {
		token, err := a.getToken(ctx)
		if err != nil {
			return 0, atolResponse{}, err
		}
		status, out, err := a.do(ctx, method, a.base()+"/"+a.GroupCode+path, token, in)
		if err == nil && tokenTrouble(status, out.Error) && try == 0 {
			a.dropToken(token)
			continue
		}
		return status, out, err
	}
}

// Register implements Operator: POST sell or sell_refund. A document with
// an external_id ATOL already has is answered with an error that carries
// the first document's uuid (code 33 in ATOL's documents, not confirmed
// for v5): that uuid is taken, so a resend never makes a second receipt.
func (a *ATOL) Register(ctx context.Context, r Receipt) (string, error) {
	status, out, err := a.call(ctx, http.MethodPost, "/"+r.Kind, r.body(a.now()))
	if err != nil {
		return "", err
	}
	if out.UUID != "" && (out.Error == nil || status < 500) {
		return out.UUID, nil
	}
	return "", answerError("sell", status, out)
}

// Report implements Operator: GET report/{uuid}.
func (a *ATOL) Report(ctx context.Context, uuid string) (Result, error) {
	status, out, err := a.call(ctx, http.MethodGet, "/report/"+uuid, nil)
	if err != nil {
		return Result{}, err
	}
	switch {
	case status >= 500:
		return Result{}, answerError("report", status, out)
	case out.Status == "done" && out.Payload != nil:
		p := out.Payload
		return Result{Done: true, FNNumber: string(p.FNNumber), FiscalDocumentNumber: p.FiscalDocumentNumber,
			FiscalDocumentAttribute: string(p.FiscalDocumentAttribute), FiscalReceiptNumber: p.FiscalReceiptNumber,
			ShiftNumber: p.ShiftNumber, ReceiptDatetime: p.ReceiptDatetime, ECRRegistrationNumber: string(p.ECRRegistrationNumber),
			FNSSite: p.FNSSite, CheckURL: p.OFDReceiptURL}, nil
	case out.Status == "wait":
		return Result{}, nil
	case out.Status == "fail":
		if out.Error != nil {
			return Result{}, fmt.Errorf("ATOL report %s: %w: %w", uuid, out.Error, ErrRejected)
		}
		return Result{}, fmt.Errorf("ATOL report %s: failed: %w", uuid, ErrRejected)
	}
	return Result{}, answerError("report", status, out)
}

// answerError classifies an answer without the expected result: a server's
// trouble may pass, a refusal of the request's data does not.
func answerError(what string, status int, out atolResponse) error {
	if status >= 500 || status == 0 || status == http.StatusTooManyRequests || tokenTrouble(status, out.Error) {
		if out.Error != nil {
			return fmt.Errorf("ATOL %s: HTTP %d: %w", what, status, out.Error)
		}
		return fmt.Errorf("ATOL %s: HTTP %d", what, status)
	}
	if out.Error != nil {
		return fmt.Errorf("ATOL %s: %w: %w", what, out.Error, ErrRejected)
	}
	return fmt.Errorf("ATOL %s: HTTP %d, status %q: %w", what, status, out.Status, ErrRejected)
}
