package promise_test

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
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

var msk = billing.DefaultRules().Zone

type env struct {
	db  *store.DB
	clk *clock.Fake
	b   *billing.Biller
	s   *promise.Service
	id  int64
}

// newEnv makes a subscriber on 500.00 a month who signed on 15 January
// and never paid: on 1 February the run charges January and February and
// limits the line (debt since 1 January, a month of grace). The clock
// stands at 2 February, 10:00 Moscow time.
func newEnv(t *testing.T, db *store.DB, r promise.Rules, status string) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2027, 1, 15, 12, 0, 0, 0, msk))
	b := billing.New(db, clk, billing.DefaultRules())
	e := &env{db: db, clk: clk, b: b, s: promise.New(db, clk, b, r)}
	e.id = storetest.AddSubscriber(t, db, storetest.Subscriber{Login: "debtor", Status: status, At: clk.Now()})
	clk.Set(time.Date(2027, 2, 1, 0, 5, 0, 0, msk))
	if _, err := b.Run(ctx, clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2027, 2, 2, 10, 0, 0, 0, msk))
	return e
}

func (e *env) summary(t *testing.T) billing.Summary {
	t.Helper()
	s, err := e.b.Summary(context.Background(), e.id)
	if err != nil {
		t.Fatal(err)
	}
	return s
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

func (e *env) take(amount money.Amount) (promise.Promise, error) {
	return e.s.Take(context.Background(), promise.Request{AccountID: e.id, Amount: amount, Channel: promise.ChannelPortal})
}

// events counts the events of kind written for the account.
func (e *env) events(t *testing.T, kind string) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM events WHERE kind = ? AND account_id = ?`, kind, e.id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTakeRules(t *testing.T) {
	def := promise.DefaultRules()
	withFee := def
	withFee.Fee = money.Rub(30)
	young := def
	young.MaxDebtDays = 20
	off := def
	off.Disabled = true
	capped := def
	capped.MaxAmount = money.Rub(300)
	for _, c := range []struct {
		name   string
		rules  promise.Rules
		status string
		before func(t *testing.T, e *env)
		amount money.Amount
		want   error
	}{
		{name: "limited debtor", rules: def, amount: money.Rub(1000)},
		{name: "up to the recommended payment", rules: def, amount: money.Rub(1500)},
		{name: "above the recommended payment", rules: def, amount: money.Rub(1500) + 1, want: promise.ErrAmount},
		{name: "nothing", rules: def, amount: 0, want: promise.ErrAmount},
		{name: "above the configured maximum", rules: capped, amount: money.Rub(301), want: promise.ErrAmount},
		{name: "with a fee", rules: withFee, amount: money.Rub(1000)},
		{name: "turned off", rules: off, amount: money.Rub(1000), want: promise.ErrDisabled},
		{name: "blocked", rules: def, status: billing.StatusBlocked, amount: money.Rub(100), want: promise.ErrInactive},
		{name: "frozen", rules: def, status: billing.StatusFrozen, amount: money.Rub(100), want: promise.ErrInactive},
		{name: "debt too old", rules: young, amount: money.Rub(1000), want: promise.ErrDebtOld},
		{name: "no debt", rules: def, amount: money.Rub(100), want: promise.ErrNoDebt,
			before: func(t *testing.T, e *env) { e.pay(t, money.Rub(1000), "r1") }},
		{name: "one open", rules: def, amount: money.Rub(100), want: promise.ErrOpen,
			before: func(t *testing.T, e *env) {
				if _, err := e.take(money.Rub(100)); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "again within 30 days", rules: def, amount: money.Rub(100), want: promise.ErrRecent,
			before: func(t *testing.T, e *env) {
				if _, err := e.take(money.Rub(100)); err != nil {
					t.Fatal(err)
				}
				e.clk.Advance(4 * 24 * time.Hour)
				if _, err := e.s.Expire(context.Background(), e.clk.Now()); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "again after 30 days", rules: promise.Rules{Days: 3, EveryDays: 30}, amount: money.Rub(100),
			before: func(t *testing.T, e *env) {
				if _, err := e.take(money.Rub(100)); err != nil {
					t.Fatal(err)
				}
				e.clk.Advance(30 * 24 * time.Hour)
				if _, err := e.s.Expire(context.Background(), e.clk.Now()); err != nil {
					t.Fatal(err)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), c.rules, c.status)
			ctx := context.Background()
			if c.before != nil {
				c.before(t, e)
			}
			before := e.summary(t)
			unlimited := e.events(t, store.EventAccountUnlimited)
			offer, err := e.s.Offer(ctx, e.id)
			if err != nil {
				t.Fatal(err)
			}
			if c.want != promise.ErrAmount && !errors.Is(offer.Refusal, c.want) && !(c.want == nil && offer.Refusal == nil) {
				t.Errorf("offer refused with %v, want %v", offer.Refusal, c.want)
			}
			p, err := e.take(c.amount)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("take: %v, want %v", err, c.want)
			}
			after := e.summary(t)
			if err != nil {
				if after.Balance != before.Balance || after.Status != before.Status {
					t.Errorf("refused, yet the account moved: %s %s → %s %s", before.Balance, before.Status, after.Balance, after.Status)
				}
				return
			}
			if after.Status != billing.StatusActive || after.Speed.Limited {
				t.Errorf("after the promise the line is %s (limited %v), want active", after.Status, after.Speed.Limited)
			}
			if after.Balance != before.Balance-c.rules.Fee {
				t.Errorf("balance %s → %s, want only the fee %s taken", before.Balance, after.Balance, c.rules.Fee)
			}
			if want := e.clk.Now().AddDate(0, 0, c.rules.Days); !p.EndsAt.Equal(want) || !after.PromisedUntil.Equal(want) {
				t.Errorf("ends %s (hold %s), want %s", p.EndsAt, after.PromisedUntil, want)
			}
			if n := e.events(t, store.EventAccountUnlimited) - unlimited; n != 1 {
				t.Errorf("%d account.unlimited events, want 1 (the CoA)", n)
			}
			if c.rules.Fee > 0 {
				var n int
				e.db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE key = ?`, "promise:"+itoa(p.ID)+":fee").Scan(&n)
				if n != 1 {
					t.Errorf("%d fee charges, want 1", n)
				}
			}
			if probs, err := ledger.Verify(ctx, e.db); err != nil || len(probs) > 0 {
				t.Errorf("ledger: %v, %v", probs, err)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPromiseLifecycle moves the clock through a promise that ends unpaid
// (the line is limited again at once, once however often the scheduler
// runs) and one that a payment closes.
func TestPromiseLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, promise.DefaultRules(), "")
		if s := e.summary(t); s.Status != billing.StatusLimited {
			t.Fatalf("the debtor is %s, want limited", s.Status)
		}
		p, err := e.take(money.Rub(1000))
		if err != nil {
			t.Fatal(err)
		}
		// Billing's own limit check, every minute, leaves the held line alone.
		e.clk.Advance(24 * time.Hour)
		if n, err := e.b.ApplyLimits(ctx, e.clk.Now()); err != nil || n != 0 {
			t.Fatalf("limits during the promise: %d, %v", n, err)
		}
		for _, step := range []struct {
			at                   time.Time
			expired, limited     int
			status               string
			limitedEvents, ended int
		}{
			{p.EndsAt.Add(-time.Minute), 0, 0, billing.StatusActive, 1, 0},
			{p.EndsAt, 1, 1, billing.StatusLimited, 2, 1},
			{p.EndsAt.Add(time.Minute), 0, 0, billing.StatusLimited, 2, 1},
		} {
			e.clk.Set(step.at)
			res, err := e.s.Expire(ctx, e.clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.b.ApplyLimits(ctx, e.clk.Now()); err != nil {
				t.Fatal(err)
			}
			if res.Expired != step.expired || res.Limited != step.limited {
				t.Errorf("at %s: expired %d limited %d, want %d %d", step.at, res.Expired, res.Limited, step.expired, step.limited)
			}
			if s := e.summary(t); s.Status != step.status {
				t.Errorf("at %s: %s, want %s", step.at, s.Status, step.status)
			}
			if n := e.events(t, store.EventAccountLimited); n != step.limitedEvents {
				t.Errorf("at %s: %d account.limited events, want %d", step.at, n, step.limitedEvents)
			}
			if n := e.events(t, store.EventPromiseEnded); n != step.ended {
				t.Errorf("at %s: %d promise.ended events, want %d", step.at, n, step.ended)
			}
		}
		got, err := e.s.History(ctx, e.id, 0)
		if err != nil || len(got) != 1 || got[0].EndReason != promise.EndExpired {
			t.Fatalf("history %+v, %v", got, err)
		}

		// A month on, another; a payment covering the debt closes it in its
		// own transaction, and the line stays unlimited past its end.
		e.clk.Set(p.TakenAt.AddDate(0, 0, 30))
		p2, err := e.take(money.Rub(500))
		if err != nil {
			t.Fatal(err)
		}
		e.pay(t, money.Rub(400), "part")
		if cur, _ := e.s.Current(ctx, e.id); cur == nil || cur.ID != p2.ID {
			t.Fatalf("a payment short of the debt closed the promise: %+v", cur)
		}
		e.pay(t, money.Rub(600), "rest")
		if cur, err := e.s.Current(ctx, e.id); cur != nil || err != nil {
			t.Fatalf("the payment that covered the debt left the promise open: %+v, %v", cur, err)
		}
		got, _ = e.s.History(ctx, e.id, 0)
		if got[0].EndReason != promise.EndPaid {
			t.Errorf("closed as %q, want paid", got[0].EndReason)
		}
		e.clk.Set(p2.EndsAt.Add(time.Hour))
		if res, err := e.s.Expire(ctx, e.clk.Now()); err != nil || res.Expired != 0 {
			t.Errorf("expire after the payment: %+v, %v", res, err)
		}
		if s := e.summary(t); s.Status != billing.StatusActive || !s.PromisedUntil.IsZero() {
			t.Errorf("after paying: %s, hold %s", s.Status, s.PromisedUntil)
		}
	})
}

