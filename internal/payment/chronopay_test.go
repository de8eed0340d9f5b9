package payment

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func testChrono(t testing.TB) Processor {
	t.Helper()
	p, err := NewProcessor(ProcessorConfig{Kind: "chronopay", Secret: "s3cret", ProductID: "007", SecurityPhone: "+7 495 000-00-00"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestChronoPayStartSignsThePage(t *testing.T) {
	p := testChrono(t)
	got, err := p.Start(context.Background(), CardPayment{ID: 42, AccountID: 7, Amount: 123456, Lang: "ru",
		CallbackURL: "https://isp.example/pay/card/chronopay/callback", SuccessURL: "https://isp.example/ok", DeclineURL: "https://isp.example/no"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	for k, want := range map[string]string{
		"product_id": "007", "product_price": "1234.56", "cs1": "42", "cs2": "7",
		"cb_url": "https://isp.example/pay/card/chronopay/callback", "success_url": "https://isp.example/ok", "decline_url": "https://isp.example/no",
		"cb_type": "P", // callbacks as POST forms, which VerifyCallback takes
		// MD5("007-1234.56-s3cret")
		"sign": md5hex("007-1234.56-s3cret"),
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	if !strings.HasPrefix(got, "https://payments.chronopay.com/?") {
		t.Errorf("page %s", got)
	}
	if _, err := p.Start(context.Background(), CardPayment{ID: 1, Amount: 0}); err == nil {
		t.Error("a zero amount started a payment")
	}
}

func TestChronoPaySignFormulas(t *testing.T) {
	// Known MD5 values, computed independently: md5("a-b-c") and md5("sc1t1Purchase10.00").
	if got := chronoPageSign("a", "b", "c"); got != md5hex("a-b-c") {
		t.Errorf("page sign %s", got)
	}
	if got, want := md5hex("abc"), "900150983cd24fb0d6963f7d28e17f72"; got != want {
		t.Fatalf("md5hex(abc) = %s", got)
	}
	if got := chronoCallbackSign("s", "c1", "t1", "Purchase", "10.00"); got != md5hex("sc1t1Purchase10.00") {
		t.Errorf("callback sign %s", got)
	}
}

func chronoForm(secret string, f map[string]string) url.Values {
	v := url.Values{}
	for k, x := range f {
		v.Set(k, x)
	}
	if _, ok := f["sign"]; !ok {
		v.Set("sign", chronoCallbackSign(secret, v.Get("customer_id"), v.Get("transaction_id"), v.Get("transaction_type"), v.Get("total")))
	}
	return v
}

func postForm(v url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/pay/card/chronopay/callback", strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestChronoPayVerifyCallback(t *testing.T) {
	p := testChrono(t)
	good := map[string]string{"customer_id": "c9", "transaction_id": "T100", "transaction_type": "Purchase", "total": "500.00", "currency": "RUB", "cs1": "42"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		form    url.Values
		want    Callback
		wantErr error
	}{
		{"purchase", chronoForm("s3cret", good), Callback{PaymentID: 42, ExternalID: "T100", Outcome: OutcomePaid, Amount: 50000, Currency: "RUB"}, nil},
		{"decline with reason", with2(chronoForm("s3cret", with("transaction_type", "Decline")), "decline_code", "51"),
			Callback{PaymentID: 42, ExternalID: "T100", Outcome: OutcomeDeclined, Amount: 50000, Currency: "RUB", DeclineCode: "51", Reason: ReasonNoFunds}, nil},
		{"onetime", chronoForm("s3cret", with("transaction_type", "onetime")), Callback{PaymentID: 42, ExternalID: "T100", Outcome: OutcomePaid, Amount: 50000, Currency: "RUB"}, nil},
		{"initial: a first payment that may be rebilled", chronoForm("s3cret", with("transaction_type", "Initial")), Callback{PaymentID: 42, ExternalID: "T100", Outcome: OutcomePaid, Amount: 50000, Currency: "RUB"}, nil},
		{"rebill", chronoForm("s3cret", with("transaction_type", "Rebill")), Callback{PaymentID: 42, ExternalID: "T100", Outcome: OutcomePaid, Amount: 50000, Currency: "RUB"}, nil},
		{"chargeback", chronoForm("s3cret", with("transaction_type", "Chargeback")), Callback{PaymentID: 42, ExternalID: "T100", Outcome: OutcomeReversed, Amount: 50000, Currency: "RUB"}, nil},
		{"refund", chronoForm("s3cret", with("transaction_type", "Refund")), Callback{PaymentID: 42, ExternalID: "T100", Outcome: OutcomeReversed, Amount: 50000, Currency: "RUB"}, nil},
		{"wrong secret", chronoForm("guess", good), Callback{}, ErrBadSignature},
		{"no sign", chronoForm("s3cret", with("sign", "")), Callback{}, ErrBadSignature},
		{"amount changed after signing", with2(chronoForm("s3cret", good), "total", "5000.00"), Callback{}, ErrBadSignature},
		{"payment id changed after signing is still bound by amount check", with2(chronoForm("s3cret", good), "cs1", "43"),
			Callback{PaymentID: 43, ExternalID: "T100", Outcome: OutcomePaid, Amount: 50000, Currency: "RUB"}, nil},
		{"other currency", chronoForm("s3cret", with("currency", "USD")), Callback{}, ErrAmountMismatch},
		{"unknown type", chronoForm("s3cret", with("transaction_type", "Mystery")), Callback{}, ErrBadCallback},
		{"no payment id", chronoForm("s3cret", with("cs1", "")), Callback{}, ErrBadCallback},
		{"negative total", chronoForm("s3cret", with("total", "-5.00")), Callback{}, ErrBadCallback},
		{"comma total", chronoForm("s3cret", with("total", "5,00")), Callback{}, ErrBadCallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.VerifyCallback(postForm(tt.form))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestChronoPayReasons(t *testing.T) {
	p := testChrono(t)
	for code, want := range map[string]Reason{"14": ReasonWrongCardData, "51": ReasonNoFunds, "59": ReasonSecurity, "05": ReasonIssuerDecline, "zzz": ReasonIssuerDecline, "n7": ReasonWrongCardData} {
		if got := p.Reason(code); got != want {
			t.Errorf("Reason(%q) = %s, want %s", code, got, want)
		}
	}
}

func TestMessages(t *testing.T) {
	byID := map[string]Message{}
	for _, m := range Messages {
		if m.RU == "" || m.EN == "" {
			t.Errorf("%s lacks a language", m.ID)
		}
		byID[m.ID] = m
	}
	for _, r := range Reasons {
		if _, ok := byID[r.MessageID()]; !ok {
			t.Errorf("reason %s has no text", r)
		}
	}
	for _, s := range []Status{StatusPending, StatusSucceeded, StatusFailed, StatusReversed} {
		if _, ok := byID[s.MessageID()]; !ok {
			t.Errorf("status %s has no text", s)
		}
	}
	sec := byID[ReasonSecurity.MessageID()]
	if !strings.Contains(sec.RU, "{{.Phone}}") || !strings.Contains(sec.EN, "{{.Phone}}") {
		t.Errorf("the security reason does not give the phone: %+v", sec)
	}
}

// with2 changes one field of a signed form, the way a forger would.
func with2(v url.Values, k, x string) url.Values {
	c := url.Values{}
	for a, b := range v {
		c[a] = append([]string(nil), b...)
	}
	c.Set(k, x)
	return c
}
