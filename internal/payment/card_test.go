package payment

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// TestCardCallbacks plays sequences of callbacks (forged, replayed, reordered,
// amount-changed) through the HTTP handler against the real database and
// checks what the subscriber's balance and payment end up as: zero wrong credits.
func TestCardCallbacks(t *testing.T) {
	type cb struct {
		secret  string // "" = the right one
		payment string // "" = the started payment
		txn     string
		typ     string
		total   string
		code    string
		want    int // HTTP status
	}
	ok := func(typ, txn string) cb { return cb{txn: txn, typ: typ, total: "500.00", want: 200} }
	tests := []struct {
		name       string
		calls      []cb
		wantStatus Status
		wantReason Reason
		wantBal    int64
	}{
		{"paid once", []cb{ok("Purchase", "T1")}, StatusSucceeded, "", 50000},
		{"paid, repeated thrice", []cb{ok("Purchase", "T1"), ok("Purchase", "T1"), ok("Purchase", "T1")}, StatusSucceeded, "", 50000},
		{"forged signature", []cb{{secret: "guess", txn: "T1", typ: "Purchase", total: "500.00", want: 403}}, StatusPending, "", 0},
		{"amount raised with a forged sign", []cb{{secret: "guess", txn: "T1", typ: "Purchase", total: "50000.00", want: 403}}, StatusPending, "", 0},
		{"amount changed, properly signed", []cb{{txn: "T1", typ: "Purchase", total: "5000.00", want: 400}}, StatusPending, "", 0},
		{"amount lowered, properly signed", []cb{{txn: "T1", typ: "Purchase", total: "1.00", want: 400}}, StatusPending, "", 0},
		{"unknown payment", []cb{{payment: "999999", txn: "T1", typ: "Purchase", total: "500.00", want: 400}}, StatusPending, "", 0},
		{"declined", []cb{{txn: "T1", typ: "Decline", total: "500.00", code: "51", want: 200}}, StatusFailed, ReasonNoFunds, 0},
		{"decline after success (reordered)", []cb{ok("Purchase", "T1"), {txn: "T1", typ: "Decline", total: "500.00", code: "59", want: 200}}, StatusSucceeded, "", 50000},
		{"success after decline (retried card)", []cb{{txn: "T1", typ: "Decline", total: "500.00", code: "05", want: 200}, ok("Purchase", "T2")}, StatusSucceeded, "", 50000},
		{"second transaction for a paid payment", []cb{ok("Purchase", "T1"), {txn: "T2", typ: "Purchase", total: "500.00", want: 400}}, StatusSucceeded, "", 50000},
		{"refund is not applied automatically", []cb{ok("Purchase", "T1"), ok("Refund", "T1")}, StatusSucceeded, "", 50000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				proc := testChrono(t)
				svc, _ := testServiceOn(t, db, proc)
				acct := addAccount(t, db, "100045", "active")
				p, redirect, err := svc.StartCard(context.Background(), CardStart{AccountID: acct, Amount: 50000, Processor: "chronopay", ReturnURL: "https://isp.example/payments/{id}"})
				if err != nil {
					t.Fatal(err)
				}
				u, _ := url.Parse(redirect)
				if u.Query().Get("cb_url") != "https://isp.example/pay/card/chronopay/callback" || u.Query().Get("success_url") != "https://isp.example/payments/"+strconv.FormatInt(p.ID, 10) {
					t.Errorf("redirect %s", redirect)
				}
				h := CallbackHandler(proc, svc, nil)
				for i, c := range tt.calls {
					secret := "s3cret"
					if c.secret != "" {
						secret = c.secret
					}
					pay := strconv.FormatInt(p.ID, 10)
					if c.payment != "" {
						pay = c.payment
					}
					f := chronoForm(secret, map[string]string{"customer_id": "c1", "transaction_id": c.txn, "transaction_type": c.typ,
						"total": c.total, "currency": "RUB", "cs1": pay, "decline_code": c.code})
					w := httptest.NewRecorder()
					h.ServeHTTP(w, postForm(f))
					if w.Code != c.want {
						t.Errorf("call %d: HTTP %d, want %d: %s", i+1, w.Code, c.want, w.Body)
					}
				}
				got, err := svc.Get(context.Background(), acct, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != tt.wantStatus || got.Reason != tt.wantReason {
					t.Errorf("payment %s/%q, want %s/%q", got.Status, got.Reason, tt.wantStatus, tt.wantReason)
				}
				if b := balance(t, db, acct); int64(b) != tt.wantBal {
					t.Errorf("balance %s, want %d", b, tt.wantBal)
				}
				verifyBooks(t, db)
			})
		})
	}
}

