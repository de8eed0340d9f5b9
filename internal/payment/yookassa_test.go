package payment

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

func testYooKassa(t testing.TB, f *fakeYooKassa) *yooKassa {
	t.Helper()
	y, err := NewYooKassa(ProcessorConfig{Kind: "yookassa", ShopID: "123456", SecretKey: "test_secret", APIURL: f.srv.URL + "/v3",
		SecurityPhone: "+7 800 250-66-99"}, &http.Client{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	y.wait = func(ctx context.Context, _ int) error { return ctx.Err() }
	return y
}

// yooNotify posts a notification body from addr through the callback handler.
func yooNotify(t testing.TB, svc *Service, y *yooKassa, addr, body string, xff ...string) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, CallbackPath("yookassa"), strings.NewReader(body))
	r.RemoteAddr = addr
	for _, h := range xff {
		r.Header.Add("X-Forwarded-For", h)
	}
	w := httptest.NewRecorder()
	CallbackHandler(y, svc, nil).ServeHTTP(w, r)
	return w.Code
}

const yooAddr = "185.71.76.7:34567" // inside YooKassa's published networks

func TestYooKassaStartRequests(t *testing.T) {
	f := newFakeYooKassa(t)
	y := testYooKassa(t, f)
	svc, db, _ := testService(t, y)
	acct := addAccount(t, db, "100077", "active")
	ctx := context.Background()

	p, c, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", Lang: "en", ReturnURL: "https://isp.example/payments/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.URL, "https://yoomoney.ru/checkout/") || c.Ref == "" {
		t.Errorf("card confirmation %+v", c)
	}
	reqs := f.calls("POST", "/payments")
	if len(reqs) != 1 {
		t.Fatalf("%d create requests", len(reqs))
	}
	r := reqs[0]
	if r.Auth != "123456:test_secret" || !strings.HasPrefix(r.Key, "kabinet-"+strconv.FormatInt(p.ID, 10)+"-") {
		t.Errorf("auth %q key %q", r.Auth, r.Key)
	}
	amount := r.Body["amount"].(map[string]any)
	conf := r.Body["confirmation"].(map[string]any)
	meta := r.Body["metadata"].(map[string]any)
	if amount["value"] != "500.00" || amount["currency"] != "RUB" || r.Body["capture"] != true ||
		conf["type"] != "redirect" || conf["return_url"] != "https://isp.example/payments/"+strconv.FormatInt(p.ID, 10) || conf["locale"] != "en_US" ||
		meta["kabinet_payment_id"] != strconv.FormatInt(p.ID, 10) || !strings.Contains(r.Body["description"].(string), "100077") {
		t.Errorf("card request %+v", r.Body)
	}

	sp, sc, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 12345, Processor: "yookassa", Method: MethodSBP, ReturnURL: "https://isp.example/payments/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	r = f.calls("POST", "/payments")[1]
	if r.Body["confirmation"].(map[string]any)["type"] != "qr" || r.Body["payment_method_data"].(map[string]any)["type"] != "sbp" ||
		r.Body["amount"].(map[string]any)["value"] != "123.45" {
		t.Errorf("sbp request %+v", r.Body)
	}
	if !strings.HasPrefix(sc.QR, "https://qr.nspk.ru/") {
		t.Errorf("sbp confirmation %+v", sc)
	}
	stored, err := svc.Confirmation(ctx, acct, sp.ID)
	if err != nil || stored.QR != sc.QR || stored.Ref != sc.Ref || stored.Method != MethodSBP {
		t.Errorf("stored confirmation %+v, %v", stored, err)
	}
	other := addAccount(t, db, "100078", "active")
	if _, err := svc.Confirmation(ctx, other, sp.ID); !errors.Is(err, derrors.NotFound) {
		t.Errorf("another account reads the QR code: %v", err)
	}
}

