package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/importer/importtest"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

var abillsFiles = []string{"abills/abills.sql", "abills/Abon.sql", "abills/Paysys.sql", "abills/Bonus.sql"}

func openAbills(t testing.TB, dsn, key string) *Abills {
	t.Helper()
	src, err := OpenAbills(context.Background(), dsn, key, moscow)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// TestAbills imports a generated ABillS, with the dump's own test user and
// "Admin" plan, into each engine and checks the fields, the passwords
// decoded with the key, the books and a second run.
func TestAbills(t *testing.T) {
	const n, perUser = 30, 2
	dsn, src := importtest.SourceDB(t, abillsFiles...)
	ctx := context.Background()
	if err := importtest.FillAbills(ctx, src, n, perUser); err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tg := newTarget(t, db)
		o := tg.options(false)
		rep, err := Run(ctx, db, openAbills(t, dsn, importtest.AbillsKey), o)
		if err != nil {
			t.Fatalf("%v: %v", err, rep.Problems)
		}
		// The dump's test user on its speed-less "Admin" plan comes across too.
		if rep.Tariffs.New != 4 || rep.Subscribers.New != n+1 || rep.Payments.New != n*perUser || len(rep.Notes) != 1 {
			t.Errorf("report: %+v", rep)
		}
		ts, err := billing.Tariffs(ctx, db, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]billing.Tariff{}
		for _, tr := range ts {
			byName[tr.Name] = tr
		}
		for _, want := range importtest.AbillsTariffs {
			got := byName[want.Name]
			fee, _ := money.Parse(want.MonthFee)
			if want.DayFee != "0.00" {
				d, _ := money.Parse(want.DayFee)
				fee = d * 30
			}
			if got.Fee != fee || got.DownKbps != want.In || got.UpKbps != want.Out {
				t.Errorf("tariff %s: %+v", want.Name, got)
			}
		}
		if a := byName["Admin"]; a.DownKbps != unlimitedKbps {
			t.Errorf("the Admin plan: %+v", a)
		}
		test, err := tg.dir.ByLogin(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		if pw, err := tg.dir.RadiusPassword(test); pw != "123456" || err != nil {
			t.Errorf("the dump's test user: password %q, %v", pw, err)
		}
		for i := 1; i <= n; i++ {
			u := importtest.AbillsUserN(i)
			a, err := tg.dir.ByLogin(ctx, u.Login)
			if err != nil {
				t.Fatal(err)
			}
			status := billing.StatusActive
			if u.Disable != 0 {
				status = billing.StatusBlocked
			} else if u.ServiceDisable == 3 {
				status = billing.StatusFrozen
			}
			phone := u.Phone
			if u.Cell != "" {
				phone = u.Cell
			}
			var tariff string
			for _, tr := range importtest.AbillsTariffs {
				if tr.TpID == u.TpID {
					tariff = tr.Name
				}
			}
			if a.Name != u.FIO || a.ContractNo != u.Contract+u.Suffix || a.Phone != phone || a.Email != u.Email || a.CityName != u.City ||
				a.Address != u.Street+" "+u.Build+"/"+u.Flat || a.Status != status || a.TariffID != byName[tariff].ID {
				t.Errorf("%s: %+v; want %+v", u.Login, a, u)
			}
			if pw, err := tg.dir.RadiusPassword(a); pw != u.Password || err != nil {
				t.Errorf("%s: password %q, %v; want %q", u.Login, pw, err, u.Password)
			}
			want, _ := money.Parse(u.Deposit)
			if got := tg.balance(t, a); got != want {
				t.Errorf("%s: balance %s, want %s", u.Login, got.Decimal(), want.Decimal())
			}
			subs, err := tg.b.Subscriptions(ctx, db, a.ID, false)
			ip := fmt.Sprintf("%d.%d.%d.%d", u.IP>>24, u.IP>>16&255, u.IP>>8&255, u.IP&255)
			if err != nil || len(subs) != 1 || subs[0].StaticIP != ip {
				t.Errorf("%s: static IP %+v, %v; want %s", u.Login, subs, err, ip)
			}
		}
		p := importtest.AbillsPaymentN(2, 1, perUser)
		var paid store.Time
		var amount int64
		var channel string
		if err := db.QueryRow(ctx, `SELECT paid_at, amount, channel FROM payment_history WHERE key = ?`, fmt.Sprintf("abills:payment:%d", p.ID)).Scan(&paid, &amount, &channel); err != nil {
			t.Fatal(err)
		}
		wantAmount, _ := money.Parse(p.Summ)
		wantAt := time.Date(p.Date.Year(), p.Date.Month(), p.Date.Day(), p.Date.Hour(), 0, 0, 0, moscow)
		if !paid.Time.Equal(wantAt) || money.Amount(amount) != wantAmount || channel != "банк" {
			t.Errorf("payment %d: %v %d %s; want %v %s банк", p.ID, paid.Time, amount, channel, wantAt, wantAmount.Decimal())
		}
		tg.verify(t)
		// The portal takes the password ABillS kept encoded, Cyrillic and all;
		// the credit ABillS allowed is kept for the operators.
		u := importtest.AbillsUserN(9)
		if _, err := tg.dir.Authenticate(ctx, u.Login, u.Password); err != nil {
			t.Errorf("portal login of %s with the ABillS password: %v", u.Login, err)
		}
		if _, err := tg.dir.Authenticate(ctx, u.Login, "s00000-пароль"); !errors.Is(err, subscriber.ErrBadPassword) {
			t.Errorf("portal login of %s with a wrong password: %v", u.Login, err)
		}
		if a9, err := tg.dir.ByLogin(ctx, u.Login); err != nil {
			t.Fatal(err)
		} else if o, ok, err := OriginOf(ctx, db, a9.ID); !ok || err != nil || o.System != "abills" || o.Key != "10" || o.Credit != money.Rub(150) {
			t.Errorf("%s: origin %+v, %v, %v; want abills uid 10 with a credit of 150.00", u.Login, o, ok, err)
		}
		before := tg.counts(t)
		rep, err = Run(ctx, db, openAbills(t, dsn, importtest.AbillsKey), o)
		if err != nil || rep.Subscribers.Unchanged != n+1 || rep.Payments.Unchanged != n*perUser || rep.Subscribers.New+rep.Payments.New+rep.Credited != 0 {
			t.Errorf("second run: %+v, %v", rep, err)
		}
		if after := tg.counts(t); after != before {
			t.Errorf("second run wrote: %v → %v", before, after)
		}
	})
}

