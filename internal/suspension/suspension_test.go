package suspension_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

var msk = billing.DefaultRules().Zone

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, msk) }

type env struct {
	db  *store.DB
	clk *clock.Fake
	b   *billing.Biller
	s   *suspension.Service
	id  int64
}

// newEnv makes a subscriber on 500.00 a month who signed on 15 December
// 2026 (charged by Activate's key only through the run: storetest adds no
// first charge), runs billing up to 1 January 2027 and pays 2000.00. The
// clock stands at 10 January 2027, 12:00 Moscow time.
func newEnv(t *testing.T, db *store.DB, r suspension.Rules, status string) *env {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 15, 12, 0, 0, 0, msk))
	b := billing.New(db, clk, billing.DefaultRules())
	e := &env{db: db, clk: clk, b: b, s: suspension.New(db, clk, b, r)}
	e.id = storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "traveller", Status: status, At: clk.Now()})
	clk.Set(time.Date(2027, 1, 1, 0, 5, 0, 0, msk))
	e.run(t)
	e.pay(t, money.Rub(2000), "p1")
	clk.Set(time.Date(2027, 1, 10, 12, 0, 0, 0, msk))
	return e
}

func (e *env) run(t *testing.T) {
	t.Helper()
	if _, err := e.b.Run(context.Background(), e.clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
}

func (e *env) pay(t *testing.T, amount money.Amount, ext string) {
	t.Helper()
	err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := e.b.Credit(context.Background(), tx, e.id, "cash", ext, amount, "", e.clk.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) tick(t *testing.T) suspension.Result {
	t.Helper()
	res, err := e.s.Tick(context.Background(), e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *env) summary(t *testing.T) billing.Summary {
	t.Helper()
	s, err := e.b.Summary(context.Background(), e.id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) events(t *testing.T, kind string) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM events WHERE kind = ? AND account_id = ?`, kind, e.id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// tariffCharged is what the account paid for the tariff in period: its
// charges less its refunds.
func (e *env) tariffCharged(t *testing.T, period string) money.Amount {
	t.Helper()
	var sum int64
	if err := e.db.QueryRow(context.Background(), `SELECT COALESCE(SUM(amount), 0) FROM ledger_txns WHERE account_id = ? AND period = ? AND service = 'base'`,
		e.id, period).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	return money.Amount(-sum)
}

func (e *env) verify(t *testing.T) {
	t.Helper()
	problems, err := ledger.Verify(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("ledger does not verify: %+v", problems)
	}
}

func TestStartRules(t *testing.T) {
	def := suspension.DefaultRules()
	withFee := def
	withFee.MonthlyFee = money.Rub(100)
	dear := def
	dear.MonthlyFee = money.Rub(10000)
	off := def
	off.Disabled = true
	once := def
	once.MaxPerYear = 1
	for _, c := range []struct {
		name   string
		rules  suspension.Rules
		status string
		before func(t *testing.T, e *env)
		from   time.Time
		days   int
		want   error
	}{
		{name: "from today", rules: def, from: day(2027, 1, 10), days: 14},
		{name: "from a later day", rules: def, from: day(2027, 1, 20), days: 7},
		{name: "the longest", rules: def, from: day(2027, 1, 20), days: 90},
		{name: "with a fee", rules: withFee, from: day(2027, 1, 20), days: 30},
		{name: "too short", rules: def, from: day(2027, 1, 20), days: 6, want: suspension.ErrDays},
		{name: "too long", rules: def, from: day(2027, 1, 20), days: 91, want: suspension.ErrDays},
		{name: "yesterday", rules: def, from: day(2027, 1, 9), days: 14, want: suspension.ErrFrom},
		{name: "too far ahead", rules: def, from: day(2027, 2, 10), days: 14, want: suspension.ErrFrom},
		{name: "turned off", rules: off, from: day(2027, 1, 20), days: 14, want: suspension.ErrDisabled},
		{name: "blocked", rules: def, status: billing.StatusBlocked, from: day(2027, 1, 20), days: 14, want: suspension.ErrInactive},
		{name: "frozen by an operator", rules: def, status: billing.StatusFrozen, from: day(2027, 1, 20), days: 14, want: suspension.ErrInactive},
		{name: "fee not covered", rules: dear, from: day(2027, 1, 20), days: 30, want: suspension.ErrFunds},
		{name: "in debt", rules: def, from: day(2027, 1, 20), days: 14, want: suspension.ErrDebt,
			before: func(t *testing.T, e *env) {
				err := e.db.Write(context.Background(), func(tx *store.Tx) error {
					_, err := e.b.Charge(context.Background(), tx, e.id, "test:debt", "tariff", "base", money.Rub(3000), "test", e.clk.Now())
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}},
		{name: "one scheduled", rules: def, from: day(2027, 1, 25), days: 14, want: suspension.ErrOpen,
			before: func(t *testing.T, e *env) { e.start(t, day(2027, 1, 20), 7) }},
		{name: "once a year, used", rules: once, from: day(2027, 1, 25), days: 7, want: suspension.ErrYear,
			before: func(t *testing.T, e *env) {
				e.start(t, day(2027, 1, 10), 7)
				e.resume(t)
			}},
		{name: "a cancelled one does not count", rules: once, from: day(2027, 1, 25), days: 7,
			before: func(t *testing.T, e *env) {
				e.start(t, day(2027, 1, 20), 7)
				e.resume(t)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), c.rules, c.status)
			if c.before != nil {
				c.before(t, e)
			}
			q, err := e.s.Quote(context.Background(), e.id, c.from, c.days)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(q.Refusal, c.want) && !(c.want == nil && q.Refusal == nil) {
				t.Errorf("quote refused with %v, want %v", q.Refusal, c.want)
			}
			_, err = e.s.Start(context.Background(), suspension.Request{AccountID: e.id, From: c.from, Days: c.days, Channel: suspension.ChannelPortal})
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("start: %v, want %v", err, c.want)
			}
		})
	}
}

func (e *env) start(t *testing.T, from time.Time, days int) suspension.Suspension {
	t.Helper()
	u, err := e.s.Start(context.Background(), suspension.Request{AccountID: e.id, From: from, Days: days, Channel: suspension.ChannelPortal})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) resume(t *testing.T) suspension.Suspension {
	t.Helper()
	u, err := e.s.Resume(context.Background(), e.id, suspension.ChannelPortal, "")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestLifecycle: a suspension scheduled from 25 January for 20 days
// (frozen 25 January – 13 February, the line back on 14 February) starts
// on its day (frozen, January's rest returned, RADIUS told), the run on
// 1 February charges no tariff fee, the reminder comes on 13 February and
// the end on the 14th charges February's rest; what the account paid for
// the tariff is the full fees less the quote's saving, to the kopeck.
func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, suspension.DefaultRules(), "")
		q, err := e.s.Quote(ctx, e.id, day(2027, 1, 25), 20)
		if err != nil || q.Refusal != nil {
			t.Fatalf("quote: %v %v", err, q.Refusal)
		}
		// January: 7 of 31 days frozen from the 25th; February: 13 of 28.
		wantSaved := money.Prorate(money.Rub(500), 7, 31) + money.Rub(500) - money.Prorate(money.Rub(500), 15, 28)
		if q.Saved != wantSaved || !q.Until.Equal(day(2027, 2, 14)) || len(q.Months) != 2 {
			t.Fatalf("quote saves %s until %s in %d months, want %s until 14.02", q.Saved.Decimal(), q.Until, len(q.Months), wantSaved.Decimal())
		}
		u := e.start(t, day(2027, 1, 25), 20)
		if u.State != suspension.StateScheduled || e.summary(t).Status != billing.StatusActive {
			t.Fatalf("scheduled: %s, account %s", u.State, e.summary(t).Status)
		}
		e.clk.Set(time.Date(2027, 1, 24, 23, 59, 0, 0, msk))
		if r := e.tick(t); r.Started != 0 {
			t.Fatalf("started a day early: %+v", r)
		}
		e.clk.Set(time.Date(2027, 1, 25, 0, 0, 30, 0, msk))
		if r := e.tick(t); r.Started != 1 {
			t.Fatalf("tick on the day: %+v", r)
		}
		if s := e.summary(t); s.Status != billing.StatusFrozen {
			t.Fatalf("on the day the account is %s", s.Status)
		}
		if n := e.events(t, store.EventAccountStatus); n != 1 {
			t.Errorf("%d account.status events at the start (RADIUS's CoA), want 1", n)
		}
		if r := e.tick(t); r != (suspension.Result{}) {
			t.Errorf("a second tick did %+v", r)
		}
		e.clk.Set(time.Date(2027, 2, 1, 0, 5, 0, 0, msk))
		e.run(t)
		if got := e.tariffCharged(t, "2027-02"); got != 0 {
			t.Errorf("February's run charged %s for the tariff of a frozen account", got.Decimal())
		}
		e.clk.Set(time.Date(2027, 2, 13, 0, 1, 0, 0, msk))
		if r := e.tick(t); r.Reminded != 1 || r.Ended != 0 {
			t.Errorf("on the last day: %+v, want the reminder", r)
		}
		e.clk.Set(time.Date(2027, 2, 14, 0, 0, 10, 0, msk))
		if r := e.tick(t); r.Ended != 1 {
			t.Fatalf("at the end: %+v", r)
		}
		s := e.summary(t)
		if s.Status != billing.StatusActive {
			t.Errorf("after the end the account is %s", s.Status)
		}
		paid := e.tariffCharged(t, "2027-01") + e.tariffCharged(t, "2027-02")
		if want := 2*money.Rub(500) - q.Saved; paid != want {
			t.Errorf("January and February cost %s, want %s (the quote saved %s)", paid.Decimal(), want.Decimal(), q.Saved.Decimal())
		}
		// March is charged in full: the suspension is over.
		e.clk.Set(time.Date(2027, 3, 1, 0, 5, 0, 0, msk))
		e.run(t)
		if got := e.tariffCharged(t, "2027-03"); got != money.Rub(500) {
			t.Errorf("March: %s, want 500.00", got.Decimal())
		}
		for kind, want := range map[string]int{store.EventSuspensionScheduled: 1, store.EventSuspensionStarted: 1,
			store.EventSuspensionEnding: 1, store.EventSuspensionEnded: 1, store.EventAccountStatus: 2} {
			if n := e.events(t, kind); n != want {
				t.Errorf("%d %s events, want %d", n, kind, want)
			}
		}
		e.verify(t)
	})
}

// TestEarlyResume: from today for 30 days with a fee of 90.00 a month,
// resumed on the 8th day: the tariff is paid for the days not frozen, the
// fee for the days frozen, the rest returned.
func TestEarlyResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := suspension.DefaultRules()
		r.MonthlyFee = money.Rub(90)
		e := newEnv(t, db, r, "")
		before := e.summary(t).Balance
		u := e.start(t, day(2027, 1, 10), 30)
		if u.State != suspension.StateActive || e.summary(t).Status != billing.StatusFrozen {
			t.Fatalf("from today: %s, account %s", u.State, e.summary(t).Status)
		}
		wantFee := money.Prorate(money.Rub(90), 22, 31) + money.Prorate(money.Rub(90), 8, 28)
		if u.Fee != wantFee {
			t.Errorf("fee %s, want %s", u.Fee.Decimal(), wantFee.Decimal())
		}
		e.clk.Set(time.Date(2027, 1, 17, 15, 0, 0, 0, msk))
		got := e.resume(t)
		if got.State != suspension.StateEnded || got.EndReason != suspension.EndEarly || e.summary(t).Status != billing.StatusActive {
			t.Fatalf("resumed: %s %s, account %s", got.State, got.EndReason, e.summary(t).Status)
		}
		// Frozen 10–16 January: 7 days.
		saved := money.Prorate(money.Rub(500), 22, 31) - money.Prorate(money.Rub(500), 15, 31)
		fee := money.Prorate(money.Rub(90), 7, 31)
		if d := before - e.summary(t).Balance; d != fee-saved {
			t.Errorf("the balance moved by %s, want %s (fee %s less %s saved)", (-d).Decimal(), (saved - fee).Decimal(), fee.Decimal(), saved.Decimal())
		}
		if _, err := e.s.Resume(context.Background(), e.id, suspension.ChannelPortal, ""); !errors.Is(err, suspension.ErrNone) {
			t.Errorf("second resume: %v, want ErrNone", err)
		}
		e.verify(t)
	})
}

// TestCancelScheduled: resuming one not started yet calls it off; no
// money moves and it does not count towards the year.
func TestCancelScheduled(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), suspension.DefaultRules(), "")
	before := e.summary(t).Balance
	e.start(t, day(2027, 1, 20), 10)
	u := e.resume(t)
	if u.State != suspension.StateCancelled || e.summary(t).Balance != before {
		t.Fatalf("cancelled: %s, balance %s (was %s)", u.State, e.summary(t).Balance.Decimal(), before.Decimal())
	}
	e.clk.Set(day(2027, 1, 21))
	if r := e.tick(t); r != (suspension.Result{}) {
		t.Errorf("tick after cancel: %+v", r)
	}
}

// TestCatchUp: a suspension over all of February (27 January – 4 March)
// while the server was down from 30 January to 10 March: whichever runs
// first when it starts, the billing catch-up or the transitions, February
// is not charged and January and March are prorated, once.
func TestCatchUp(t *testing.T) {
	for _, order := range []string{"billing first", "transitions first"} {
		t.Run(order, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				e := newEnv(t, db, suspension.DefaultRules(), "")
				e.start(t, day(2027, 1, 27), 36)
				e.clk.Set(time.Date(2027, 1, 27, 0, 1, 0, 0, msk))
				e.tick(t)
				e.clk.Set(time.Date(2027, 3, 10, 9, 0, 0, 0, msk))
				if order == "billing first" {
					e.run(t)
					e.tick(t)
				} else {
					e.tick(t)
					e.run(t)
				}
				e.run(t)
				e.tick(t)
				jan := money.Rub(500) - money.Prorate(money.Rub(500), 5, 31)
				mar := money.Prorate(money.Rub(500), 28, 31)
				for period, want := range map[string]money.Amount{"2027-01": jan, "2027-02": 0, "2027-03": mar} {
					if got := e.tariffCharged(t, period); got != want {
						t.Errorf("%s: %s, want %s", period, got.Decimal(), want.Decimal())
					}
				}
				e.verify(t)
			})
		})
	}
}

// TestStartOnThe1st: a suspension from 1 February, the day's billing run
// and the start racing: either order charges February once and returns
// the frozen part once.
func TestStartOnThe1st(t *testing.T) {
	for _, order := range []string{"run first", "start first"} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), suspension.DefaultRules(), "")
			e.start(t, day(2027, 2, 1), 10)
			e.clk.Set(time.Date(2027, 2, 1, 0, 0, 5, 0, msk))
			if order == "run first" {
				e.run(t)
				e.tick(t)
			} else {
				e.tick(t)
				e.run(t)
			}
			e.clk.Set(day(2027, 2, 11))
			e.tick(t)
			want := money.Rub(500) - money.Rub(500) + money.Prorate(money.Rub(500), 18, 28)
			if got := e.tariffCharged(t, "2027-02"); got != want {
				t.Errorf("February: %s, want %s", got.Decimal(), want.Decimal())
			}
			e.verify(t)
		})
	}
}

// TestConcurrentTransitions: two instances (each its own Biller and
// Service over the same database) making the transitions at once start and
// end each suspension once: one refund, one charge, one event each.
func TestConcurrentTransitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, suspension.DefaultRules(), "")
		e.start(t, day(2027, 1, 20), 14)
		other := suspension.New(db, e.clk, billing.New(db, e.clk, billing.DefaultRules()), suspension.DefaultRules())
		race := func() suspension.Result {
			var wg sync.WaitGroup
			results := make([]suspension.Result, 6)
			for i := range results {
				s := e.s
				if i%2 == 1 {
					s = other
				}
				wg.Go(func() {
					var err error
					if results[i], err = s.Tick(ctx, e.clk.Now()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			var sum suspension.Result
			for _, r := range results {
				sum.Started += r.Started
				sum.Ended += r.Ended
				sum.Reminded += r.Reminded
			}
			return sum
		}
		e.clk.Set(time.Date(2027, 1, 20, 0, 0, 1, 0, msk))
		if r := race(); r.Started != 1 {
			t.Errorf("started %d times", r.Started)
		}
		e.clk.Set(time.Date(2027, 2, 2, 8, 0, 0, 0, msk))
		if r := race(); r.Reminded != 1 {
			t.Errorf("reminded %d times", r.Reminded)
		}
		e.clk.Set(time.Date(2027, 2, 3, 0, 0, 1, 0, msk))
		if r := race(); r.Ended != 1 {
			t.Errorf("ended %d times", r.Ended)
		}
		var refunds, resumes int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE account_id = ? AND key LIKE 'suspension:%:refund'`, e.id).Scan(&refunds)
		db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE account_id = ? AND key = ?`, e.id, "fee:"+strconv.FormatInt(e.id, 10)+":tariff:2027-02").Scan(&resumes)
		if refunds != 1 || resumes != 1 {
			t.Errorf("%d refunds and %d February charges, want 1 and 1", refunds, resumes)
		}
		for kind, want := range map[string]int{store.EventSuspensionStarted: 1, store.EventSuspensionEnded: 1, store.EventSuspensionEnding: 1} {
			if n := e.events(t, kind); n != want {
				t.Errorf("%d %s events, want %d", n, kind, want)
			}
		}
		e.verify(t)
	})
}

// TestConcurrentStarts: two asks at once, from two instances, schedule one.
func TestConcurrentStarts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, suspension.DefaultRules(), "")
		other := suspension.New(db, e.clk, billing.New(db, e.clk, billing.DefaultRules()), suspension.DefaultRules())
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			s := e.s
			if i%2 == 1 {
				s = other
			}
			wg.Go(func() {
				_, errs[i] = s.Start(context.Background(), suspension.Request{AccountID: e.id, From: day(2027, 1, 10), Days: 7})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, suspension.ErrOpen):
				t.Errorf("start: %v, want success or ErrOpen", err)
			}
		}
		if ok != 1 || e.events(t, store.EventSuspensionStarted) != 1 {
			t.Errorf("%d started, %d events, want 1", ok, e.events(t, store.EventSuspensionStarted))
		}
	})
}

// TestExtend: a traveller frozen from 10 January for 14 days (back on the
// 24th) with a fee of 90.00 a month stays away longer: extended on the 20th
// to 30 days in all (back on 9 February), the added days' fee is charged
// at once, the reminder comes again for the new last day, February's run
// charges no tariff fee, and the end on the 9th charges February's rest —
// the tariff and fee paid are the extended suspension's quote to the
// kopeck. Refusals: not longer than planned, over the maximum, without the
// money for the fee, and with nothing to extend.
func TestExtend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := suspension.DefaultRules()
		r.MonthlyFee = money.Rub(90)
		e := newEnv(t, db, r, "")
		if _, _, err := e.s.QuoteExtension(ctx, suspension.Request{AccountID: e.id, Days: 30}); err != nil {
			t.Fatal(err)
		}
		if q, u, _ := e.s.QuoteExtension(ctx, suspension.Request{AccountID: e.id, Days: 30}); u != nil || !errors.Is(q.Refusal, suspension.ErrNone) {
			t.Errorf("extending nothing: %v", q.Refusal)
		}
		before := e.summary(t).Balance
		e.start(t, day(2027, 1, 10), 14)
		e.clk.Set(time.Date(2027, 1, 23, 0, 1, 0, 0, msk))
		if res := e.tick(t); res.Reminded != 1 {
			t.Fatalf("reminder for the 23rd: %+v", res)
		}
		e.clk.Set(time.Date(2027, 1, 23, 12, 0, 0, 0, msk))
		for days, want := range map[int]error{14: suspension.ErrLonger, 10: suspension.ErrLonger, 91: suspension.ErrDays} {
			if _, err := e.s.Extend(ctx, suspension.Request{AccountID: e.id, Days: days}); !errors.Is(err, want) {
				t.Errorf("extend to %d days: %v, want %v", days, err, want)
			}
		}
		q, u, err := e.s.QuoteExtension(ctx, suspension.Request{AccountID: e.id, Days: 30})
		if err != nil || q.Refusal != nil || u == nil || !q.Until.Equal(day(2027, 2, 9)) {
			t.Fatalf("quote: %v %v until %s", err, q.Refusal, q.Until)
		}
		got, err := e.s.Extend(ctx, suspension.Request{AccountID: e.id, Days: 30, Channel: suspension.ChannelPortal})
		if err != nil || !got.EndsAt.Equal(day(2027, 2, 9)) || got.Days != 30 || got.Fee != q.Fee {
			t.Fatalf("extend: %v, until %s, %d days, fee %s (quote %s)", err, got.EndsAt, got.Days, got.Fee.Decimal(), q.Fee.Decimal())
		}
		if _, err := e.s.Extend(ctx, suspension.Request{AccountID: e.id, Days: 30}); !errors.Is(err, suspension.ErrLonger) {
			t.Errorf("the same extension twice: %v", err)
		}
		if n := e.events(t, store.EventSuspensionExtended); n != 1 {
			t.Errorf("%d extended events", n)
		}
		e.clk.Set(time.Date(2027, 1, 24, 0, 1, 0, 0, msk))
		if res := e.tick(t); res.Ended != 0 {
			t.Fatalf("ended at the old end: %+v", res)
		}
		e.clk.Set(time.Date(2027, 2, 1, 0, 5, 0, 0, msk))
		e.run(t)
		if got := e.tariffCharged(t, "2027-02"); got != 0 {
			t.Errorf("February's run charged %s during the extension", got.Decimal())
		}
		e.clk.Set(time.Date(2027, 2, 8, 0, 1, 0, 0, msk))
		if res := e.tick(t); res.Reminded != 1 {
			t.Errorf("no reminder for the new last day: %+v", res)
		}
		e.clk.Set(time.Date(2027, 2, 9, 0, 0, 10, 0, msk))
		if res := e.tick(t); res.Ended != 1 {
			t.Fatalf("at the new end: %+v", res)
		}
		// Since January's fee (charged on the 1st, before the suspension):
		// its frozen part back, February's rest, and the suspension's fee.
		spent := before - e.summary(t).Balance
		if want := money.Rub(500) - q.Saved + q.Fee; spent != want {
			t.Errorf("spent %s; the quote saved %s of January and February, fee %s", spent.Decimal(), q.Saved.Decimal(), q.Fee.Decimal())
		}
		if paid := e.tariffCharged(t, "2027-01") + e.tariffCharged(t, "2027-02"); paid != 2*money.Rub(500)-q.Saved {
			t.Errorf("January and February cost %s, want %s", paid.Decimal(), (2*money.Rub(500) - q.Saved).Decimal())
		}
		e.verify(t)

		// Without the money for the added fee: refused, nothing changed.
		poor := storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "poor", At: e.clk.Now()})
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := e.b.Credit(ctx, tx, poor, "cash", "poor-1", money.Prorate(money.Rub(90), 7, 28)+1, "", e.clk.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Start(ctx, suspension.Request{AccountID: poor, From: e.clk.Now(), Days: 7, Channel: suspension.ChannelPortal}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Extend(ctx, suspension.Request{AccountID: poor, Days: 60}); !errors.Is(err, suspension.ErrFunds) {
			t.Errorf("extend without the fee: %v", err)
		}
		if u, _ := e.s.Current(ctx, poor); u == nil || u.Days != 7 {
			t.Errorf("a refused extension changed the suspension: %+v", u)
		}
		e.verify(t)
	})
}
