package importer

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/importer/importtest"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// cutover is the instant the tests move the provider over.
var cutover = time.Date(2026, 12, 10, 3, 0, 0, 0, moscow)

type target struct {
	db  *store.DB
	clk *clock.Fake
	b   *billing.Biller
	dir *subscriber.Directory
}

func newTarget(t testing.TB, db *store.DB) *target {
	clk := clock.NewFake(cutover.Add(time.Minute))
	b := billing.New(db, clk, billing.DefaultRules())
	sealer, err := subscriber.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &target{db: db, clk: clk, b: b, dir: subscriber.New(db, clk, sealer, b)}
}

func (tg *target) options(dry bool) Options {
	return Options{DryRun: dry, At: cutover, Sealer: tg.dir.Sealer, Biller: tg.b}
}

func (tg *target) count(t testing.TB, table string) int64 {
	t.Helper()
	var n int64
	if err := tg.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (tg *target) verify(t testing.TB) {
	t.Helper()
	problems, err := ledger.Verify(context.Background(), tg.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("ledger verify: %s", p)
	}
}

func (tg *target) balance(t testing.TB, a subscriber.Account) money.Amount {
	t.Helper()
	b, err := ledger.Balance(context.Background(), tg.db, a.LedgerID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUbilling imports a generated Ubilling into each engine and checks
// every field, the books, the passwords, a second run and the billing run
// after the cut-over.
func TestUbilling(t *testing.T) {
	const n, perUser = 40, 3
	dsn, src := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
	ctx := context.Background()
	if err := importtest.FillUbilling(ctx, src, n, perUser); err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tg := newTarget(t, db)
		o := tg.options(false)
		rep, err := Run(ctx, db, openUbilling(t, dsn), o)
		if err != nil {
			t.Fatalf("import: %v (problems %v)", err, rep.Problems)
		}
		if rep.ProblemCount != 0 {
			t.Errorf("problems: %v", rep.Problems)
		}
		if rep.Tariffs.New != 3 || rep.Subscribers.New != n || rep.Payments.New != n*perUser || rep.StaticIPs != n {
			t.Errorf("report: tariffs %+v, subscribers %+v, payments %+v, static IPs %d", rep.Tariffs, rep.Subscribers, rep.Payments, rep.StaticIPs)
		}
		tg.verify(t)

		// Tariffs: fee, speeds in kbit/s, a daily fee as 30 days.
		ts, err := billing.Tariffs(ctx, db, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]billing.Tariff{}
		for _, tr := range ts {
			byName[tr.Name] = tr
		}
		for _, want := range []struct {
			name     string
			fee      money.Amount
			down, up int64
		}{{"Домашний 100", 60000, 102400, 102400}, {"Эконом", 35050, 20480, 10240}, {"Посуточный", 60000, 51200, 51200}} {
			got, ok := byName[want.name]
			if !ok || got.Fee != want.fee || got.DownKbps != want.down || got.UpKbps != want.up {
				t.Errorf("tariff %s: got %+v, want fee %d speeds %d/%d", want.name, got, want.fee, want.down, want.up)
			}
		}

		var sumOpening money.Amount
		var credits int64
		for i := 1; i <= n; i++ {
			u := importtest.UbillingUser(i)
			a, err := tg.dir.ByLogin(ctx, u.Login)
			if err != nil {
				t.Fatalf("%s: %v", u.Login, err)
			}
			wantStatus := billing.StatusActive
			if u.Down {
				wantStatus = billing.StatusBlocked
			} else if u.Passive {
				wantStatus = billing.StatusFrozen
			}
			wantAddr := u.Street + " " + u.Build + "/" + u.Apt
			if a.ContractNo != u.Contract || a.Name != u.Name || a.Phone != u.Mobile || a.Email != u.Email ||
				a.CityName != u.City || a.Address != wantAddr || a.Status != wantStatus || a.TariffID != byName[u.Tariff].ID {
				t.Errorf("%s: got %+v; want contract %s, name %s, phone %s, e-mail %s, city %s, address %s, status %s, tariff %s",
					u.Login, a, u.Contract, u.Name, u.Mobile, u.Email, u.City, wantAddr, wantStatus, u.Tariff)
			}
			want, _ := money.Parse(u.Cash)
			if got := tg.balance(t, a); got != want {
				t.Errorf("%s: balance %s, want %s", u.Login, got.Decimal(), want.Decimal())
			}
			sumOpening += want
			// The credit Ubilling allowed and a second phone are kept for
			// the operators.
			var wantCredit money.Amount
			var wantUntil string
			if u.Credit != "0" {
				wantCredit, wantUntil = money.Rub(300), "2027-01-15"
			}
			o, ok, err := OriginOf(ctx, db, a.ID)
			if err != nil || !ok || o.System != "ubilling" || o.Key != u.Login || !o.ImportedAt.Equal(cutover) ||
				o.Credit != wantCredit || o.CreditUntil != wantUntil || o.Phone2 != u.Phone {
				t.Errorf("%s: origin %+v, %v, %v; want credit %s until %q, second phone %q", u.Login, o, ok, err, wantCredit.Decimal(), wantUntil, u.Phone)
			}
			if wantCredit != 0 {
				credits++
			}
			pw, err := tg.dir.RadiusPassword(a)
			if err != nil || pw != u.Password {
				t.Errorf("%s: RADIUS password %q, %v; want %q", u.Login, pw, err, u.Password)
			}
			subs, err := tg.b.Subscriptions(ctx, db, a.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(subs) != 1 || subs[0].StaticIP != u.IP || subs[0].Package.Kind != billing.PackageStaticIP {
				t.Errorf("%s: subscriptions %+v, want the static IP %s", u.Login, subs, u.IP)
			}
			var debt store.Time
			var hasDebt bool
			if err := db.QueryRow(ctx, `SELECT debt_since IS NOT NULL FROM accounts WHERE id = ?`, a.ID).Scan(&hasDebt); err != nil {
				t.Fatal(err)
			}
			if hasDebt != (want < 0) {
				t.Errorf("%s: debt recorded %v with balance %s", u.Login, hasDebt, want.Decimal())
			}
			_ = debt
			// The opening balance is one transaction dated at the cut-over.
			st, err := ledger.StatementFor(ctx, db, a.ID, time.Unix(0, 0), cutover.Add(time.Hour), ledger.Page{})
			if err != nil {
				t.Fatal(err)
			}
			var openings int
			for _, l := range st.Lines {
				if l.Kind == TxnOpening {
					openings++
					if !l.EffectiveAt.Equal(cutover) || l.Amount != want {
						t.Errorf("%s: opening line %+v", u.Login, l)
					}
				}
			}
			if openings != 1 {
				t.Errorf("%s: %d opening transactions", u.Login, openings)
			}
			// The payment history: every payment, dated in the provider's zone, never credited.
			var hist int
			var histSum int64
			if err := db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payment_history WHERE account_id = ?`, a.ID).Scan(&hist, &histSum); err != nil {
				t.Fatal(err)
			}
			var wantSum money.Amount
			for j := range perUser {
				m, _ := money.Parse(importtest.UbillingPayment(i, j, perUser).Summ)
				wantSum += m
			}
			if hist != perUser || money.Amount(histSum) != wantSum {
				t.Errorf("%s: history %d rows, %d; want %d, %s", u.Login, hist, histSum, perUser, wantSum.Decimal())
			}
		}
		if rep.Credits != credits || credits == 0 {
			t.Errorf("report: %d credits kept as notes, want %d", rep.Credits, credits)
		}
		if rep.OpeningSum != sumOpening {
			t.Errorf("report's opening sum %s, want %s", rep.OpeningSum.Decimal(), sumOpening.Decimal())
		}
		p0 := importtest.UbillingPayment(1, 0, perUser)
		var paid store.Time
		if err := db.QueryRow(ctx, `SELECT paid_at FROM payment_history WHERE key = ?`, "ubilling:payment:1").Scan(&paid); err != nil {
			t.Fatal(err)
		}
		wantPaid := time.Date(p0.Date.Year(), p0.Date.Month(), p0.Date.Day(), p0.Date.Hour(), p0.Date.Minute(), 0, 0, moscow)
		if !paid.Time.Equal(wantPaid) {
			t.Errorf("payment 1 paid at %v, want %v", paid.Time, wantPaid)
		}
		a1, err := tg.dir.ByLogin(ctx, "user000001")
		if err != nil {
			t.Fatal(err)
		}
		hist, err := History(ctx, db, a1.ID, time.Unix(0, 0), cutover, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != perUser || !hist[len(hist)-1].PaidAt.Equal(wantPaid) || hist[0].PaidAt.Before(hist[len(hist)-1].PaidAt) || hist[0].Channel != "Cash money" {
			t.Errorf("history of user000001, newest first: %+v", hist)
		}
		if h, _ := History(ctx, db, a1.ID, time.Unix(0, 0), cutover, 1); len(h) != 1 || h[0] != hist[0] {
			t.Errorf("history limited to 1: %+v", h)
		}

		// The old password logs into the portal; the first login makes the
		// portal's hash (the import leaves it to the login), checked
		// again on the second.
		u := importtest.UbillingUser(1)
		for range 2 {
			if _, err := tg.dir.Authenticate(ctx, u.Login, u.Password+"x"); !errors.Is(err, subscriber.ErrBadPassword) {
				t.Errorf("portal login with a wrong password: %v", err)
			}
			if _, err := tg.dir.Authenticate(ctx, u.Login, u.Password); err != nil {
				t.Errorf("portal login with the Ubilling password: %v", err)
			}
		}
		var hash string
		if err := db.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE login = ?`, u.Login).Scan(&hash); err != nil || !strings.HasPrefix(hash, "$argon2id$") {
			t.Errorf("hash after the first login: %q, %v", hash, err)
		}

		// A second run of the same source imports nothing twice.
		before := tg.counts(t)
		rep2, err := Run(ctx, db, openUbilling(t, dsn), o)
		if err != nil {
			t.Fatalf("second import: %v", err)
		}
		if rep2.Tariffs.Unchanged != 3 || rep2.Subscribers.Unchanged != n || rep2.Payments.Unchanged != n*perUser ||
			rep2.Tariffs.New+rep2.Subscribers.New+rep2.Payments.New+rep2.Credited != 0 || rep2.ChangeCount != 0 {
			t.Errorf("second run: %+v", rep2)
		}
		if after := tg.counts(t); after != before {
			t.Errorf("second run wrote: %v → %v", before, after)
		}

		// The billing run at the cut-over charges nothing for December,
		// which Ubilling charged; January's charges the active ones.
		res, err := tg.b.Run(ctx, cutover.Add(time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Charges != 0 {
			t.Errorf("the cut-over month charged again: %+v", res)
		}
		res, err = tg.b.Run(ctx, time.Date(2027, 1, 1, 0, 5, 0, 0, moscow), nil)
		if err != nil {
			t.Fatal(err)
		}
		var active int64
		for i := 1; i <= n; i++ {
			if u := importtest.UbillingUser(i); !u.Down && !u.Passive {
				active++
			}
		}
		if res.Charges != active {
			t.Errorf("January: %d charges, want %d (the active subscribers)", res.Charges, active)
		}
		tg.verify(t)
	})
}

type counts struct{ accounts, txns, postings, history, rows, tariffs int64 }

func (tg *target) counts(t testing.TB) counts {
	return counts{tg.count(t, "accounts"), tg.count(t, "ledger_txns"), tg.count(t, "postings"), tg.count(t, "payment_history"), tg.count(t, "import_rows"), tg.count(t, "tariffs")}
}

// TestUbillingChangesSince: after the first import the old billing goes on
// for a while; the final run credits the payments made since, once, and
// reports what else changed without applying it.
func TestUbillingChangesSince(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		dsn, src := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
		if err := importtest.FillUbilling(ctx, src, 10, 2); err != nil {
			t.Fatal(err)
		}
		tg := newTarget(t, db)
		o := tg.options(false)
		if _, err := Run(ctx, tg.db, openUbilling(t, dsn), o); err != nil {
			t.Fatal(err)
		}
		// user000005 is in debt; a payment of 1000.00 arrives in Ubilling,
		// and user000001's tariff and e-mail change.
		importtest.MustExec(t, src, `INSERT INTO payments (id, login, date, admin, balance, summ, cashtypeid, note) VALUES (1000, 'user000005', '2026-12-11 12:00:00', 'admin', '0', '1000', 1, 'касса')`)
		importtest.MustExec(t, src, `UPDATE users SET Tariff = 'Посуточный' WHERE login = 'user000001'`)
		importtest.MustExec(t, src, `UPDATE emails SET email = 'new@example.ru' WHERE login = 'user000001'`)
		a5, err := tg.dir.ByLogin(ctx, "user000005")
		if err != nil {
			t.Fatal(err)
		}
		before := tg.balance(t, a5)
		for run := 1; run <= 2; run++ {
			rep, err := Run(ctx, tg.db, openUbilling(t, dsn), o)
			if err != nil {
				t.Fatal(err)
			}
			wantCredited := int64(1)
			if run == 2 {
				wantCredited = 0
			}
			if rep.Credited != wantCredited || rep.Subscribers.Changed != 1 || rep.Subscribers.New != 0 {
				t.Errorf("run %d: credited %d, subscribers %+v", run, rep.Credited, rep.Subscribers)
			}
			var msgs []string
			for _, c := range rep.Changes {
				msgs = append(msgs, c.Row+": "+c.Message)
			}
			all := strings.Join(msgs, "\n")
			if !strings.Contains(all, "subscriber user000001: email user1@example.ru → new@example.ru, tariff Эконом → Посуточный") {
				t.Errorf("run %d: changes:\n%s", run, all)
			}
		}
		if got := tg.balance(t, a5); got != before+money.Rub(1000) {
			t.Errorf("balance after the new payment %s, want %s", got.Decimal(), (before + money.Rub(1000)).Decimal())
		}
		tg.verify(t)
	})
}

// TestUbillingDryRun writes nothing and reports what the real run does,
// telling its progress on the way.
func TestUbillingDryRun(t *testing.T) {
	dsn, src := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
	ctx := context.Background()
	if err := importtest.FillUbilling(ctx, src, 12, 2); err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tg := newTarget(t, db)
		before := tg.counts(t)
		accounts := tg.count(t, "ledger_accounts")
		o := tg.options(true)
		progress := map[string]int64{}
		o.Progress = func(kind string, n int64) { progress[kind] = n }
		dry, err := Run(ctx, tg.db, openUbilling(t, dsn), o)
		if err != nil {
			t.Fatal(err)
		}
		if after := tg.counts(t); after != before {
			t.Errorf("dry run wrote: %v → %v", before, after)
		}
		if n := tg.count(t, "ledger_accounts"); n != accounts {
			t.Errorf("dry run left %d ledger accounts, there were %d", n, accounts)
		}
		if want := map[string]int64{"tariffs": 3, "subscribers": 12, "payments": 24}; !maps.Equal(progress, want) {
			t.Errorf("progress %v, want %v", progress, want)
		}
		real, err := Run(ctx, tg.db, openUbilling(t, dsn), tg.options(false))
		if err != nil {
			t.Fatal(err)
		}
		if !dry.DryRun || dry.Tariffs != real.Tariffs || dry.Subscribers != real.Subscribers || dry.Payments != real.Payments ||
			dry.OpeningSum != real.OpeningSum || dry.StaticIPs != real.StaticIPs || dry.Credits != real.Credits {
			t.Errorf("dry run reported %+v, the real run %+v", dry, real)
		}
		if real.Subscribers.New != 12 {
			t.Errorf("the real run after the dry one: %+v", real.Subscribers)
		}
	})
}