// TestAbillsKey: a wrong key is refused before anything is read; with the
// right one, a password encoded with another is that row's problem.
func TestAbillsKey(t *testing.T) {
	dsn, src := importtest.SourceDB(t, abillsFiles...)
	ctx := context.Background()
	if err := importtest.FillAbills(ctx, src, 6, 0); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"wrong-key-1234567890", ""} {
		_, err := OpenAbills(ctx, dsn, key, moscow)
		if !errors.Is(err, ErrSource) {
			t.Errorf("key %q: %v, want ErrSource", key, err)
		}
	}
	if _, err := OpenAbills(ctx, dsn, "wrong-key-1234567890", moscow); err == nil || !strings.Contains(err.Error(), "does not decode the ABillS passwords (0 of 7 come out printable)") {
		t.Errorf("wrong key: %v", err)
	}
	importtest.MustExec(t, src, `UPDATE users SET password = ENCODE('other', 'another key') WHERE id = 'abon00003'`)
	tg := newTarget(t, storetest.SQLite(t))
	o := tg.options(true)
	rep, err := Run(ctx, tg.db, openAbills(t, dsn, importtest.AbillsKey), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Row != "user abon00003 (uid 4)" || !strings.HasPrefix(rep.Problems[0].Message, "password cannot be decoded: DECODE with the key gives 5 bytes that are not text") {
		t.Errorf("problems: %+v", rep.Problems)
	}
	// A database that is not ABillS's.
	ub, _ := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
	if _, err := OpenAbills(ctx, ub, importtest.AbillsKey, moscow); !errors.Is(err, ErrSource) || !strings.Contains(err.Error(), "is not ABillS's") {
		t.Errorf("Ubilling's database as ABillS: %v", err)
	}
}