// TestYooKassaRetries: YooKassa unreachable, failing or still processing is
// asked again with the same Idempotence-Key, so one payment is created; a
// YooKassa that stays away leaves the payment failed, not pending.
func TestYooKassaRetries(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(f *fakeYooKassa)
		wantErr  bool
		requests int
	}{
		{"two 500s then created", func(f *fakeYooKassa) { f.fail5xx = 2 }, false, 3},
		{"202 processing then created", func(f *fakeYooKassa) { f.accepted = 1 }, false, 2},
		{"a timeout then created", func(f *fakeYooKassa) { f.hang = 1 }, false, 2},
		{"down", func(f *fakeYooKassa) { f.down = true }, true, yooAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeYooKassa(t)
			y := testYooKassa(t, f)
			y.client.Timeout = 300 * time.Millisecond
			svc, db, _ := testService(t, y)
			acct := addAccount(t, db, "100079", "active")
			tt.fail(f)
			p, c, err := svc.Start(context.Background(), CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", Method: MethodSBP, ReturnURL: "https://isp.example/payments/{id}"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			reqs := f.calls("POST", "/payments")
			if len(reqs) != tt.requests {
				t.Errorf("%d requests, want %d", len(reqs), tt.requests)
			}
			for _, r := range reqs {
				if r.Key != reqs[0].Key {
					t.Errorf("keys differ: %q and %q", reqs[0].Key, r.Key)
				}
			}
			if len(f.payments) > 1 {
				t.Errorf("%d payments created", len(f.payments))
			}
			got, _ := svc.Get(context.Background(), acct, p.ID)
			if tt.wantErr {
				if !errors.Is(err, ErrProcessorUnavailable) || got.Status != StatusFailed || got.Reason != ReasonTryLater {
					t.Errorf("err %v, payment %+v", err, got)
				}
			} else if c.QR == "" || got.Status != StatusPending {
				t.Errorf("confirmation %+v, payment %+v", c, got)
			}
		})
	}
}

// TestYooKassaNotifications plays notifications (repeated, reordered,
// forged, from elsewhere) against the real database on both engines: the
// payment is credited once, and only when YooKassa's API says it succeeded.
func TestYooKassaNotifications(t *testing.T) {
	type step struct {
		settle  string // change the payment at YooKassa first: "succeeded", "canceled:reason"
		event   string
		addr    string // "" = yooAddr
		xff     string
		foreign bool // the notification names a payment YooKassa never made
		down    bool // YooKassa's API is unreachable while confirming
		want    int
	}
	tests := []struct {
		name       string
		proxies    []string
		steps      []step
		wantStatus Status
		wantReason Reason
		wantBal    int64
	}{
		{"succeeded", nil, []step{{settle: "succeeded", event: "payment.succeeded", want: 200}}, StatusSucceeded, "", 50000},
		{"succeeded, repeated thrice", nil, []step{{settle: "succeeded", event: "payment.succeeded", want: 200}, {event: "payment.succeeded", want: 200}, {event: "payment.succeeded", want: 200}}, StatusSucceeded, "", 50000},
		{"canceled: insufficient funds", nil, []step{{settle: "canceled:insufficient_funds", event: "payment.canceled", want: 200}}, StatusFailed, ReasonNoFunds, 0},
		{"canceled: unscanned QR expired", nil, []step{{settle: "canceled:expired_on_confirmation", event: "payment.canceled", want: 200}}, StatusFailed, ReasonExpired, 0},
		{"out of order: canceled arrives after succeeded", nil, []step{{settle: "succeeded", event: "payment.succeeded", want: 200}, {event: "payment.canceled", want: 200}}, StatusSucceeded, "", 50000},
		{"out of order: succeeded arrives before the API says so", nil, []step{{event: "payment.succeeded", want: 400}, {settle: "succeeded", event: "payment.succeeded", want: 200}}, StatusSucceeded, "", 50000},
		{"forged succeeded, API says canceled", nil, []step{{settle: "canceled:fraud_suspected", event: "payment.succeeded", want: 200}}, StatusFailed, ReasonSecurity, 0},
		{"forged succeeded, API says pending", nil, []step{{event: "payment.succeeded", want: 400}}, StatusPending, "", 0},
		{"from outside YooKassa's networks", nil, []step{{settle: "succeeded", event: "payment.succeeded", addr: "203.0.113.9:443", want: 403}}, StatusPending, "", 0},
		{"X-Forwarded-For without a trusted proxy", nil, []step{{settle: "succeeded", event: "payment.succeeded", addr: "203.0.113.9:443", xff: "185.71.76.7", want: 403}}, StatusPending, "", 0},
		{"through a trusted proxy", []string{"10.0.0.0/8"}, []step{{settle: "succeeded", event: "payment.succeeded", addr: "10.0.0.2:5000", xff: "185.71.77.20", want: 200}}, StatusSucceeded, "", 50000},
		{"through a trusted proxy from elsewhere", []string{"10.0.0.0/8"}, []step{{settle: "succeeded", event: "payment.succeeded", addr: "10.0.0.2:5000", xff: "198.51.100.1", want: 403}}, StatusPending, "", 0},
		{"a payment YooKassa never made", nil, []step{{event: "payment.succeeded", foreign: true, want: 400}}, StatusPending, "", 0},
		{"API away while confirming, then repeated", nil, []step{{settle: "succeeded", event: "payment.succeeded", down: true, want: 503}, {event: "payment.succeeded", want: 200}}, StatusSucceeded, "", 50000},
		{"unknown event", nil, []step{{event: "deal.closed", want: 400}}, StatusPending, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFakeYooKassa(t)
				y := testYooKassa(t, f)
				svc, _ := testServiceOn(t, db, y)
				var proxies []netip.Prefix
				for _, p := range tt.proxies {
					proxies = append(proxies, netip.MustParsePrefix(p))
				}
				if _, err := svc.Routes(nil, proxies); err != nil {
					t.Fatal(err)
				}
				acct := addAccount(t, db, "100045", "active")
				p, c, err := svc.Start(context.Background(), CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", Method: MethodSBP, ReturnURL: "https://isp.example/payments/{id}"})
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range tt.steps {
					if st, reason, _ := strings.Cut(s.settle, ":"); st != "" {
						f.settle(c.Ref, st, reason)
					}
					addr := s.addr
					if addr == "" {
						addr = yooAddr
					}
					ref := c.Ref
					if s.foreign {
						ref = "2f999999-000f-5000-9000-000000000000"
					}
					f.mu.Lock()
					f.down = s.down
					f.mu.Unlock()
					var xff []string
					if s.xff != "" {
						xff = []string{s.xff}
					}
					if got := yooNotify(t, svc, y, addr, f.notification(s.event, ref), xff...); got != s.want {
						t.Errorf("step %d (%s): HTTP %d, want %d", i, s.event, got, s.want)
					}
					f.mu.Lock()
					f.down = false
					f.mu.Unlock()
				}
				got, err := svc.Get(context.Background(), acct, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != tt.wantStatus || got.Reason != tt.wantReason {
					t.Errorf("payment %s/%s, want %s/%s", got.Status, got.Reason, tt.wantStatus, tt.wantReason)
				}
				if b := balance(t, db, acct); int64(b) != tt.wantBal {
					t.Errorf("balance %d, want %d", b, tt.wantBal)
				}
				verifyBooks(t, db)
			})
		})
	}
}

