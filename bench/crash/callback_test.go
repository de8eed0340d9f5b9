package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/payment"
)

// The bench signs its card callbacks itself; the sandbox processor must
// accept them, or every card payment of the run is refused (as happened
// when the sandbox began to sign the saved card's fields).
func TestCallbackSignedAsTheSandboxChecks(t *testing.T) {
	sb, err := payment.NewSandbox(payment.ProcessorConfig{Secret: cardSecret}, clock.System, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb, err := sb.VerifyCallback(r)
		if err != nil || cb.Outcome != payment.OutcomePaid {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	code, err := sendCallback(context.Background(), srv.Client(), srv.URL, pay{txn: "T1", account: "u1", sum: 12345, card: 7})
	if code != 0 || err != nil {
		t.Errorf("callback: result %d, %v", code, err)
	}
}
