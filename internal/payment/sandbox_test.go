package payment

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
)

// recorder is a callback endpoint that verifies what the sandbox sends with
// the sandbox's own VerifyCallback, as Kabinet's handler would.
type recorder struct {
	mu   sync.Mutex
	got  []Callback
	fail bool
}

func (rc *recorder) ApplyCardCallback(_ context.Context, _ string, cb Callback) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail {
		return io.ErrUnexpectedEOF
	}
	rc.got = append(rc.got, cb)
	return nil
}

func newTestSandbox(t *testing.T) (*Sandbox, *clock.Fake, *recorder, *httptest.Server) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	rec := &recorder{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sb, err := NewSandbox(ProcessorConfig{Secret: "sand", PageURL: srv.URL + "/pay/sandbox/", SecurityPhone: "+7 800 555-35-35"}, clk, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/pay/sandbox/", sb)
	mux.Handle("POST /pay/card/sandbox/callback", CallbackHandler(sb, rec, nil))
	return sb, clk, rec, srv
}

func TestSandboxCards(t *testing.T) {
	tests := []struct {
		card, expiry, cvc string
		outcome           Outcome
		reason            Reason
		calls             int
		late              bool
	}{
		{"4111 1111 1111 1111", "12/30", "123", OutcomePaid, ReasonNone, 1, false},
		{"5555555555554444", "12/30", "123", OutcomePaid, ReasonNone, 3, false},
		{"4000 0000 0000 0077", "12/30", "123", OutcomePaid, ReasonNone, 1, true},
		{"4000 0000 0000 0069", "12/30", "123", OutcomeDeclined, ReasonWrongCardData, 1, false},
		{"4000 0000 0000 9995", "12/30", "123", OutcomeDeclined, ReasonNoFunds, 1, false},
		{"4000 0000 0000 0119", "12/30", "123", OutcomeDeclined, ReasonSecurity, 1, false},
		{"4000 0000 0000 0002", "12/30", "123", OutcomeDeclined, ReasonIssuerDecline, 1, false},
		{"4111 1111 1111 1112", "12/30", "123", OutcomeDeclined, ReasonWrongCardData, 1, false}, // Luhn fails
		{"4111 1111 1111 1111", "11/26", "123", OutcomeDeclined, ReasonWrongCardData, 1, false}, // expired
		{"4111 1111 1111 1111", "12/30", "12", OutcomeDeclined, ReasonWrongCardData, 1, false},  // short CVC
	}
	for _, tt := range tests {
		t.Run(tt.card+" "+tt.expiry+" "+tt.cvc, func(t *testing.T) {
			sb, clk, rec, srv := newTestSandbox(t)
			start, err := sb.Start(context.Background(), CardPayment{ID: 77, AccountID: 5, Account: "100045", Amount: 50000, Lang: "en",
				CallbackURL: srv.URL + "/pay/card/sandbox/callback", SuccessURL: srv.URL + "/ok", DeclineURL: srv.URL + "/no"})
			if err != nil {
				t.Fatal(err)
			}
			// The page shows the amount and the test cards.
			resp, err := srv.Client().Get(start)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(page), "₽500.00") || !strings.Contains(string(page), "4000 0000 0000 0119") {
				t.Fatalf("page %d:\n%s", resp.StatusCode, page)
			}
			// Submit the card as the browser would.
			u, _ := url.Parse(start)
			form := u.Query()
			form.Set("card", tt.card)
			form.Set("expiry", tt.expiry)
			form.Set("cvc", tt.cvc)
			client := *srv.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err = client.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			wantNext := srv.URL + "/ok"
			if tt.outcome != OutcomePaid {
				wantNext = srv.URL + "/no"
			}
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != wantNext {
				t.Fatalf("after submit: %d → %q, want → %q", resp.StatusCode, resp.Header.Get("Location"), wantNext)
			}
			// Callbacks go out when due by the clock: the late one after the clock moves.
			sb.DeliverDue(context.Background())
			if tt.late {
				if len(rec.got) != 0 {
					t.Fatalf("late callback came at once")
				}
				clk.Advance(11 * time.Minute)
				sb.DeliverDue(context.Background())
			}
			clk.Advance(10 * time.Second) // the repeats are a second apart
			sb.DeliverDue(context.Background())
			if len(rec.got) != tt.calls {
				t.Fatalf("%d callbacks, want %d", len(rec.got), tt.calls)
			}
			for _, cb := range rec.got {
				if cb.PaymentID != 77 || cb.Amount != 50000 || cb.Outcome != tt.outcome || cb.Reason != tt.reason || cb.ExternalID != rec.got[0].ExternalID {
					t.Errorf("callback %+v", cb)
				}
			}
		})
	}
}

func TestSandboxRepeatsFailedCallbacks(t *testing.T) {
	sb, clk, rec, srv := newTestSandbox(t)
	start, _ := sb.Start(context.Background(), CardPayment{ID: 8, Amount: 100, CallbackURL: srv.URL + "/pay/card/sandbox/callback"})
	u, _ := url.Parse(start)
	form := u.Query()
	form.Set("card", "4111111111111111")
	form.Set("expiry", "01/31")
	form.Set("cvc", "000")
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if _, err := client.PostForm(srv.URL+"/pay/sandbox/", form); err != nil {
		t.Fatal(err)
	}
	rec.fail = true
	if n := sb.DeliverDue(context.Background()); n != 0 || sb.Pending() != 1 {
		t.Fatalf("delivered %d, pending %d", n, sb.Pending())
	}
	rec.fail = false
	sb.DeliverDue(context.Background()) // not due yet: a minute later
	if len(rec.got) != 0 {
		t.Fatal("repeated before the interval")
	}
	clk.Advance(time.Minute)
	if n := sb.DeliverDue(context.Background()); n != 1 || len(rec.got) != 1 || sb.Pending() != 0 {
		t.Fatalf("delivered %d, got %d, pending %d", n, len(rec.got), sb.Pending())
	}
}

func TestSandboxRefusesUnsignedPage(t *testing.T) {
	sb, _, _, srv := newTestSandbox(t)
	start, _ := sb.Start(context.Background(), CardPayment{ID: 8, Amount: 100, CallbackURL: "http://x/cb"})
	// Raising the amount in the link breaks its signature.
	forged := strings.Replace(start, "amount=1.00", "amount=0.01", 1)
	if forged == start {
		t.Fatal("test did not forge the link")
	}
	resp, err := srv.Client().Get(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged link answered %d", resp.StatusCode)
	}
}

func TestSandboxCallbackHandlerRefusesForgery(t *testing.T) {
	sb, _, rec, _ := newTestSandbox(t)
	h := CallbackHandler(sb, rec, nil)
	v := url.Values{"payment_id": {"1"}, "transaction_id": {"sb-1"}, "type": {"paid"}, "amount": {"10.00"}, "currency": {"RUB"}}
	v.Set("sign", sandboxSign("wrong", v, sandboxCallbackSigned))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, postForm(v))
	if w.Code != http.StatusForbidden || len(rec.got) != 0 {
		t.Errorf("forged callback: %d, %d recorded", w.Code, len(rec.got))
	}
}
