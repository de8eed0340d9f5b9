package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// TestPromise: bob runs into debt; the app shows a promised payment on
// offer, takes it (the home then shows it), and each refusal comes back
// as problem+json in the client's language with its reason.
func TestPromise(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	ctx := context.Background()
	bob, alice := e.token("bob"), e.token("alice")
	// bob: 1000 paid, March's prorated fee and a 2000 charge: in debt.
	if err := e.db.Write(ctx, func(tx *store.Tx) error {
		_, err := e.biller.Charge(ctx, tx, e.ids["bob"], "test:bob", "other", "test", money.Rub(2000), "", e.clk.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	offer := e.do("GET", "/api/v1/promise", bob, "ru", nil).json(t)
	if offer["available"] != true || offer["days"].(float64) != 3 {
		t.Fatalf("offer: %v", offer)
	}
	max := offer["max_amount"].(map[string]any)["rub"].(string)

	for _, c := range []struct {
		name, token, lang, amount string
		status                    int
		detail                    string
	}{
		{"no debt", alice, "ru", "100", http.StatusConflict, "Задолженности нет"},
		{"no debt, in English", alice, "en", "100", http.StatusConflict, "There is no debt"},
		{"above the maximum", bob, "en", "99999", http.StatusUnprocessableEntity, "at most ₽" + max[:1]},
		{"not a number", bob, "ru", "много", http.StatusUnprocessableEntity, "больше нуля"},
		{"taken", bob, "ru", "500.00", http.StatusOK, ""},
		{"again", bob, "en", "500.00", http.StatusConflict, "already in force"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/promise", c.token, c.lang, map[string]string{"amount": c.amount})
			if r.status != c.status {
				t.Fatalf("%d, want %d: %s", r.status, c.status, r.body)
			}
			if c.detail != "" {
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" || !strings.Contains(string(r.body), c.detail) {
					t.Errorf("%s %s lacks %q", ct, r.body, c.detail)
				}
			}
		})
	}
	home := e.do("GET", "/api/v1/home", bob, "ru", nil).json(t)
	p, ok := home["promise"].(map[string]any)
	if !ok || p["amount"].(map[string]any)["rub"] != "500.00" || p["until"] == nil {
		t.Errorf("home's promise: %v", home["promise"])
	}
	if _, ok := e.do("GET", "/api/v1/home", alice, "ru", nil).json(t)["promise"]; ok {
		t.Error("alice's home shows a promise")
	}
	offer = e.do("GET", "/api/v1/promise", bob, "en", nil).json(t)
	if offer["available"] != false || offer["open"] == nil || !strings.Contains(offer["reason"].(string), "already in force") {
		t.Errorf("offer with one open: %v", offer)
	}
}
