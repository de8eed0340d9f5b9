package payment

import (
	"net/url"
	"testing"
)

// FuzzCallback throws arbitrary callbacks at both processors. Whatever comes
// in, a callback is accepted only when it carries the signature made with the
// shared secret over exactly the fields it carries, and then its amount is a
// positive amount read from the signed total. Run: go test -fuzz FuzzCallback ./internal/payment
func FuzzCallback(f *testing.F) {
	f.Add("42", "T100", "Purchase", "500.00", "RUB", "", "c9", false)
	f.Add("42", "T100", "Decline", "500.00", "RUB", "51", "c9", true)
	f.Add("1", "sb-1", "paid", "0.01", "rub", "", "", true)
	f.Add("9223372036854775807", "x", "refund", "99999999999999.99", "", "", "", false)
	f.Add("-1", "", "purchase", "1e3", "RUB", "", "", false)
	chrono := testChrono(f)
	sb, err := NewSandbox(ProcessorConfig{Secret: "s3cret"}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pay, txn, typ, total, cur, code, customer string, signIt bool) {
		// Chronopay: signed with the right secret, or with a guess.
		v := url.Values{"cs1": {pay}, "transaction_id": {txn}, "transaction_type": {typ}, "total": {total},
			"currency": {cur}, "decline_code": {code}, "customer_id": {customer}}
		secret := "guess"
		if signIt {
			secret = "s3cret"
		}
		v.Set("sign", chronoCallbackSign(secret, customer, txn, typ, total))
		cb, err := chrono.VerifyCallback(postForm(v))
		check(t, "chronopay", err, cb, signIt, total)

		w := url.Values{"payment_id": {pay}, "transaction_id": {txn}, "type": {typ}, "amount": {total}, "currency": {cur}, "decline_code": {code}}
		w.Set("sign", sandboxSign(secret, w, sandboxCallbackSigned))
		cb, err = sb.VerifyCallback(postForm(w))
		check(t, "sandbox", err, cb, signIt, total)
	})
}

func check(t *testing.T, name string, err error, cb Callback, signed bool, total string) {
	t.Helper()
	if err != nil {
		return
	}
	if !signed {
		t.Fatalf("%s accepted a callback signed with a guessed secret: %+v", name, cb)
	}
	want, perr := parseWireAmount(total)
	if perr != nil || cb.Amount != want || cb.Amount <= 0 || cb.PaymentID <= 0 || cb.ExternalID == "" {
		t.Fatalf("%s accepted %+v from total %q", name, cb, total)
	}
}