// failingSource loses the connection after some payments.
type failingSource struct {
	Source
	after int
}

func (f failingSource) Payments(ctx context.Context, fn func(Payment) error) error {
	n := 0
	return f.Source.Payments(ctx, func(p Payment) error {
		if n++; n > f.after {
			return errors.New("connection lost")
		}
		return fn(p)
	})
}

// TestRunAllOrNothing: a run that fails half-way, after writing subscribers
// and a batch of payments, leaves Kabinet as it was; the next run imports
// all of it.
func TestRunAllOrNothing(t *testing.T) {
	dsn, src := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
	ctx := context.Background()
	const n, perUser = 300, 2
	if err := importtest.FillUbilling(ctx, src, n, perUser); err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tg := newTarget(t, db)
		before := tg.counts(t)
		accounts := tg.count(t, "ledger_accounts")
		_, err := Run(ctx, tg.db, failingSource{openUbilling(t, dsn), batch + 40}, tg.options(false))
		if err == nil || !strings.Contains(err.Error(), "connection lost") {
			t.Fatalf("a run losing its source: %v", err)
		}
		if after := tg.counts(t); after != before {
			t.Errorf("the failed run left: %v → %v", before, after)
		}
		if got := tg.count(t, "ledger_accounts"); got != accounts {
			t.Errorf("the failed run left %d ledger accounts, there were %d", got, accounts)
		}
		rep, err := Run(ctx, tg.db, openUbilling(t, dsn), tg.options(false))
		if err != nil || rep.Subscribers.New != n || rep.Payments.New != n*perUser {
			t.Fatalf("the run after: %v, %+v", err, rep)
		}
		tg.verify(t)
	})
}

