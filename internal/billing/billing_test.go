package billing_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"sync"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

var msk = billing.DefaultRules().Zone

type env struct {
	db  *store.DB
	clk *clock.Fake
	b   *billing.Biller
	dir *subscriber.Directory
}

func newEnv(t testing.TB, db *store.DB, start time.Time) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(start)
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, _ := subscriber.NewSealer(make([]byte, 32))
	e := &env{db: db, clk: clk, b: b, dir: subscriber.New(db, clk, sealer, b)}
	city, err := billing.AddCity(ctx, db, billing.City{Code: "tver", Name: "Тверь"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := billing.AddCity(ctx, db, billing.City{Code: "torzhok", Name: "Торжок"})
	for _, tr := range []billing.Tariff{
		{Code: "home100", Name: "Дом 100", Fee: money.Rub(500), DownKbps: 100000, UpKbps: 100000, Public: true, Prorate: true},
		{Code: "home300", Name: "Дом 300", Fee: money.Rub(800), DownKbps: 300000, UpKbps: 300000, Public: true, Prorate: true},
		{Code: "fixed", Name: "Фикс", Fee: money.Rub(300), DownKbps: 50000, UpKbps: 50000, Public: true},
		{Code: "old", Name: "Архив", Fee: money.Rub(100), DownKbps: 10000, UpKbps: 10000, Public: true, Archived: true},
		{Code: "tver-only", Name: "Тверь", Fee: money.Rub(400), DownKbps: 100000, UpKbps: 100000, Public: true, CityID: city.ID},
		{Code: "torzhok-only", Name: "Торжок", Fee: money.Rub(400), DownKbps: 100000, UpKbps: 100000, Public: true, CityID: other.ID},
	} {
		if _, err := billing.AddTariff(ctx, db, tr, start); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []billing.Package{
		{Code: "tv", Kind: billing.PackageTV, Name: "ТВ", Price: money.Rub(200), Pricing: billing.PriceMonthly},
		{Code: "drweb", Kind: billing.PackageAntivirus, Name: "Антивирус", Price: money.Rub(99), Pricing: billing.PriceMonthly},
		{Code: "turbo", Kind: billing.PackageBoost, Name: "Турбо 24 ч", Price: money.Rub(50), Pricing: billing.PriceDuration, DurationHours: 24, SpeedPercent: 200},
	} {
		if _, err := billing.AddPackage(ctx, db, p, start); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) account(t testing.TB, login, tariff string) int64 {
	t.Helper()
	a, err := e.dir.Create(context.Background(), subscriber.NewAccount{Login: login, Password: "secret-pass", Tariff: tariff, City: "tver", PasswordHash: fastHash})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

var fastHash = password.Hash("secret-pass")

func (e *env) pay(t testing.TB, id int64, rub int64, ext string) ledger.Result {
	t.Helper()
	var r ledger.Result
	err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		var err error
		r, err = e.b.Credit(context.Background(), tx, id, "cash", ext, money.Rub(rub), "", e.clk.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) summary(t *testing.T, id int64) billing.Summary {
	t.Helper()
	s, err := e.b.Summary(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verify(t *testing.T, db *store.DB) {
	t.Helper()
	problems, err := ledger.Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p.Message)
	}
}

func TestMonthlyChargesDebtAndLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 1, 0, 0, 0, 0, msk))
		id := e.account(t, "ivanov", "fixed") // 300 charged on creation, no proration
		if s := e.summary(t, id); s.Balance != money.Rub(-300) || s.Status != "active" {
			t.Fatalf("after creation: %v %s", s.Balance, s.Status)
		}
		if s := e.summary(t, id); s.Recommended != money.Rub(600) {
			t.Errorf("recommended = %v, want 600 (300 next month + 300 debt)", s.Recommended)
		}
		// January 1st: charged again, debt began Dec 1 and is one month old: limited.
		jan := time.Date(2027, 1, 1, 0, 5, 0, 0, msk)
		e.clk.Set(jan)
		res, err := e.b.Run(ctx, jan, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Charges != 1 || res.Total != money.Rub(300) || res.Limited != 1 {
			t.Errorf("run: %+v", res)
		}
		s := e.summary(t, id)
		if s.Balance != money.Rub(-600) || s.Status != "limited" || !s.Speed.Limited || s.Speed.DownKbps != 128 {
			t.Errorf("after January run: %v %s %+v", s.Balance, s.Status, s.Speed)
		}
		// Re-running charges nothing.
		res, err = e.b.Run(ctx, jan.Add(time.Hour), nil)
		if err != nil || res.Charges != 0 {
			t.Errorf("re-run: %+v %v", res, err)
		}
		// A payment that does not clear the debt keeps the limit; one that does lifts it.
		e.pay(t, id, 100, "p1")
		if s := e.summary(t, id); s.Status != "limited" {
			t.Errorf("partial payment lifted the limit")
		}
		var events []store.Event
		var mu sync.Mutex
		db.Subscribe(func(ev store.Event) { mu.Lock(); events = append(events, ev); mu.Unlock() })
		e.pay(t, id, 500, "p2")
		if s := e.summary(t, id); s.Status != "active" || s.Balance != 0 || s.Speed.DownKbps != 50000 {
			t.Errorf("after paying the debt: %v %s %+v", s.Balance, s.Status, s.Speed)
		}
		mu.Lock()
		if len(events) < 1 || events[0].Kind != store.EventAccountUnlimited {
			t.Errorf("events: %+v", events)
		}
		mu.Unlock()
		// The same payment again is applied once.
		if r := e.pay(t, id, 500, "p2"); !r.Duplicate {
			t.Errorf("repeated payment not reported as duplicate")
		}
		if s := e.summary(t, id); s.Balance != 0 {
			t.Errorf("repeated payment credited: %v", s.Balance)
		}
		verify(t, db)
	})
}

func TestCatchUpAfterDowntime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 11, 10, 12, 0, 0, 0, msk))
		id := e.account(t, "petrov", "fixed")
		e.pay(t, id, 2000, "p1")
		// The server was down from December to March 3rd.
		at := time.Date(2027, 3, 3, 9, 0, 0, 0, msk)
		e.clk.Set(at)
		res, err := e.b.Run(ctx, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Charges != 4 { // Dec, Jan, Feb, Mar
			t.Errorf("charges = %d, want 4 (%v)", res.Charges, res.Periods)
		}
		st, err := ledger.StatementFor(ctx, db, id, time.Date(2026, 12, 1, 0, 0, 0, 0, msk), time.Date(2027, 4, 1, 0, 0, 0, 0, msk), ledger.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Lines) != 4 {
			t.Fatalf("lines: %+v", st.Lines)
		}
		for i, l := range st.Lines {
			want := time.Date(2026, time.Month(12+i), 1, 0, 0, 0, 0, msk)
			if !l.EffectiveAt.Equal(want) {
				t.Errorf("charge %d dated %s, want the 1st %s", i, l.EffectiveAt, want)
			}
		}
		if st.Opening != money.Rub(1700) || st.Closing != money.Rub(500) {
			t.Errorf("opening %v closing %v", st.Opening, st.Closing)
		}
		verify(t, db)
	})
}

func TestTariffChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		start := time.Date(2027, 4, 1, 0, 0, 0, 0, msk) // April: 30 days
		e := newEnv(t, db, start)
		id := e.account(t, "sidorov", "home100")
		e.pay(t, id, 1000, "p1")
		e.clk.Set(time.Date(2027, 4, 16, 10, 0, 0, 0, msk)) // 15 days left
		tests := []struct {
			code string
			err  error
		}{
			{"old", billing.ErrNotOffered},
			{"torzhok-only", billing.ErrNotOffered},
			{"home100", billing.ErrSameTariff},
			{"nope", derrors.NotFound},
		}
		for _, tt := range tests {
			if _, err := e.b.ChangeTariff(ctx, id, tt.code); !errors.Is(err, tt.err) {
				t.Errorf("change to %s: %v, want %v", tt.code, err, tt.err)
			}
		}
		q, err := e.b.QuoteTariffChange(ctx, id, "home300")
		if err != nil {
			t.Fatal(err)
		}
		if !q.Immediate || q.Refund != money.Rub(250) || q.Charge != money.Rub(400) || q.Net != money.Rub(-150) {
			t.Errorf("quote: %+v", q)
		}
		if _, err := e.b.ChangeTariff(ctx, id, "home300"); err != nil {
			t.Fatal(err)
		}
		if s := e.summary(t, id); s.Balance != money.Rub(350) || s.Tariff.Code != "home300" || s.Speed.DownKbps != 300000 {
			t.Errorf("after change: %v %s", s.Balance, s.Tariff.Code)
		}
		// From a prorating tariff the change is immediate; from a
		// non-prorating one it waits for the next 1st.
		if _, err := e.b.ChangeTariff(ctx, id, "tver-only"); err != nil {
			t.Fatal(err)
		}
		s := e.summary(t, id)
		if s.Tariff.Code != "tver-only" {
			t.Fatalf("tariff %s", s.Tariff.Code)
		}
		if _, err := e.b.ChangeTariff(ctx, id, "fixed"); err != nil {
			t.Fatal(err)
		}
		s = e.summary(t, id)
		if s.Tariff.Code != "tver-only" || s.NextTariff == nil || s.NextTariff.Code != "fixed" || s.NextFees != money.Rub(300) {
			t.Errorf("scheduled: %s %+v %v", s.Tariff.Code, s.NextTariff, s.NextFees)
		}
		may := time.Date(2027, 5, 1, 0, 0, 0, 0, msk)
		e.clk.Set(may)
		if _, err := e.b.Run(ctx, may, nil); err != nil {
			t.Fatal(err)
		}
		s = e.summary(t, id)
		if s.Tariff.Code != "fixed" || s.NextTariff != nil {
			t.Errorf("on the 1st: %s %+v", s.Tariff.Code, s.NextTariff)
		}
		verify(t, db)
	})
}