// TestCardCallbackReplayedOnAnotherPayment: ChronoPay's sign does not cover
// cs1, so a forger can move a genuine callback to another payment of the
// same amount. The processor transaction is bound to the first payment: the
// second is not credited.
func TestCardCallbackReplayedOnAnotherPayment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		proc := testChrono(t)
		svc, _ := testServiceOn(t, db, proc)
		mine := addAccount(t, db, "1", "active")
		theirs := addAccount(t, db, "2", "active")
		p1, _, _ := svc.StartCard(context.Background(), CardStart{AccountID: mine, Amount: 50000, Processor: "chronopay"})
		p2, _, _ := svc.StartCard(context.Background(), CardStart{AccountID: theirs, Amount: 50000, Processor: "chronopay"})
		h := CallbackHandler(proc, svc, nil)
		for _, pay := range []int64{p1.ID, p2.ID} {
			f := chronoForm("s3cret", map[string]string{"customer_id": "c", "transaction_id": "T9", "transaction_type": "Purchase", "total": "500.00", "cs1": strconv.FormatInt(pay, 10)})
			h.ServeHTTP(httptest.NewRecorder(), postForm(f))
		}
		if balance(t, db, mine) != 50000 || balance(t, db, theirs) != 0 {
			t.Errorf("balances %s and %s", balance(t, db, mine), balance(t, db, theirs))
		}
		// Not the subscriber's own payment: not found.
		if _, err := svc.Get(context.Background(), mine, p2.ID); !errors.Is(err, derrors.NotFound) {
			t.Errorf("read another subscriber's payment: %v", err)
		}
	})
}

