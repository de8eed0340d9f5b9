package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/store/storetest"
)

const csvSubscribers = `login;password;contract;name;phone;email;city;address;tariff;balance;ip;status
petrov;Пароль-1;Д-1;Петров Пётр Петрович;+7 900 111-22-33;petrov@example.ru;Тверь;ул. Советская 5/12;home100;1 234,50;10.0.0.5;
sidorova;qwerty12;;Сидорова Анна;;;Тверь;;Домашний 100;-300;;заморожен
`

const csvPayments = `login,date,amount,channel,memo
petrov,2026-11-01 10:00,500,касса,чек 1
petrov,05.11.2026,734.5,Сбербанк,
sidorova,2026-10-01,100,касса,
`

func writeFile(t *testing.T, name, text string, cp1251 bool) string {
	t.Helper()
	b := []byte(text)
	if cp1251 {
		s, err := charmap.Windows1251.NewEncoder().String(text)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(s)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCSV imports a CP1251 ';' subscribers sheet and a UTF-8 ',' payments
// sheet onto Kabinet's own tariff, on each engine, twice.
func TestCSV(t *testing.T) {
	subs := writeFile(t, "subscribers.csv", csvSubscribers, true)
	pays := writeFile(t, "payments.csv", csvPayments, false)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tg := newTarget(t, db)
		if _, err := billing.AddTariff(ctx, db, billing.Tariff{Code: "home100", Name: "Домашний 100", Fee: money.Rub(600), DownKbps: 100000, UpKbps: 100000}, cutover); err != nil {
			t.Fatal(err)
		}
		src, err := OpenCSV(subs, pays, moscow)
		if err != nil {
			t.Fatal(err)
		}
		o := tg.options(false)
		rep, err := Run(ctx, db, src, o)
		if err != nil {
			t.Fatalf("%v: %v", err, rep.Problems)
		}
		if rep.Subscribers.New != 2 || rep.Payments.New != 3 || rep.Tariffs.Read != 0 {
			t.Errorf("report %+v", rep)
		}
		p, err := tg.dir.ByLogin(ctx, "petrov")
		if err != nil {
			t.Fatal(err)
		}
		if p.ContractNo != "Д-1" || p.Name != "Петров Пётр Петрович" || p.Phone != "+7 900 111-22-33" || p.Email != "petrov@example.ru" ||
			p.CityName != "Тверь" || p.Address != "ул. Советская 5/12" || p.Status != billing.StatusActive || tg.balance(t, p) != 123450 {
			t.Errorf("petrov: %+v, balance %s", p, tg.balance(t, p).Decimal())
		}
		if _, err := tg.dir.Authenticate(ctx, "petrov", "Пароль-1"); err != nil {
			t.Errorf("petrov's portal login: %v", err)
		}
		s, err := tg.dir.ByLogin(ctx, "sidorova")
		if err != nil {
			t.Fatal(err)
		}
		if s.ContractNo != "sidorova" || s.Status != billing.StatusFrozen || tg.balance(t, s) != -30000 {
			t.Errorf("sidorova: %+v, balance %s", s, tg.balance(t, s).Decimal())
		}
		var paid store.Time
		var amount int64
		if err := db.QueryRow(ctx, `SELECT paid_at, amount FROM payment_history WHERE account_id = ? AND channel = 'Сбербанк'`, p.ID).Scan(&paid, &amount); err != nil {
			t.Fatal(err)
		}
		if !paid.Time.Equal(time.Date(2026, 11, 5, 0, 0, 0, 0, moscow)) || amount != 73450 {
			t.Errorf("the Сбербанк payment: %v, %d", paid.Time, amount)
		}
		tg.verify(t)
		before := tg.counts(t)
		rep, err = Run(ctx, db, src, o)
		if err != nil || rep.Subscribers.Unchanged != 2 || rep.Payments.Unchanged != 3 || rep.Credited != 0 {
			t.Errorf("second run: %+v, %v", rep, err)
		}
		if after := tg.counts(t); after != before {
			t.Errorf("second run wrote: %v → %v", before, after)
		}
		// A payment added to the sheet since is credited, once.
		more := writeFile(t, "payments2.csv", csvPayments+"sidorova,2026-12-11 09:00,300,касса,\n", false)
		src2, err := OpenCSV(subs, more, moscow)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := Run(ctx, db, src2, o); err != nil {
				t.Fatal(err)
			}
		}
		if b := tg.balance(t, s); b != 0 {
			t.Errorf("sidorova after paying 300.00 of her 300.00 debt: %s", b.Decimal())
		}
		var debt bool
		if err := db.QueryRow(ctx, `SELECT debt_since IS NOT NULL FROM accounts WHERE id = ?`, s.ID).Scan(&debt); err != nil || debt {
			t.Errorf("sidorova's debt still recorded: %v, %v", debt, err)
		}
		if problems, err := ledger.Verify(ctx, db); err != nil || len(problems) > 0 {
			t.Errorf("ledger: %v, %v", problems, err)
		}
	})
}

func TestCSVProblems(t *testing.T) {
	ctx := context.Background()
	tg := newTarget(t, storetest.SQLite(t))
	if _, err := billing.AddTariff(ctx, tg.db, billing.Tariff{Code: "home100", Name: "Дом", Fee: money.Rub(600), DownKbps: 100000, UpKbps: 100000}, cutover); err != nil {
		t.Fatal(err)
	}
	subs := writeFile(t, "s.csv", `login,password,tariff,balance,email,status
ok1,secret1,home100,0,,
ok1,secret2,home100,0,,
bad2,secret,gold,0,,
bad3,secret,home100,"1,005",,
bad4,secret,home100,0,x@,
bad5,secret,home100,0,,в отпуске
`, false)
	src, err := OpenCSV(subs, "", moscow)
	if err != nil {
		t.Fatal(err)
	}
	o := tg.options(true)
	rep, err := Run(ctx, tg.db, src, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`line 3: duplicate login "ok1"`,
		`line 4: unknown tariff "gold"`,
		`line 5: balance "1,005" has more than two decimals`,
		`line 6: bad e-mail "x@"`,
		`line 7: status "в отпуске"`,
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.Row+": "+p.Message)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tc := range []struct{ name, text, want string }{
		{"unknown column", "login,password,tariff,colour\n", `unknown column "colour"`},
		{"no tariff column", "login,password\n", `no "tariff" column`},
		{"empty", "", "no header row"},
	} {
		_, err := OpenCSV(writeFile(t, "x.csv", tc.text, false), "", moscow)
		if !errors.Is(err, ErrSource) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
