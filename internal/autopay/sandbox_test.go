package autopay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestStartWithTheSandbox is the subscriber's way in: one payment with
// "remember the card" on the sandbox's page turns autopay on with the rule
// asked for; the charge before the 1st then meets the card's fate.
func TestStartWithTheSandbox(t *testing.T) {
	tests := []struct {
		card    string
		status  string
		enabled bool
	}{
		{"4242 4242 4242 4242", StatusSucceeded, true},
		{"4000 0000 0000 3055", StatusFailed, false},
		{"4000 0000 0000 9987", StatusFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.card, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				clk := clock.NewFake(december)
				mux := http.NewServeMux()
				srv := httptest.NewServer(mux)
				t.Cleanup(srv.Close)
				sb, err := payment.NewSandbox(payment.ProcessorConfig{Secret: "s", PageURL: srv.URL + "/pay/sandbox/"}, clk, srv.Client())
				if err != nil {
					t.Fatal(err)
				}
				bill := billing.New(db, clk, billing.DefaultRules())
				pay := payment.NewService(db, clk, bill, []payment.Processor{sb}, payment.Options{PublicURL: srv.URL})
				svc := New(db, clk, pay, bill, nil, testCfg, nil)
				routes, _ := pay.Routes(nil, nil)
				for p, h := range routes {
					mux.Handle(p, h)
				}
				acct := storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "l1", Contract: "1", At: december})
				p, redirect, err := svc.Start(ctx, StartRequest{AccountID: acct, Amount: 10000, Rule: RuleFixed, Fixed: 45000, Processor: "sandbox", ReturnURL: srv.URL + "/r/{id}"})
				if err != nil {
					t.Fatal(err)
				}
				u, _ := url.Parse(redirect)
				form := u.Query()
				form.Set("card", tt.card)
				form.Set("expiry", "12/28")
				form.Set("cvc", "123")
				client := *srv.Client()
				client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
				resp, err := client.PostForm(srv.URL+u.Path, form)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				sb.DeliverDue(ctx)
				st, err := svc.Get(ctx, acct)
				if err != nil {
					t.Fatal(err)
				}
				if !st.Enabled || st.Rule != RuleFixed || st.Fixed != 45000 || st.Method.PaymentID != p.ID || st.Method.Masked == "" {
					t.Fatalf("after the first payment: %+v", st)
				}
				clk.Set(chargeDay.Add(time.Hour))
				pass(t, svc)
				cs, _ := svc.Charges(ctx, acct, 0)
				if len(cs) != 1 || cs[0].Status != tt.status {
					t.Fatalf("charges %+v", cs)
				}
				st, _ = svc.Get(ctx, acct)
				if st.Enabled != tt.enabled {
					t.Errorf("enabled %v, want %v", st.Enabled, tt.enabled)
				}
				want := int64(10000)
				if tt.enabled {
					want += 45000
				}
				if b := balanceOf(t, db, acct); int64(b) != want {
					t.Errorf("balance %s, want %d", b, want)
				}
			})
		})
	}
}