// TestPaidWithoutListener: a payment made by a process with no promise
// service (the CLI) ends the hold; the scheduler closes the promise as paid.
func TestPaidWithoutListener(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, promise.DefaultRules(), "")
		if _, err := e.take(money.Rub(1000)); err != nil {
			t.Fatal(err)
		}
		cli := billing.New(db, e.clk, billing.DefaultRules())
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := cli.Credit(ctx, tx, e.id, "cash", "cli", money.Rub(1000), "", e.clk.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		res, err := e.s.Expire(ctx, e.clk.Now())
		if err != nil || res.Paid != 1 {
			t.Fatalf("sweep: %+v, %v", res, err)
		}
		if cur, _ := e.s.Current(ctx, e.id); cur != nil {
			t.Errorf("still open: %+v", cur)
		}
	})
}

// TestConcurrentTakes: two takes at once (two instances on PostgreSQL)
// open one promise and charge one fee.
func TestConcurrentTakes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := promise.DefaultRules()
		r.Fee = money.Rub(10)
		e := newEnv(t, db, r, "")
		// A second instance: its own Biller and Service on the same database.
		other := promise.New(db, e.clk, billing.New(db, e.clk, billing.DefaultRules()), r)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			s := e.s
			if i%2 == 1 {
				s = other
			}
			wg.Go(func() {
				_, errs[i] = s.Take(ctx, promise.Request{AccountID: e.id, Amount: money.Rub(100), Channel: promise.ChannelAPI})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, promise.ErrOpen):
				t.Errorf("take: %v, want success or ErrOpen", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d takes succeeded, want 1", ok)
		}
		var promises, fees int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM promises WHERE account_id = ?`, e.id).Scan(&promises)
		db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE key LIKE 'promise:%'`).Scan(&fees)
		if promises != 1 || fees != 1 || e.events(t, store.EventPromiseTaken) != 1 || e.events(t, store.EventAccountUnlimited) != 1 {
			t.Errorf("promises %d, fees %d, taken events %d, unlimited events %d; want one each",
				promises, fees, e.events(t, store.EventPromiseTaken), e.events(t, store.EventAccountUnlimited))
		}
		if s := e.summary(t); s.Balance != -money.Rub(1010) {
			t.Errorf("balance %s, want −1010.00 (one fee)", s.Balance)
		}
	})
}

// TestConcurrentExpire: instances ending the same promise limit the line
// once.
func TestConcurrentExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, promise.DefaultRules(), "")
		p, err := e.take(money.Rub(100))
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Set(p.EndsAt.Add(time.Second))
		other := promise.New(db, e.clk, billing.New(db, e.clk, billing.DefaultRules()), promise.DefaultRules())
		var wg sync.WaitGroup
		results := make([]promise.Result, 4)
		for i := range results {
			s := e.s
			if i%2 == 1 {
				s = other
			}
			wg.Go(func() {
				var err error
				if results[i], err = s.Expire(ctx, e.clk.Now()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		expired := 0
		for _, r := range results {
			expired += r.Expired
		}
		if expired != 1 || e.events(t, store.EventAccountLimited) != 2 || e.events(t, store.EventPromiseEnded) != 1 {
			t.Errorf("expired %d times, %d limited events (want 2: the run's and the end's), %d ended", expired,
				e.events(t, store.EventAccountLimited), e.events(t, store.EventPromiseEnded))
		}
	})
}
