package autopay

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

// fakeProc is a processor that charges saved cards by script: each call
// takes the next answer, the last one repeating. It remembers answers by key
// as a processor does, and counts the calls that reached it.
type fakeProc struct {
	mu      sync.Mutex
	script  []payment.ChargeResult
	errs    []error // an error answers the call instead, in order
	byKey   map[string]payment.ChargeResult
	keys    []string
	charges int // distinct keys charged
	delay   time.Duration
}

func (f *fakeProc) Name() string          { return "fake" }
func (f *fakeProc) SecurityPhone() string { return "+7 800 000-00-00" }
func (f *fakeProc) Start(context.Context, payment.CardPayment) (string, error) {
	return "https://fake.example/pay", nil
}
func (f *fakeProc) VerifyCallback(*http.Request) (payment.Callback, error) {
	return payment.Callback{}, payment.ErrBadCallback
}
func (f *fakeProc) Reason(code string) payment.Reason { return payment.ParseReason(code) }

func (f *fakeProc) ChargeSaved(_ context.Context, m payment.SavedMethod, c payment.RecurringCharge) (payment.ChargeResult, error) {
	time.Sleep(f.delay) // widens the window two instances could race in
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, c.Key)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return payment.ChargeResult{}, err
	}
	if r, ok := f.byKey[c.Key]; ok {
		return r, nil
	}
	r := payment.ChargeResult{Outcome: payment.OutcomePaid}
	if len(f.script) > 0 {
		r = f.script[0]
		if len(f.script) > 1 {
			f.script = f.script[1:]
		}
	}
	f.charges++
	r.ExternalID = "fx-" + c.Key
	if f.byKey == nil {
		f.byKey = map[string]payment.ChargeResult{}
	}
	f.byKey[c.Key] = r
	return r, nil
}

var (
	paid     = payment.ChargeResult{Outcome: payment.OutcomePaid}
	noFunds  = payment.ChargeResult{Outcome: payment.OutcomeDeclined, Reason: payment.ReasonNoFunds}
	expired  = payment.ChargeResult{Outcome: payment.OutcomeDeclined, Reason: payment.ReasonCardExpired}
	blocked  = payment.ChargeResult{Outcome: payment.OutcomeDeclined, Reason: payment.ReasonCardBlocked}
	testCfg  = config.Autopay{Enabled: true, DaysBefore: 3, Retries: 2, RetryInterval: 24 * time.Hour, Tick: time.Minute}
	msk, _   = time.LoadLocation("Europe/Moscow")
	december = time.Date(2026, 12, 10, 12, 0, 0, 0, msk)
	// chargeDay is 3 days before 1 January in Moscow: 29 December 00:00.
	chargeDay = time.Date(2026, 12, 29, 0, 0, 0, 0, msk)
)

type world struct {
	db   *store.DB
	clk  *clock.Fake
	pay  *payment.Service
	svc  *Service
	proc *fakeProc
}

func newWorld(t *testing.T, db *store.DB, proc *fakeProc, clk *clock.Fake) world {
	t.Helper()
	bill := billing.New(db, clk, billing.DefaultRules())
	pay := payment.NewService(db, clk, bill, []payment.Processor{proc}, payment.Options{PublicURL: "https://isp.example"})
	mail := notify.New(db, clk, nil, bill, notify.Options{Provider: config.Default().Provider})
	return world{db, clk, pay, New(db, clk, pay, bill, mail, testCfg, nil), proc}
}

// subscriber adds an account with e-mail letters on and a saved card.
func (w world) subscriber(t *testing.T, contract string) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	acct := storetest.AddSubscriber(t, w.db, storetest.Subscriber{Login: "l" + contract, Contract: contract, At: december})
	var method int64
	err := w.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET email = ?, notify_email = TRUE, lang = 'ru' WHERE id = ?`, contract+"@mail.example", acct); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO saved_methods (account_id, processor, token, masked, expiry, title, created_at) VALUES (?, 'fake', ?, '•••• 4242', '12/28', 'Visa', ?) RETURNING id`,
			acct, "tok-"+contract, december.UTC()).Scan(&method)
	})
	if err != nil {
		t.Fatal(err)
	}
	return acct, method
}

