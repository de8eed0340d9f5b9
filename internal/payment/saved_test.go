package payment

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// sandboxShop is Kabinet with the sandbox processor behind a real HTTP
// server, so that the sandbox's callbacks reach the service's handler.
type sandboxShop struct {
	svc *Service
	sb  *Sandbox
	clk *clock.Fake
	srv *httptest.Server
}

func newSandboxShop(t *testing.T, db *store.DB) sandboxShop {
	t.Helper()
	clk := clock.NewFake(testNow)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sb, err := NewSandbox(ProcessorConfig{Secret: "sand", PageURL: srv.URL + "/pay/sandbox/"}, clk, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(db, clk, billing.New(db, clk, billing.DefaultRules()), []Processor{sb}, Options{PublicURL: srv.URL})
	routes, err := svc.Routes(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	return sandboxShop{svc, sb, clk, srv}
}

// pay starts a card payment and pays it on the sandbox page with card.
func (s sandboxShop) pay(t *testing.T, acct int64, amount int64, card, expiry string, save bool) Payment {
	t.Helper()
	p, redirect, err := s.svc.StartCard(context.Background(), CardStart{AccountID: acct, Amount: money.Amount(amount), Processor: "sandbox",
		ReturnURL: s.srv.URL + "/payments/{id}", SaveMethod: save})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(redirect)
	form := u.Query()
	form.Set("card", card)
	form.Set("expiry", expiry)
	form.Set("cvc", "123")
	client := *s.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.PostForm(s.srv.URL+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.sb.DeliverDue(context.Background())
	got, err := s.svc.Get(context.Background(), acct, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestRememberTheCard: a paid payment with "remember the card" saves the
// method the sandbox returns, shown masked; without it, or when the payment
// fails, nothing is saved.
func TestRememberTheCard(t *testing.T) {
	tests := []struct {
		name   string
		card   string
		save   bool
		status Status
		want   string // the saved method's label, "" for none
	}{
		{"remembered", "4242 4242 4242 4242", true, StatusSucceeded, "Visa •••• 4242"},
		{"mastercard", "5555 5555 5555 4444", true, StatusSucceeded, "Mastercard •••• 4444"},
		{"not asked", "4242 4242 4242 4242", false, StatusSucceeded, ""},
		{"declined", "4000 0000 0000 9995", true, StatusFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				shop := newSandboxShop(t, db)
				acct := addAccount(t, db, "100045", "active")
				p := shop.pay(t, acct, 50000, tt.card, "12/28", tt.save)
				if p.Status != tt.status {
					t.Fatalf("payment %s, want %s", p.Status, tt.status)
				}
				ms, err := shop.svc.SavedMethods(context.Background(), acct)
				if err != nil {
					t.Fatal(err)
				}
				if tt.want == "" {
					if len(ms) != 0 {
						t.Fatalf("saved %+v", ms)
					}
					return
				}
				if len(ms) != 1 || ms[0].Label() != tt.want || ms[0].Expiry != "12/28" || !ms[0].Active() || ms[0].PaymentID != p.ID {
					t.Fatalf("saved %+v, want %s", ms, tt.want)
				}
				// Another subscriber cannot read it.
				other := addAccount(t, db, "100046", "active")
				if _, err := shop.svc.SavedMethod(context.Background(), other, ms[0].ID); !errors.Is(err, ErrNoSavedMethod) {
					t.Errorf("another account's read: %v", err)
				}
			})
		})
	}
}

// TestChargeSaved charges saved sandbox cards: each scripted outcome, the
// card expiring as the clock moves, and revocation on expired or blocked.
func TestChargeSaved(t *testing.T) {
	tests := []struct {
		name    string
		card    string
		expiry  string
		advance time.Duration
		status  Status
		reason  Reason
		revoked bool
	}{
		{"paid", "4242 4242 4242 4242", "12/28", 0, StatusSucceeded, ReasonNone, false},
		{"insufficient funds", "4000 0000 0000 0341", "12/28", 0, StatusFailed, ReasonNoFunds, false},
		{"expired by script", "4000 0000 0000 3055", "12/28", 0, StatusFailed, ReasonCardExpired, true},
		{"blocked", "4000 0000 0000 9987", "12/28", 0, StatusFailed, ReasonCardBlocked, true},
		{"good through its month", "4242 4242 4242 4242", "01/27", 60 * 24 * time.Hour, StatusSucceeded, ReasonNone, false},
		{"expired as time passed", "4242 4242 4242 4242", "01/27", 70 * 24 * time.Hour, StatusFailed, ReasonCardExpired, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				shop := newSandboxShop(t, db)
				acct := addAccount(t, db, "100045", "active")
				shop.pay(t, acct, 50000, tt.card, tt.expiry, true)
				ms, _ := shop.svc.SavedMethods(ctx, acct)
				if len(ms) != 1 {
					t.Fatalf("saved %d methods", len(ms))
				}
				shop.clk.Advance(tt.advance)
				before := balance(t, db, acct)
				p, err := shop.svc.ChargeSaved(ctx, SavedCharge{AccountID: acct, MethodID: ms[0].ID, Amount: 70000, Key: "k1"})
				if err != nil {
					t.Fatal(err)
				}
				if p.Status != tt.status || p.Reason != tt.reason {
					t.Fatalf("charge %s/%q, want %s/%q", p.Status, p.Reason, tt.status, tt.reason)
				}
				wantBal := before
				if tt.status == StatusSucceeded {
					wantBal += 70000
				}
				// The same key again: the first answer, no second credit.
				again, err := shop.svc.ChargeSaved(ctx, SavedCharge{AccountID: acct, MethodID: ms[0].ID, Amount: 70000, Key: "k1"})
				if err != nil || again.ID != p.ID || again.Status != p.Status {
					t.Fatalf("repeat: %+v, %v", again, err)
				}
				if b := balance(t, db, acct); b != wantBal {
					t.Errorf("balance %s, want %s", b, wantBal)
				}
				m, _ := shop.svc.SavedMethod(ctx, acct, ms[0].ID)
				if m.Active() == tt.revoked {
					t.Errorf("method active %v, want revoked %v", m.Active(), tt.revoked)
				}
				if tt.revoked {
					if m.RevokeReason != tt.reason {
						t.Errorf("revoked for %q", m.RevokeReason)
					}
					if _, err := shop.svc.ChargeSaved(ctx, SavedCharge{AccountID: acct, MethodID: m.ID, Amount: 70000, Key: "k2"}); !errors.Is(err, ErrNoSavedMethod) {
						t.Errorf("charging a revoked card: %v", err)
					}
				}
				// The key is bound to its amount.
				if _, err := shop.svc.ChargeSaved(ctx, SavedCharge{AccountID: acct, MethodID: m.ID, Amount: 1, Key: "k1"}); !errors.Is(err, ErrChargeKeyConflict) {
					t.Errorf("key reused for another amount: %v", err)
				}
				verifyBooks(t, db)
			})
		})
	}
}

func TestForgetMethod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		shop := newSandboxShop(t, db)
		acct := addAccount(t, db, "100045", "active")
		other := addAccount(t, db, "100046", "active")
		shop.pay(t, acct, 50000, "4242424242424242", "12/28", true)
		ms, _ := shop.svc.SavedMethods(ctx, acct)
		if err := shop.svc.ForgetMethod(ctx, other, ms[0].ID); !errors.Is(err, ErrNoSavedMethod) {
			t.Fatalf("another account forgot it: %v", err)
		}
		if err := shop.svc.ForgetMethod(ctx, acct, ms[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := shop.svc.ChargeSaved(ctx, SavedCharge{AccountID: acct, MethodID: ms[0].ID, Amount: 100, Key: "x"}); !errors.Is(err, ErrNoSavedMethod) {
			t.Errorf("charged a forgotten card: %v", err)
		}
	})
}
