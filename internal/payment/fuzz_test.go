package payment

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
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

// FuzzCardCallbackCredits sends arbitrary callbacks through the HTTP handler
// to a real database holding one pending payment of 500.00. Whatever arrives,
// the subscriber's balance is 0 or 500.00, and it becomes 500.00 only through
// a callback signed with the secret, for that payment, for that amount, that
// says it was paid.
func FuzzCardCallbackCredits(f *testing.F) {
	f.Add(int64(0), "T1", "Purchase", "500.00", "RUB", true)
	f.Add(int64(0), "T1", "Purchase", "500.00", "RUB", false)
	f.Add(int64(1), "T1", "Purchase", "500.00", "RUB", true)
	f.Add(int64(0), "T2", "Purchase", "5000.00", "", true)
	f.Add(int64(0), "T3", "Decline", "500.00", "RUB", true)
	f.Add(int64(0), "T1", "Refund", "500.00", "RUB", true)
	proc := testChrono(f)
	svc, db, _ := testService(f, proc)
	acct := addAccount(f, db, "100045", "active")
	p, _, err := svc.StartCard(context.Background(), CardStart{AccountID: acct, Amount: 50000, Processor: "chronopay"})
	if err != nil {
		f.Fatal(err)
	}
	h := CallbackHandler(proc, svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.Fuzz(func(t *testing.T, payOffset int64, txn, typ, total, cur string, signIt bool) {
		before := balance(t, db, acct)
		secret := "guess"
		if signIt {
			secret = "s3cret"
		}
		v := url.Values{"cs1": {strconv.FormatInt(p.ID+payOffset, 10)}, "transaction_id": {txn}, "transaction_type": {typ},
			"total": {total}, "currency": {cur}, "customer_id": {"c"}}
		v.Set("sign", chronoCallbackSign(secret, "c", txn, typ, total))
		h.ServeHTTP(httptest.NewRecorder(), postForm(v))
		after := balance(t, db, acct)
		if after != 0 && after != 50000 {
			t.Fatalf("balance %s", after)
		}
		if after != before {
			amount, _ := parseWireAmount(total)
			good := signIt && payOffset == 0 && amount == 50000 && chronoOutcomes[strings.ToLower(typ)] == OutcomePaid &&
				(cur == "" || strings.EqualFold(cur, "RUB"))
			if !good || before != 0 {
				t.Fatalf("credited by %+v (signed %v)", v, signIt)
			}
		}
	})
}