// TestUbillingProblems: every problem is named per source row; a real run
// with problems writes nothing; --skip-problems imports the rest.
func TestUbillingProblems(t *testing.T) {
	dsn, src := importtest.SourceDB(t, "ubilling/stargazer.sql", "ubilling/ubilling.sql")
	ctx := context.Background()
	const n = 10
	if err := importtest.FillUbilling(ctx, src, n, 2); err != nil {
		t.Fatal(err)
	}
	importtest.MustExec(t, src, `UPDATE users SET Tariff = 'Нет такого' WHERE login = 'user000003'`)
	importtest.MustExec(t, src, `UPDATE emails SET email = 'not-an-email' WHERE login = 'user000004'`)
	importtest.MustExec(t, src, `UPDATE phones SET mobile = 'звонить вечером' WHERE login = 'user000006'`)
	importtest.MustExec(t, src, `UPDATE users SET Cash = 10.125 WHERE login = 'user000008'`)
	importtest.MustExec(t, src, `UPDATE users SET Password = '' WHERE login = 'user000009'`)
	importtest.MustExec(t, src, `INSERT INTO users (login, Password, Tariff, Cash, Note, Userdata0, Userdata1, Userdata2, Userdata3, Userdata4, Userdata5, Userdata6, Userdata7, Userdata8, Userdata9, NAS) VALUES ('Вася Пупкин', 'secret', 'Эконом', 0, '', '', '', '', '', '', '', '', '', '', '', '')`)
	importtest.MustExec(t, src, `INSERT INTO payments (id, login, date, admin, balance, summ, cashtypeid, note) VALUES (500, 'ghost', '2026-01-01 00:00:00', 'admin', '0', '5', 1, '')`)
	tg := newTarget(t, storetest.SQLite(t))
	// The login user000002 is taken in Kabinet already.
	storetest.AddSubscriber(t, tg.db, storetest.Subscriber{Login: "user000002", At: cutover})
	if a2, err := tg.dir.ByLogin(ctx, "user000002"); err != nil {
		t.Fatal(err)
	} else if o, ok, err := OriginOf(ctx, tg.db, a2.ID); ok || err != nil {
		t.Errorf("Kabinet's own user000002 has an origin: %+v, %v", o, err)
	}
	before := tg.counts(t)
	o := tg.options(false)
	rep, err := Run(ctx, tg.db, openUbilling(t, dsn), o)
	if !errors.Is(err, ErrProblems) {
		t.Fatalf("import with problems: %v", err)
	}
	if after := tg.counts(t); after != before {
		t.Errorf("a run with problems wrote: %v → %v", before, after)
	}
	want := map[string]string{
		"subscriber user000002":  `duplicate login "user000002"`,
		"subscriber user000003":  `unknown tariff "Нет такого"`,
		"subscriber user000004":  `bad e-mail "not-an-email"`,
		"subscriber user000006":  `bad phone "звонить вечером"`,
		"subscriber user000008":  `balance "10.125" has more than two decimals`,
		"subscriber user000009":  `password cannot be decoded: empty or not printable`,
		"subscriber Вася Пупкин": `login "Вася Пупкин": Kabinet takes 3 to 32 of a-z, 0-9, '.', '_', '-'`,
		"payment 500":            `subscriber "ghost" is not in the source`,
	}
	got := map[string]string{}
	for _, p := range rep.Problems {
		got[p.Row] = p.Message
	}
	for row, msg := range want {
		if got[row] != msg {
			t.Errorf("%s: problem %q, want %q", row, got[row], msg)
		}
	}
	if len(got) != len(want) || rep.ProblemCount != int64(len(want)) {
		t.Errorf("problems %v, want %d", rep.Problems, len(want))
	}

	o.SkipProblems = true
	rep, err = Run(ctx, tg.db, openUbilling(t, dsn), o)
	if err != nil {
		t.Fatal(err)
	}
	// 2, 3, 8, 9 and Вася are left out with their payments; 4 and 6 come without the bad field.
	if rep.Subscribers.New != n-4 || rep.Subscribers.Skipped != 5 || rep.Payments.New != 2*(n-4) {
		t.Errorf("skipping: subscribers %+v, payments %+v", rep.Subscribers, rep.Payments)
	}
	a4, err := tg.dir.ByLogin(ctx, "user000004")
	if err != nil || a4.Email != "" {
		t.Errorf("user000004: %+v, %v; want it without the e-mail", a4, err)
	}
	a6, err := tg.dir.ByLogin(ctx, "user000006")
	if err != nil || a6.Phone != importtest.UbillingUser(6).Phone {
		t.Errorf("user000006: phone %q, %v; want the landline %q in place of the bad mobile", a6.Phone, err, importtest.UbillingUser(6).Phone)
	}
	tg.verify(t)
}