func TestPackagesAndBoost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2027, 4, 1, 0, 0, 0, 0, msk))
		id := e.account(t, "kuznetsov", "home100")
		other := e.account(t, "smirnov", "home100")
		if _, err := e.b.Connect(ctx, id, "turbo"); !errors.Is(err, billing.ErrInsufficientFunds) {
			t.Errorf("boost without money: %v", err)
		}
		e.pay(t, id, 1000, "p1")
		e.clk.Set(time.Date(2027, 4, 16, 0, 0, 0, 0, msk))
		av, err := e.b.Connect(ctx, id, "drweb")
		if err != nil {
			t.Fatal(err)
		}
		if av.LicenseKey == "" {
			t.Error("no licence key")
		}
		if _, err := e.b.Connect(ctx, id, "drweb"); !errors.Is(err, billing.ErrAlreadyConnected) {
			t.Errorf("twice: %v", err)
		}
		if _, err := e.b.Connect(ctx, id, "turbo"); err != nil {
			t.Fatal(err)
		}
		s := e.summary(t, id)
		// 1000 − 500 − 99×15/30 (49.50) − 50
		if s.Balance != money.Amount(100000-50000-4950-5000) || !s.Speed.Boosted || s.Speed.DownKbps != 200000 {
			t.Errorf("after packages: %v %+v", s.Balance, s.Speed)
		}
		if err := e.b.Disconnect(ctx, other, av.ID); !errors.Is(err, derrors.NotFound) {
			t.Errorf("another subscriber's package: %v", err)
		}
		e.clk.Advance(25 * time.Hour)
		if n, err := e.b.EndBoosts(ctx, e.clk.Now()); err != nil || n != 1 {
			t.Errorf("end boosts: %d %v", n, err)
		}
		if s := e.summary(t, id); s.Speed.Boosted || s.Speed.DownKbps != 100000 {
			t.Errorf("boost did not end: %+v", s.Speed)
		}
		if err := e.b.Disconnect(ctx, id, av.ID); err != nil {
			t.Fatal(err)
		}
		may := time.Date(2027, 5, 1, 0, 0, 0, 0, msk)
		e.clk.Set(may)
		res, err := e.b.Run(ctx, may, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Charges != 2 { // two tariffs; antivirus is off
			t.Errorf("May charges = %d", res.Charges)
		}
		verify(t, db)
	})
}