// TestYooKassaReturnPage: the page the subscriber returns to shows the
// result as soon as YooKassa has it, before any notification.
func TestYooKassaReturnPage(t *testing.T) {
	f := newFakeYooKassa(t)
	y := testYooKassa(t, f)
	svc, db, clk := testService(t, y)
	acct := addAccount(t, db, "100046", "active")
	ctx := context.Background()
	p, c, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", ReturnURL: "https://isp.example/payments/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Refresh(ctx, acct, p.ID); got.Status != StatusPending {
		t.Fatalf("status %s before paying", got.Status)
	}
	f.settle(c.Ref, "succeeded", "")
	// Asked again within a few seconds: the processor is not asked again.
	if got, _ := svc.Refresh(ctx, acct, p.ID); got.Status != StatusPending {
		t.Errorf("asked the processor again at once: %s", got.Status)
	}
	clk.Advance(checkEvery)
	if got, _ := svc.Refresh(ctx, acct, p.ID); got.Status != StatusSucceeded {
		t.Errorf("status %s after paying, want succeeded", got.Status)
	}
	if b := balance(t, db, acct); b != 50000 {
		t.Errorf("balance %d", b)
	}
	// The notification that follows credits nothing again.
	if code := yooNotify(t, svc, y, yooAddr, f.notification("payment.succeeded", c.Ref)); code != 200 {
		t.Errorf("notification after the page: %d", code)
	}
	if b := balance(t, db, acct); b != 50000 {
		t.Errorf("balance %d after the notification", b)
	}

	// A declined card shows its reason on the same page.
	p2, c2, _ := svc.Start(ctx, CardStart{AccountID: acct, Amount: 1000, Processor: "yookassa", ReturnURL: "https://isp.example/payments/{id}"})
	f.settle(c2.Ref, "canceled", "card_expired")
	if got, _ := svc.Refresh(ctx, acct, p2.ID); got.Status != StatusFailed || got.Reason != ReasonCardExpired {
		t.Errorf("declined: %s/%s", got.Status, got.Reason)
	}
}