// TestOpenUbillingRefuses: a bad DSN, an unreachable server and a database
// that is not Ubilling's are each an ErrSource before anything is read.
func TestOpenUbillingRefuses(t *testing.T) {
	importtest.MariaRoot(t, "")
	emptyDSN, _ := importtest.SourceDB(t)
	abillsDSN, _ := importtest.SourceDB(t, "abills/abills.sql")
	for _, tc := range []struct{ name, dsn, want string }{
		{"not a URL", "root@127.0.0.1/stg", "--from must be mysql://"},
		{"other scheme", "postgres://root@127.0.0.1/stg", "--from must be mysql://"},
		{"no database", "mysql://root@127.0.0.1:3306/", "--from must be mysql://"},
		{"unreachable", "mysql://root@127.0.0.1:1/stg", "cannot reach stg at 127.0.0.1:1"},
		{"wrong password", "mysql://root:wrong@" + importtest.MariaAddr + "/mysql", "cannot reach mysql"},
		{"empty database", emptyDSN, "is not Ubilling's"},
		{"ABillS database", abillsDSN, "is not Ubilling's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenUbilling(context.Background(), tc.dsn, moscow)
			if !errors.Is(err, ErrSource) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenUbilling(%s) = %v, want ErrSource saying %q", tc.dsn, err, tc.want)
			}
		})
	}
}
