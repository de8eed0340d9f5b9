package payment

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeYooKassa speaks YooKassa API v3's documented JSON on loopback: payments
// created under an Idempotence-Key (a repeat returns the first), fetched by
// id, and refunds; with the failures a real network shows.
type fakeYooKassa struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	payments map[string]map[string]any // by id
	refunds  map[string]map[string]any
	byKey    map[string]string // Idempotence-Key → object id
	requests []fakeRequest
	// Failure modes, consumed one per request of any kind.
	fail5xx     int  // answer 500 this many times
	hang        int  // never answer this many times (the client times out)
	accepted    int  // answer 202 (processing, repeat) this many times
	down        bool // every request answers 503
	refundState string
	// chargeReason, when set, cancels recurring charges (payment_method_id)
	// with this cancellation reason; otherwise they succeed at once.
	chargeReason string
	// requireReceipt: the shop has YooKassa's receipts on, so a payment or
	// refund without a valid receipt object is refused, as YooKassa
	// refuses it.
	requireReceipt bool
	n              int
}

type fakeRequest struct {
	Method, Path, Key, Auth string
	Body                    map[string]any
}

func newFakeYooKassa(t testing.TB) *fakeYooKassa {
	f := &fakeYooKassa{t: t, payments: map[string]map[string]any{}, refunds: map[string]map[string]any{}, byKey: map[string]string{}, refundState: "succeeded"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeYooKassa) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if r.Body != nil && r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.errorAnswer(w, 400, "invalid_request", "body is not JSON")
			return
		}
	}
	user, pass, _ := r.BasicAuth()
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{r.Method, r.URL.Path, r.Header.Get("Idempotence-Key"), user + ":" + pass, body})
	hang := f.hang > 0
	switch {
	case f.down:
		f.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case hang:
		f.hang--
	case f.fail5xx > 0:
		f.fail5xx--
		f.mu.Unlock()
		f.errorAnswer(w, 500, "internal_server_error", "try again")
		return
	case f.accepted > 0:
		f.accepted--
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"type":"processing","description":"Request accepted","retry_after":1800}`))
		return
	}
	f.mu.Unlock()
	if hang {
		<-r.Context().Done() // the client gives up; nothing is created
		return
	}
	if user != "123456" || pass != "test_secret" {
		f.errorAnswer(w, 401, "invalid_credentials", "Login or password is wrong")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v3")
	if r.Method == http.MethodPost && (path == "/payments" || path == "/refunds") {
		if err := checkReceipt(body, f.requireReceipt); err != "" {
			f.errorAnswer(w, 400, "invalid_request", err)
			return
		}
	}
	switch {
	case r.Method == http.MethodPost && path == "/payments":
		f.createPayment(w, r, body)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/payments/"):
		f.get(w, f.payments, strings.TrimPrefix(path, "/payments/"))
	case r.Method == http.MethodPost && path == "/refunds":
		f.createRefund(w, r, body)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/refunds/"):
		f.get(w, f.refunds, strings.TrimPrefix(path, "/refunds/"))
	default:
		f.errorAnswer(w, 404, "not_found", "no such method")
	}
}

func (f *fakeYooKassa) errorAnswer(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"type": "error", "id": "err-1", "code": code, "description": desc})
}

func (f *fakeYooKassa) answer(w http.ResponseWriter, obj map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(obj)
}

func (f *fakeYooKassa) createPayment(w http.ResponseWriter, r *http.Request, body map[string]any) {
	key := r.Header.Get("Idempotence-Key")
	if key == "" {
		f.errorAnswer(w, 400, "invalid_request", "Idempotence-Key header is missing")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.byKey[key]; ok {
		f.answer(w, f.payments[id])
		return
	}
	f.n++
	id := fmt.Sprintf("2f%06d-000f-5000-9000-1b68e7b15f3f", f.n)
	if pm, ok := body["payment_method_id"].(string); ok {
		// A charge of a saved method: no confirmation, settled at once.
		p := map[string]any{"id": id, "status": "succeeded", "paid": true, "amount": body["amount"], "metadata": body["metadata"],
			"payment_method": map[string]any{"type": "bank_card", "id": pm, "saved": true, "title": "Bank card *4444"}}
		if f.chargeReason != "" {
			p["status"], p["paid"] = "canceled", false
			p["cancellation_details"] = map[string]any{"party": "payment_network", "reason": f.chargeReason}
		}
		f.payments[id] = p
		f.byKey[key] = id
		f.answer(w, p)
		return
	}
	conf := body["confirmation"].(map[string]any)
	out := map[string]any{"type": conf["type"]}
	switch conf["type"] {
	case "redirect":
		out["confirmation_url"] = "https://yoomoney.ru/checkout/payments/v2/contract?orderId=" + id
		out["return_url"] = conf["return_url"]
	case "qr":
		out["confirmation_data"] = "https://qr.nspk.ru/AS1A000" + fmt.Sprint(f.n) + "?type=02&bank=100000000111&sum=" + strings.ReplaceAll(body["amount"].(map[string]any)["value"].(string), ".", "") + "&cur=RUB&crc=C08B"
	}
	p := map[string]any{
		"id": id, "status": "pending", "paid": false, "amount": body["amount"], "confirmation": out,
		"created_at": "2026-12-01T09:00:00.000Z", "description": body["description"], "metadata": body["metadata"],
		"recipient": map[string]any{"account_id": "123456", "gateway_id": "1"}, "refundable": false, "test": true,
		"save": body["save_payment_method"] == true,
	}
	f.payments[id] = p
	f.byKey[key] = id
	f.answer(w, p)
}

func (f *fakeYooKassa) createRefund(w http.ResponseWriter, r *http.Request, body map[string]any) {
	key := r.Header.Get("Idempotence-Key")
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.byKey[key]; ok && key != "" {
		f.answer(w, f.refunds[id])
		return
	}
	pid, _ := body["payment_id"].(string)
	if p, ok := f.payments[pid]; !ok || p["status"] != "succeeded" {
		f.errorAnswer(w, 400, "invalid_request", "payment is not succeeded")
		return
	}
	f.n++
	id := fmt.Sprintf("2f%06d-0015-5000-8000-1d9a6b5c2e7a", f.n)
	rf := map[string]any{"id": id, "payment_id": pid, "status": f.refundState, "amount": body["amount"], "created_at": "2026-12-01T10:00:00.000Z"}
	f.refunds[id] = rf
	f.byKey[key] = id
	f.answer(w, rf)
}

func (f *fakeYooKassa) get(w http.ResponseWriter, m map[string]map[string]any, id string) {
	f.mu.Lock()
	obj, ok := m[id]
	f.mu.Unlock()
	if !ok {
		f.errorAnswer(w, 404, "not_found", "Incorrect payment_id. Payment doesn't exist or access denied.")
		return
	}
	f.answer(w, obj)
}

// settle changes a payment's state the way the payer's action at YooKassa
// would; reason is cancellation_details.reason for "canceled".
func (f *fakeYooKassa) settle(id, status, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.payments[id]
	if p == nil {
		f.t.Fatalf("fake yookassa: no payment %s", id)
	}
	p["status"] = status
	switch status {
	case "succeeded":
		p["paid"], p["refundable"] = true, true
		p["payment_method"] = map[string]any{"type": "bank_card", "id": "pm-" + id, "saved": p["save"] == true, "title": "Bank card *4444",
			"card": map[string]any{"first6": "555555", "last4": "4444", "expiry_month": "07", "expiry_year": "2029", "card_type": "MasterCard"}}
	case "canceled":
		p["cancellation_details"] = map[string]any{"party": "payment_network", "reason": reason}
	}
}

func (f *fakeYooKassa) setRefund(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refunds[id]["status"] = status
}

// notification is the body YooKassa posts for an event on an object.
func (f *fakeYooKassa) notification(event string, id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	obj := f.payments[id]
	if strings.HasPrefix(event, "refund.") {
		obj = f.refunds[id]
	}
	if obj == nil {
		obj = map[string]any{"id": id, "status": strings.TrimPrefix(event, "payment."), "amount": map[string]string{"value": "500.00", "currency": "RUB"},
			"metadata": map[string]string{"kabinet_payment_id": "1"}}
	}
	b, _ := json.Marshal(map[string]any{"type": "notification", "event": event, "object": obj})
	return string(b)
}

func (f *fakeYooKassa) calls(method, path string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.requests {
		if r.Method == method && strings.TrimPrefix(r.Path, "/v3") == path {
			out = append(out, r)
		}
	}
	return out
}

// checkReceipt checks a request's receipt object against YooKassa's
// reference: a customer with an e-mail or a phone (E.164 without "+"),
// items with a description of up to 128 characters, a positive quantity,
// an amount in the request's currency, a vat_code from the table, a
// payment_subject and payment_mode; the items add up to the amount;
// tax_system_code, when given, from 1 to 6. It returns what is wrong, or "".
func checkReceipt(body map[string]any, required bool) string {
	rc, ok := body["receipt"].(map[string]any)
	if !ok {
		if required {
			return "Receipt is missing or illegal"
		}
		return ""
	}
	cust, _ := rc["customer"].(map[string]any)
	email, _ := cust["email"].(string)
	phone, _ := cust["phone"].(string)
	if email == "" && phone == "" {
		return "receipt.customer: email or phone is required"
	}
	if phone != "" && (strings.HasPrefix(phone, "+") || len(phone) != 11) {
		return "receipt.customer.phone: not in ITU-T E.164"
	}
	items, _ := rc["items"].([]any)
	if len(items) == 0 || len(items) > 100 {
		return "receipt.items: 1 to 100 items"
	}
	amount := body["amount"].(map[string]any)
	want, _ := strconv.ParseFloat(amount["value"].(string), 64)
	var sum float64
	for _, it := range items {
		item, _ := it.(map[string]any)
		desc, _ := item["description"].(string)
		qty, _ := item["quantity"].(float64)
		am, _ := item["amount"].(map[string]any)
		vat, _ := item["vat_code"].(float64)
		subj, _ := item["payment_subject"].(string)
		mode, _ := item["payment_mode"].(string)
		val, _ := am["value"].(string)
		v, err := strconv.ParseFloat(val, 64)
		switch {
		case desc == "" || len([]rune(desc)) > 128:
			return "receipt.items.description: 1 to 128 characters"
		case qty <= 0:
			return "receipt.items.quantity: must be positive"
		case err != nil || am["currency"] != amount["currency"]:
			return "receipt.items.amount: the request's currency"
		case vat < 1 || vat > 12 || vat != float64(int(vat)):
			return "receipt.items.vat_code: unknown"
		case subj == "" || mode == "":
			return "receipt.items: payment_subject and payment_mode are required"
		}
		sum += v * qty
	}
	if fmt.Sprintf("%.2f", sum) != fmt.Sprintf("%.2f", want) {
		return "receipt: the items' sum differs from the amount"
	}
	if tsc, ok := rc["tax_system_code"].(float64); ok && (tsc < 1 || tsc > 6) {
		return "receipt.tax_system_code: 1 to 6"
	}
	return ""
}