// TestYooKassaRefund: an operator's refund goes to YooKassa once whatever
// happens, and reverses the payment once, immediately or on the
// refund.succeeded notification.
func TestYooKassaRefund(t *testing.T) {
	for _, pending := range []bool{false, true} {
		t.Run("pending="+strconv.FormatBool(pending), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFakeYooKassa(t)
				y := testYooKassa(t, f)
				svc, _ := testServiceOn(t, db, y)
				acct := addAccount(t, db, "100047", "active")
				ctx := context.Background()
				p, c, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", ReturnURL: "https://isp.example/payments/{id}"})
				if err != nil {
					t.Fatal(err)
				}
				f.settle(c.Ref, "succeeded", "")
				if code := yooNotify(t, svc, y, yooAddr, f.notification("payment.succeeded", c.Ref)); code != 200 {
					t.Fatalf("notification %d", code)
				}
				if pending {
					f.refundState = "pending"
				}
				// The first request fails with 500s all three times: left pending.
				f.fail5xx = yooAttempts
				if _, err := svc.RefundPayment(ctx, acct, p.ID, "", "admin"); !errors.Is(err, ErrReasonRequired) {
					t.Errorf("no reason: %v", err)
				}
				if _, err := svc.RefundPayment(ctx, acct, p.ID, "двойная оплата", "admin"); !errors.Is(err, ErrProcessorUnavailable) {
					t.Fatalf("refund while YooKassa fails: %v", err)
				}
				if b := balance(t, db, acct); b != 50000 {
					t.Errorf("balance %d after a failed refund request", b)
				}
				rf, err := svc.RefundPayment(ctx, acct, p.ID, "двойная оплата", "admin")
				if err != nil {
					t.Fatal(err)
				}
				reqs := f.calls("POST", "/refunds")
				for _, r := range reqs {
					if r.Key != reqs[0].Key || r.Body["payment_id"] != c.Ref || r.Body["amount"].(map[string]any)["value"] != "500.00" {
						t.Errorf("refund request %+v", r)
					}
				}
				if len(f.refunds) != 1 {
					t.Errorf("%d refunds at YooKassa", len(f.refunds))
				}
				if pending {
					if rf.Status != RefundPending || balance(t, db, acct) != 50000 {
						t.Errorf("pending refund %+v, balance %d", rf, balance(t, db, acct))
					}
					f.setRefund(rf.Ref, "succeeded")
					for range 2 { // repeated
						if code := yooNotify(t, svc, y, yooAddr, f.notification("refund.succeeded", rf.Ref)); code != 200 {
							t.Errorf("refund notification %d", code)
						}
					}
				}
				if rf, _ = svc.RefundOf(ctx, p.ID); rf.Status != RefundSucceeded {
					t.Errorf("refund %+v", rf)
				}
				got, _ := svc.Get(ctx, acct, p.ID)
				if got.Status != StatusReversed || balance(t, db, acct) != 0 {
					t.Errorf("payment %s, balance %d", got.Status, balance(t, db, acct))
				}
				// Pressing again changes nothing.
				if _, err := svc.RefundPayment(ctx, acct, p.ID, "двойная оплата", "admin"); err != nil {
					t.Errorf("again: %v", err)
				}
				if balance(t, db, acct) != 0 || len(f.refunds) != 1 {
					t.Errorf("second refund: balance %d, %d refunds", balance(t, db, acct), len(f.refunds))
				}
				verifyBooks(t, db)
			})
		})
	}
}

