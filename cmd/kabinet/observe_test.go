package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kabinet-billing/kabinet/internal/metrics"
	"github.com/kabinet-billing/kabinet/internal/payment"
)

func TestPaymentMetrics(t *testing.T) {
	m := metrics.New()
	osmp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("login") == "bad" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		code := payment.OSMPOK
		if r.URL.Query().Get("account") == "nobody" {
			code = payment.OSMPAccountNotFound
		}
		w.Write(payment.MarshalOSMP(payment.OSMPResponse{Result: code, TxnID: "1"}))
	})
	callback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sig") != "ok" {
			http.Error(w, "bad signature", http.StatusForbidden)
		}
	})
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	routes := paymentMetrics(m, map[string]http.Handler{
		"GET /pay/osmp": osmp, "POST " + payment.CallbackPath("chronopay"): callback, "/pay/sandbox": page})
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle(p, h)
	}
	for _, req := range []struct{ method, url string }{
		{"GET", "/pay/osmp?command=pay&account=u1"},
		{"GET", "/pay/osmp?command=pay&account=u2"},
		{"GET", "/pay/osmp?command=check&account=nobody"},
		{"GET", "/pay/osmp?command=pay&login=bad"},
		{"POST", "/pay/card/chronopay/callback?sig=ok"},
		{"POST", "/pay/card/chronopay/callback?sig=forged"},
		{"GET", "/pay/sandbox"},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(req.method, req.url, nil))
		if strings.HasPrefix(req.url, "/pay/osmp") && rec.Code == 200 && !strings.Contains(rec.Body.String(), "<result>") {
			t.Errorf("%s: the wrapper lost the answer: %q", req.url, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`kabinet_payment_callbacks_total{channel="osmp",command="pay",result="0"} 2`,
		`kabinet_payment_callbacks_total{channel="osmp",command="check",result="5"} 1`,
		`kabinet_payment_callbacks_total{channel="osmp",command="pay",result="http_401"} 1`,
		`kabinet_payment_callbacks_total{channel="card:chronopay",command="callback",result="accepted"} 1`,
		`kabinet_payment_callbacks_total{channel="card:chronopay",command="callback",result="rejected"} 1`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(text), "sandbox") {
		t.Error("a page was counted as a payment callback")
	}
}