// Two billing runs at once charge every account exactly once.
func TestConcurrentRunsChargeOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 15, 0, 0, 0, 0, msk))
		const n = 300
		for i := range n {
			id := e.account(t, fmt.Sprintf("user%03d", i), "fixed")
			if i%3 == 0 {
				_, err := e.b.Connect(ctx, id, "tv")
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		e.b.ChunkSize = 37
		jan := time.Date(2027, 1, 1, 0, 5, 0, 0, msk)
		e.clk.Set(jan)
		var wg sync.WaitGroup
		results := make([]billing.RunResult, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each run has its own Biller, as two processes would.
				b := billing.New(db, e.clk, billing.DefaultRules())
				b.ChunkSize = 37
				results[i], errs[i] = b.Run(ctx, jan, nil)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := results[0].Charges + results[1].Charges; got != n+n/3 {
			t.Errorf("charges %d + %d, want %d in all", results[0].Charges, results[1].Charges, n+n/3)
		}
		var count int64
		db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE period = '2027-01'`).Scan(&count)
		if count != n+n/3 {
			t.Errorf("January charges in the ledger: %d", count)
		}
		verify(t, db)
	})
}

// Payments and charges at once keep every balance equal to its postings.
func TestConcurrentPaymentsAndCharges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2026, 12, 15, 0, 0, 0, 0, msk))
		var ids []int64
		for i := range 50 {
			ids = append(ids, e.account(t, fmt.Sprintf("user%03d", i), "fixed"))
		}
		jan := time.Date(2027, 1, 1, 0, 5, 0, 0, msk)
		e.clk.Set(jan)
		var wg sync.WaitGroup
		errs := make(chan error, 400)
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := billing.New(db, e.clk, billing.DefaultRules())
			b.ChunkSize = 7
			if _, err := b.Run(ctx, jan, nil); err != nil {
				errs <- err
			}
		}()
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, id := range ids {
					// Workers 0 and 1 send the same payments: each lands once.
					ext := fmt.Sprintf("w%d-%d", w%2, i)
					err := db.Write(ctx, func(tx *store.Tx) error {
						_, err := e.b.Credit(ctx, tx, id, "cash", ext, money.Rub(100), "", jan)
						return err
					})
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, id := range ids {
			// −300 on creation, −300 in January, +100 × 2 distinct payments.
			if s := e.summary(t, id); s.Balance != money.Rub(-400) {
				t.Errorf("account %d balance %v, want −400", id, s.Balance)
			}
		}
		verify(t, db)
	})
}

// A transaction that fails half-way leaves no posting and no balance change.
func TestFailedTransactionLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, time.Date(2027, 1, 10, 0, 0, 0, 0, msk))
		id := e.account(t, "fail", "fixed")
		before := e.summary(t, id).Balance
		var postingsBefore int64
		db.QueryRow(ctx, `SELECT COUNT(*) FROM postings`).Scan(&postingsBefore)
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx *store.Tx) error {
			if _, err := e.b.Credit(ctx, tx, id, "cash", "x1", money.Rub(500), "", e.clk.Now()); err != nil {
				return err
			}
			return boom // e.g. the payment row could not be written
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		// A posting to a ledger account that does not exist fails inside Post.
		err = db.Write(ctx, func(tx *store.Tx) error {
			_, err := ledger.Post(ctx, tx, ledger.Txn{Key: "bad", Kind: "test", Postings: []ledger.Posting{
				{LedgerAccountID: e.summary(t, id).AccountID, Amount: 100}, {LedgerAccountID: 999999, Amount: -100}}}, e.clk.Now())
			return err
		})
		if err == nil {
			t.Fatal("posting to a missing account succeeded")
		}
		var postingsAfter, txns int64
		db.QueryRow(ctx, `SELECT COUNT(*) FROM postings`).Scan(&postingsAfter)
		db.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_txns WHERE key IN ('bad', 'pay:cash:x1')`).Scan(&txns)
		if postingsAfter != postingsBefore || txns != 0 || e.summary(t, id).Balance != before {
			t.Errorf("partial writes: postings %d→%d, txns %d, balance %v→%v", postingsBefore, postingsAfter, txns, before, e.summary(t, id).Balance)
		}
		// Unbalanced postings are refused before anything is written.
		err = db.Write(ctx, func(tx *store.Tx) error {
			_, err := ledger.Post(ctx, tx, ledger.Txn{Key: "unbalanced", Kind: "test", Postings: []ledger.Posting{{LedgerAccountID: 1, Amount: 100}, {LedgerAccountID: 2, Amount: -99}}}, e.clk.Now())
			return err
		})
		if !errors.Is(err, ledger.ErrUnbalanced) {
			t.Errorf("unbalanced: %v", err)
		}
		verify(t, db)
	})
}