func TestYooKassaReasons(t *testing.T) {
	for code, want := range map[string]Reason{
		"insufficient_funds": ReasonNoFunds, "card_expired": ReasonCardExpired, "fraud_suspected": ReasonSecurity,
		"3d_secure_failed": ReasonThreeDSecure, "call_issuer": ReasonIssuerDecline, "general_decline": ReasonIssuerDecline,
		"expired_on_confirmation": ReasonExpired, "permission_revoked": ReasonPermissionRevoked, "invalid_csc": ReasonWrongCardData,
		"payment_method_limit_exceeded": ReasonLimit, "issuer_unavailable": ReasonTryLater, "country_forbidden": ReasonOtherMethod,
		"something_new": ReasonIssuerDecline,
	} {
		if got := yooReason(code); got != want {
			t.Errorf("%s → %s, want %s", code, got, want)
		}
		if want != "" && ParseReason(string(want)) != want {
			t.Errorf("reason %s does not survive storage", want)
		}
	}
}

func TestYooKassaConfig(t *testing.T) {
	if _, err := NewProcessor(ProcessorConfig{Kind: "yookassa", ShopID: "1"}); err == nil {
		t.Error("no secret_key accepted")
	}
	if _, err := NewProcessor(ProcessorConfig{Kind: "yookassa", ShopID: "1", SecretKey: "k", APIURL: "not a url"}); err == nil {
		t.Error("a relative api_url accepted")
	}
	off := false
	p, err := NewProcessor(ProcessorConfig{Kind: "yookassa", ShopID: "1", SecretKey: "k", SBP: &off})
	if err != nil {
		t.Fatal(err)
	}
	if got := MethodsOf(p); len(got) != 1 || got[0] != MethodCard {
		t.Errorf("methods with sbp = false: %v", got)
	}
	if p.(*yooKassa).api != yooDefaultAPI {
		t.Errorf("default API %s", p.(*yooKassa).api)
	}
}

// TestYooKassaAutopay: "remember the card" sends save_payment_method, the
// paid payment's method is saved from the API's answer, and a later charge
// sends its payment_method_id under the charge's key, once.
func TestYooKassaAutopay(t *testing.T) {
	f := newFakeYooKassa(t)
	y := testYooKassa(t, f)
	svc, db, _ := testService(t, y)
	acct := addAccount(t, db, "100048", "active")
	ctx := context.Background()
	_, c, err := svc.Start(ctx, CardStart{AccountID: acct, Amount: 50000, Processor: "yookassa", SaveMethod: true, ReturnURL: "https://isp.example/payments/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls("POST", "/payments")[0].Body["save_payment_method"] != true {
		t.Error("save_payment_method not sent")
	}
	f.settle(c.Ref, "succeeded", "")
	if code := yooNotify(t, svc, y, yooAddr, f.notification("payment.succeeded", c.Ref)); code != 200 {
		t.Fatalf("notification %d", code)
	}
	ms, err := svc.SavedMethods(ctx, acct)
	if err != nil || len(ms) != 1 {
		t.Fatalf("saved methods %+v, %v", ms, err)
	}
	m := ms[0]
	if m.Token != "pm-"+c.Ref || m.Masked != MaskLast4("4444") || m.Expiry != "07/29" || m.Title != "MasterCard" {
		t.Errorf("saved %+v", m)
	}
	for range 2 { // the same key twice: one charge
		p, err := svc.ChargeSaved(ctx, SavedCharge{AccountID: acct, MethodID: m.ID, Amount: 70000, Key: "autopay:100048:2027-01"})
		if err != nil || p.Status != StatusSucceeded {
			t.Fatalf("charge %+v, %v", p, err)
		}
	}
	charges := f.calls("POST", "/payments")[1:]
	if len(charges) != 1 || charges[0].Body["payment_method_id"] != m.Token || charges[0].Body["confirmation"] != nil || charges[0].Key != "autopay:100048:2027-01" {
		t.Errorf("charges %+v", charges)
	}
	if b := balance(t, db, acct); b != 120000 {
		t.Errorf("balance %d", b)
	}
	// A card the bank reports expired stops autopay.
	f.chargeReason = "card_expired"
	p, err := svc.ChargeSaved(ctx, SavedCharge{AccountID: acct, MethodID: m.ID, Amount: 70000, Key: "autopay:100048:2027-02"})
	if err != nil || p.Status != StatusFailed || p.Reason != ReasonCardExpired {
		t.Errorf("declined charge %+v, %v", p, err)
	}
	if ms, _ := svc.SavedMethods(ctx, acct); len(ms) != 1 || ms[0].Active() {
		t.Errorf("expired card still active: %+v", ms)
	}
}