func balanceOf(t *testing.T, db *store.DB, acct int64) money.Amount {
	t.Helper()
	var b int64
	if err := db.QueryRow(context.Background(), `SELECT l.balance FROM accounts a JOIN ledger_accounts l ON l.id = a.ledger_id WHERE a.id = ?`, acct).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return money.Amount(b)
}

// letters are the kinds of letters queued for the account, in order.
func letters(t *testing.T, db *store.DB, acct int64) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT kind FROM notifications WHERE account_id = ? AND kind LIKE 'autopay%' ORDER BY id`, acct)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		rows.Scan(&k)
		out = append(out, k)
	}
	return out
}

func pass(t *testing.T, s *Service) PassResult {
	t.Helper()
	r, err := s.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestChargeDay: nothing is charged before the charge day; on it, the
// recommended payment or the fixed sum is charged once for the period.
func TestChargeDay(t *testing.T) {
	tests := []struct {
		name   string
		at     time.Time
		rule   Rule
		fixed  money.Amount
		want   money.Amount // charged; 0 for none
		period string
	}{
		{"a minute before the charge day", chargeDay.Add(-time.Minute), RuleRecommended, 0, 0, ""},
		{"the charge day, recommended", chargeDay, RuleRecommended, 0, 50000, "2027-01"},
		{"the charge day, fixed", chargeDay.Add(time.Hour), RuleFixed, 30000, 30000, "2027-01"},
		{"the last day of the month", time.Date(2026, 12, 31, 23, 0, 0, 0, msk), RuleRecommended, 0, 50000, "2027-01"},
		{"the 1st: next period's day is weeks away", time.Date(2027, 1, 1, 0, 30, 0, 0, msk), RuleRecommended, 0, 0, ""},
		{"February's charge day", time.Date(2027, 1, 29, 0, 0, 0, 0, msk), RuleFixed, 12345, 12345, "2027-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := storetest.SQLite(t)
			w := newWorld(t, db, &fakeProc{}, clock.NewFake(december))
			acct, method := w.subscriber(t, "100045")
			if err := w.svc.Enable(context.Background(), acct, method, tt.rule, tt.fixed); err != nil {
				t.Fatal(err)
			}
			w.clk.Set(tt.at)
			pass(t, w.svc)
			pass(t, w.svc) // a second pass charges nothing more
			if got := balanceOf(t, db, acct); got != tt.want {
				t.Errorf("balance %s, want %s", got, tt.want)
			}
			cs, _ := w.svc.Charges(context.Background(), acct, 0)
			if tt.want == 0 {
				if len(cs) != 0 || w.proc.charges != 0 {
					t.Errorf("charged early: %+v", cs)
				}
				return
			}
			if len(cs) != 1 || cs[0].Period != tt.period || cs[0].Status != StatusSucceeded || cs[0].Amount != tt.want || w.proc.charges != 1 {
				t.Errorf("charges %+v, processor charged %d", cs, w.proc.charges)
			}
			if l := letters(t, db, acct); len(l) != 1 || l[0] != notify.KindAutopayCharged {
				t.Errorf("letters %v", l)
			}
		})
	}
}

// TestRetriesAndRefusals moves the clock through the retries: a decline is
// tried again after the interval with a new key, a card refused as expired
// or blocked is not, and autopay turns off; each result is mailed once.
func TestRetriesAndRefusals(t *testing.T) {
	tests := []struct {
		name     string
		script   []payment.ChargeResult
		status   string
		attempts int
		enabled  bool
		off      payment.Reason
		letter   string
		credited bool
	}{
		{"paid at once", []payment.ChargeResult{paid}, StatusSucceeded, 1, true, "", notify.KindAutopayCharged, true},
		{"paid on the second attempt", []payment.ChargeResult{noFunds, paid}, StatusSucceeded, 2, true, "", notify.KindAutopayCharged, true},
		{"paid on the last retry", []payment.ChargeResult{noFunds, noFunds, paid}, StatusSucceeded, 3, true, "", notify.KindAutopayCharged, true},
		{"declined through every retry", []payment.ChargeResult{noFunds}, StatusFailed, 3, true, "", notify.KindAutopayFailed, false},
		{"card expired: no retry, autopay off", []payment.ChargeResult{expired}, StatusFailed, 1, false, payment.ReasonCardExpired, notify.KindAutopayDisabled, false},
		{"card blocked after a decline", []payment.ChargeResult{noFunds, blocked}, StatusFailed, 2, false, payment.ReasonCardBlocked, notify.KindAutopayDisabled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.SQLite(t)
			w := newWorld(t, db, &fakeProc{script: tt.script}, clock.NewFake(chargeDay))
			acct, method := w.subscriber(t, "100045")
			if err := w.svc.Enable(ctx, acct, method, RuleRecommended, 0); err != nil {
				t.Fatal(err)
			}
			for range 5 { // a day apart: past every retry
				pass(t, w.svc)
				w.clk.Advance(testCfg.RetryInterval)
			}
			cs, _ := w.svc.Charges(ctx, acct, 0)
			if len(cs) != 1 || cs[0].Status != tt.status || cs[0].Attempts != tt.attempts {
				t.Fatalf("charges %+v, want %s after %d", cs, tt.status, tt.attempts)
			}
			if len(w.proc.keys) != tt.attempts || (tt.attempts > 1 && w.proc.keys[0] == w.proc.keys[1]) {
				t.Errorf("keys %v", w.proc.keys)
			}
			st, _ := w.svc.Get(ctx, acct)
			if st.Enabled != tt.enabled || st.OffReason != tt.off {
				t.Errorf("autopay on %v (%q), want %v (%q)", st.Enabled, st.OffReason, tt.enabled, tt.off)
			}
			if got := letters(t, db, acct); len(got) != 1 || got[0] != tt.letter {
				t.Errorf("letters %v, want [%s]", got, tt.letter)
			}
			want := money.Amount(0)
			if tt.credited {
				want = 50000
			}
			if b := balanceOf(t, db, acct); b != want {
				t.Errorf("balance %s, want %s", b, want)
			}
			if !tt.enabled {
				// Off means off: the next period charges nothing.
				w.clk.Set(time.Date(2027, 1, 29, 0, 0, 0, 0, msk))
				if r := pass(t, w.svc); r.Planned != 0 {
					t.Errorf("planned %d after autopay turned off", r.Planned)
				}
			}
		})
	}
}

// TestOncePerPeriodConcurrently: two instances over one database run their
// passes at the same moment; each account is charged once, by one of them.
func TestOncePerPeriodConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		proc := &fakeProc{delay: 20 * time.Millisecond}
		clk := clock.NewFake(december)
		a := newWorld(t, db, proc, clk)
		b := newWorld(t, db, proc, clk)
		var accts []int64
		for _, c := range []string{"1001", "1002", "1003", "1004", "1005"} {
			acct, method := a.subscriber(t, c)
			if err := a.svc.Enable(ctx, acct, method, RuleFixed, 20000); err != nil {
				t.Fatal(err)
			}
			accts = append(accts, acct)
		}
		clk.Set(chargeDay.Add(time.Minute))
		var wg sync.WaitGroup
		for _, s := range []*Service{a.svc, b.svc, a.svc, b.svc} {
			wg.Go(func() {
				if _, err := s.Pass(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		pass(t, b.svc)
		if proc.charges != len(accts) || len(proc.keys) != len(accts) {
			t.Errorf("processor charged %d times (keys %v), want %d", proc.charges, proc.keys, len(accts))
		}
		for _, acct := range accts {
			if bal := balanceOf(t, db, acct); bal != 20000 {
				t.Errorf("account %d balance %s, want 200.00", acct, bal)
			}
			if l := letters(t, db, acct); len(l) != 1 {
				t.Errorf("account %d letters %v", acct, l)
			}
		}
	})
}

// TestResumedAfterALostAnswer: the processor's answer is lost (a timeout or
// the instance died); once the claim's lease runs out the charge is asked
// again with the same key, and the card is charged once.
func TestResumedAfterALostAnswer(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	w := newWorld(t, db, &fakeProc{errs: []error{errors.New("timeout")}}, clock.NewFake(chargeDay))
	acct, method := w.subscriber(t, "100045")
	w.svc.Enable(ctx, acct, method, RuleFixed, 10000)
	if r := pass(t, w.svc); r.Pending != 1 {
		t.Fatalf("pass %+v", r)
	}
	pass(t, w.svc) // still claimed: nothing happens
	if len(w.proc.keys) != 1 {
		t.Fatalf("asked %d times under the lease", len(w.proc.keys))
	}
	w.clk.Advance(11 * time.Minute)
	pass(t, w.svc)
	if len(w.proc.keys) != 2 || w.proc.keys[0] != w.proc.keys[1] || w.proc.charges != 1 {
		t.Errorf("keys %v, charged %d", w.proc.keys, w.proc.charges)
	}
	if b := balanceOf(t, db, acct); b != 10000 {
		t.Errorf("balance %s", b)
	}
}

// TestTurnOffBeforeTheCharge: turned off after planning, the charge is
// skipped; turned on again with the saved card, the next period charges.
func TestTurnOffBeforeTheCharge(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	w := newWorld(t, db, &fakeProc{errs: []error{errors.New("timeout")}}, clock.NewFake(december))
	acct, method := w.subscriber(t, "100045")
	w.svc.Enable(ctx, acct, method, RuleFixed, 10000)
	if err := w.svc.Disable(ctx, acct); err != nil {
		t.Fatal(err)
	}
	w.clk.Set(chargeDay)
	if r := pass(t, w.svc); r.Planned != 0 || len(w.proc.keys) != 0 {
		t.Fatalf("charged while off: %+v", r)
	}
	st, _ := w.svc.Get(ctx, acct)
	if st.Enabled || !st.Set() || st.OffReason != "" {
		t.Errorf("settings %+v", st)
	}
	var kinds []string
	rows, _ := db.Query(ctx, `SELECT kind FROM events WHERE account_id = ? AND kind LIKE 'autopay.%' ORDER BY id`, acct)
	for rows.Next() {
		var k string
		rows.Scan(&k)
		kinds = append(kinds, k)
	}
	rows.Close()
	if len(kinds) != 2 || kinds[0] != EventEnabled || kinds[1] != EventDisabled {
		t.Errorf("events %v", kinds)
	}
}

func TestEnableRules(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	w := newWorld(t, db, &fakeProc{}, clock.NewFake(december))
	acct, method := w.subscriber(t, "100045")
	other, _ := w.subscriber(t, "100046")
	tests := []struct {
		name         string
		acct, method int64
		rule         Rule
		fixed        money.Amount
		field, code  string
	}{
		{"fixed without a sum", acct, method, RuleFixed, 0, "fixed_amount", "autopay_fixed_required"},
		{"fixed too large", acct, method, RuleFixed, MaxFixed + 1, "fixed_amount", "autopay_fixed_too_large"},
		{"unknown rule", acct, method, "weekly", 0, "rule", "autopay_rule"},
		{"another account's card", other, method, RuleRecommended, 0, "method", "autopay_no_card"},
		{"fine", acct, method, RuleRecommended, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.svc.Enable(ctx, tt.acct, tt.method, tt.rule, tt.fixed)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, derrors.Invalid) || derrors.Field(err) != tt.field || derrors.Code(err) != tt.code {
				t.Errorf("err %v (field %q code %q)", err, derrors.Field(err), derrors.Code(err))
			}
		})
	}
}