// TestSandboxEndToEnd: the sandbox page, its HTTP callbacks to Kabinet's
// handler, the late and repeated ones, and the history the subscriber sees.
func TestSandboxEndToEnd(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	svc, db, clk := testService(t)
	sb, err := NewSandbox(ProcessorConfig{Secret: "sand", PageURL: srv.URL + "/pay/sandbox/"}, clk, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	svc = NewService(db, clk, svc.biller, []Processor{sb}, Options{PublicURL: srv.URL})
	mux.Handle("/pay/sandbox/", sb)
	mux.Handle("POST "+CallbackPath("sandbox"), CallbackHandler(sb, svc, nil))
	acct := addAccount(t, db, "100045", "active")
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	pay := func(card string) Payment {
		p, redirect, err := svc.StartCard(context.Background(), CardStart{AccountID: acct, Amount: 30000, Processor: "sandbox", ReturnURL: srv.URL + "/back/{id}"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(redirect)
		f := u.Query()
		f.Set("card", card)
		f.Set("expiry", "12/30")
		f.Set("cvc", "123")
		resp, err := client.PostForm(srv.URL+"/pay/sandbox/", f)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return p
	}
	ok := pay("5555 5555 5555 4444")   // three callbacks
	late := pay("4000 0000 0000 0077") // late
	poor := pay("4000 0000 0000 9995") // insufficient funds
	sb.DeliverDue(context.Background())
	clk.Advance(5 * 1e9)
	sb.DeliverDue(context.Background())
	if got, _ := svc.Get(context.Background(), acct, late.ID); got.Status != StatusPending {
		t.Errorf("late payment is %s before its callback", got.Status)
	}
	if b := balance(t, db, acct); b != 30000 {
		t.Errorf("balance %s after one good card paid three callbacks", b)
	}
	clk.Advance(11 * 60 * 1e9)
	sb.DeliverDue(context.Background())
	for p, want := range map[int64]Status{ok.ID: StatusSucceeded, late.ID: StatusSucceeded, poor.ID: StatusFailed} {
		got, _ := svc.Get(context.Background(), acct, p)
		if got.Status != want {
			t.Errorf("payment %d: %s, want %s", p, got.Status, want)
		}
	}
	if got, _ := svc.Get(context.Background(), acct, poor.ID); got.Reason != ReasonNoFunds {
		t.Errorf("reason %q", got.Reason)
	}
	if b := balance(t, db, acct); b != 60000 {
		t.Errorf("balance %s, want 600.00", b)
	}
	hist, _ := svc.History(context.Background(), acct, 0, 0)
	if len(hist) != 3 {
		t.Errorf("history has %d payments", len(hist))
	}
	verifyBooks(t, db)
}

func TestStartCardCallbackBase(t *testing.T) {
	db := storetest.SQLite(t)
	clk := clock.NewFake(testNow)
	proc := testChrono(t)
	svc := NewService(db, clk, billing.New(db, clk, billing.DefaultRules()), []Processor{proc}, Options{})
	acct := addAccount(t, db, "1", "active")
	_, redirect, err := svc.StartCard(context.Background(), CardStart{AccountID: acct, Amount: 100, Processor: "chronopay", ReturnURL: "http://10.0.0.1:8080/payments/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(redirect)
	if got := u.Query().Get("cb_url"); got != "http://10.0.0.1:8080/pay/card/chronopay/callback" {
		t.Errorf("callback %s", got)
	}
	if _, _, err := svc.StartCard(context.Background(), CardStart{AccountID: acct, Amount: 100, Processor: "chronopay", ReturnURL: "/payments/{id}"}); err == nil {
		t.Error("started a payment the processor cannot call back")
	}
	if _, _, err := svc.StartCard(context.Background(), CardStart{AccountID: acct, Amount: 100, Processor: "paypal"}); err == nil {
		t.Error("started a payment on an unknown processor")
	}
}

func TestExpirePending(t *testing.T) {
	proc := testChrono(t)
	svc, db, clk := testService(t, proc)
	acct := addAccount(t, db, "1", "active")
	ctx := context.Background()
	old, _, _ := svc.StartCard(ctx, CardStart{AccountID: acct, Amount: 100, Processor: "chronopay"})
	clk.Advance(23 * time.Hour)
	fresh, _, _ := svc.StartCard(ctx, CardStart{AccountID: acct, Amount: 100, Processor: "chronopay"})
	clk.Advance(2 * time.Hour)
	if n, err := svc.ExpirePending(ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	for id, want := range map[int64]Status{old.ID: StatusFailed, fresh.ID: StatusPending} {
		if p, _ := svc.Get(ctx, acct, id); p.Status != want {
			t.Errorf("payment %d: %s, want %s", id, p.Status, want)
		}
	}
	// The processor's callback still credits an expired payment.
	f := chronoForm("s3cret", map[string]string{"customer_id": "c", "transaction_id": "late", "transaction_type": "Purchase", "total": "1.00", "cs1": strconv.FormatInt(old.ID, 10)})
	w := httptest.NewRecorder()
	CallbackHandler(proc, svc, nil).ServeHTTP(w, postForm(f))
	if p, _ := svc.Get(ctx, acct, old.ID); w.Code != 200 || p.Status != StatusSucceeded || balance(t, db, acct) != 100 {
		t.Errorf("late callback: %d, %s, balance %s", w.Code, p.Status, balance(t, db, acct))
	}
}

// TestCardCallbacksRace: callbacks of one payment arriving at once, some
// repeats and some claiming other processor transactions, credit it once.
func TestCardCallbacksRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		proc := testChrono(t)
		svc, _ := testServiceOn(t, db, proc)
		acct := addAccount(t, db, "1", "active")
		p, _, err := svc.StartCard(context.Background(), CardStart{AccountID: acct, Amount: 50000, Processor: "chronopay"})
		if err != nil {
			t.Fatal(err)
		}
		h := CallbackHandler(proc, svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f := chronoForm("s3cret", map[string]string{"customer_id": "c", "transaction_id": "T" + strconv.Itoa(i%4), "transaction_type": "Purchase",
					"total": "500.00", "cs1": strconv.FormatInt(p.ID, 10)})
				h.ServeHTTP(httptest.NewRecorder(), postForm(f))
			}()
		}
		wg.Wait()
		if b := balance(t, db, acct); b != 50000 {
			t.Errorf("balance %s after concurrent callbacks", b)
		}
		verifyBooks(t, db)
	})
}

// TestCardCallbacksBatched: callbacks of many payments arriving at once are
// committed together: each payment credited once with its bonus points,
// repeats moving nothing, one processor transaction claimed by two payments
// crediting only the first, and a refused callback not failing the others.
func TestCardCallbacksBatched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		proc := testChrono(t)
		svc, _ := testServiceOn(t, db, proc)
		ctx := context.Background()
		var accts []int64
		for i := range 4 {
			accts = append(accts, addAccount(t, db, strconv.Itoa(200+i), "active"))
		}
		var pays []Payment
		for i := range 40 {
			p, _, err := svc.StartCard(ctx, CardStart{AccountID: accts[i%4], Amount: money.Amount(10000 + i), Processor: "chronopay"})
			if err != nil {
				t.Fatal(err)
			}
			pays = append(pays, p)
		}
		var wg sync.WaitGroup
		var refused, taken atomic.Int64
		for i, p := range pays {
			for k := range 3 {
				wg.Go(func() {
					cb := Callback{PaymentID: p.ID, ExternalID: "B" + strconv.Itoa(i), Outcome: OutcomePaid, Amount: p.Amount}
					if i == 38 && k == 0 {
						cb.Amount++ // refused on its own
					}
					err := svc.ApplyCardCallback(ctx, "chronopay", cb)
					switch {
					case errors.Is(err, ErrBadCallback) || errors.Is(err, ErrAmountMismatch):
						refused.Add(1)
					case err != nil:
						t.Error(err)
					default:
						taken.Add(1)
					}
				})
			}
		}
		wg.Wait()
		want := map[int64]money.Amount{}
		for _, p := range pays {
			got, _ := svc.Get(ctx, p.AccountID, p.ID)
			if got.Status != StatusSucceeded || got.LedgerTxnID == 0 {
				t.Errorf("payment %d: %s", p.ID, got.Status)
			}
			want[p.AccountID] += p.Amount
		}
		for _, a := range accts {
			if b := balance(t, db, a); b != want[a] {
				t.Errorf("account %d: balance %s, want %s", a, b, want[a])
			}
		}
		var bonuses int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE key LIKE 'bonus:pay:card:chronopay:%'`).Scan(&bonuses)
		if bonuses != 40 {
			t.Errorf("%d bonus accruals, want 40", bonuses)
		}
		if refused.Load() != 1 || taken.Load() != 119 {
			t.Errorf("%d callbacks refused, %d taken", refused.Load(), taken.Load())
		}
		// Payment 0's transaction claimed for another payment.
		p, _, err := svc.StartCard(ctx, CardStart{AccountID: accts[0], Amount: 10000, Processor: "chronopay"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.ApplyCardCallback(ctx, "chronopay", Callback{PaymentID: p.ID, ExternalID: "B0", Outcome: OutcomePaid, Amount: 10000}); !errors.Is(err, ErrBadCallback) {
			t.Errorf("a transaction claimed twice: %v", err)
		}
		verifyBooks(t, db)
	})
}
