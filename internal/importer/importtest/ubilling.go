// Package importtest fills source databases of other billings with
// generated subscribers, for the importer's tests and its benchmark.
package importtest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Tariff is a generated tariff as the source keeps it.
type Tariff struct {
	Name     string
	Fee      string
	Period   string // "month" or "day"
	Down, Up int64  // kbit/s
}

// Tariffs of a generated Ubilling.
var Tariffs = []Tariff{
	{"Домашний 100", "600", "month", 102400, 102400},
	{"Эконом", "350.5", "month", 20480, 10240},
	{"Посуточный", "20", "day", 51200, 51200},
}

// User is a generated subscriber with the fields as the source keeps them.
type User struct {
	Login, Password, Tariff, Cash, Credit string
	CreditExpire                          int64
	Passive, Down                         bool
	IP, Name, Mobile, Phone, Email        string
	Contract                              string
	City, Street, Build, Apt              string
}

var (
	surnames = []string{"Иванов", "Петрова", "Сидоренко", "Кузнецов", "Смирнова", "Попов", "Васильева", "Соколов", "Михайлова", "Новиков"}
	given    = []string{"Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Елена", "Сергей", "Анна", "Юрий", "Татьяна"}
	cities   = []string{"Тверь", "Конаково"}
	streets  = []string{"ул. Советская", "пр-т Ленина", "ул. Трёхсвятская", "наб. Степана Разина"}
)

// UbillingUser is the i-th generated subscriber (i from 1): some in debt,
// some frozen (Passive), some blocked (Down), some with a credit.
func UbillingUser(i int) User {
	u := User{
		Login:    fmt.Sprintf("user%06d", i),
		Password: fmt.Sprintf("Pw-%06d-x", i*7919%1000000),
		Tariff:   Tariffs[i%len(Tariffs)].Name,
		Cash:     fmt.Sprintf("%d.%02d", (i*37)%2000, i%100),
		Credit:   "0",
		IP:       fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
		Name:     fmt.Sprintf("%s %s %d", surnames[i%len(surnames)], given[(i/10)%len(given)], i),
		Mobile:   fmt.Sprintf("+7 (9%02d) %03d-%02d-%02d", i%100, i%1000, i%97, i%89),
		Email:    fmt.Sprintf("user%d@example.ru", i),
		Contract: fmt.Sprintf("Д-%06d", i),
		City:     cities[i%len(cities)],
		Street:   streets[i%len(streets)],
		Build:    fmt.Sprint(1 + i%40),
		Apt:      fmt.Sprint(1 + i%120),
	}
	if i%5 == 0 {
		u.Cash = "-" + u.Cash
	}
	if i%3 == 0 {
		u.Phone = fmt.Sprintf("8 (4822) %02d-%02d-%02d", i%90+10, i%80+10, i%70+10)
	}
	if i%13 == 0 {
		u.Credit = "300"
		u.CreditExpire = time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC).Unix()
	}
	u.Passive = i%7 == 0
	u.Down = i%11 == 0
	return u
}

// Payment is a generated payment as Ubilling keeps it.
type Payment struct {
	ID    int64
	Login string
	Date  time.Time // wall clock in the provider's zone
	Summ  string
	Note  string
}

// UbillingPayment is the j-th payment (from 0) of the i-th subscriber.
func UbillingPayment(i, j, perUser int) Payment {
	return Payment{
		ID:    int64((i-1)*perUser + j + 1),
		Login: fmt.Sprintf("user%06d", i),
		Date:  time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(j*24*7+i%24) * time.Hour),
		Summ:  fmt.Sprintf("%d.%02d", 100+(i+j)%900, (i*j)%100),
		Note:  fmt.Sprintf("квитанция %d", j),
	}
}

// Execer is a database connection or transaction.
type Execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// FillUbilling writes the generated tariffs, n subscribers (UbillingUser
// 1..n) with their addresses, and perUser payments each into a database
// loaded with Ubilling's schema, in multi-row statements.
func FillUbilling(ctx context.Context, db Execer, n, perUser int) error {
	for _, t := range Tariffs {
		if _, err := db.ExecContext(ctx, `INSERT INTO tariffs (name, Fee, period, Free, PassiveCost, TraffType) VALUES (?, ?, ?, 0, 0, 'up+down')`, t.Name, t.Fee, t.Period); err != nil {
			return fmt.Errorf("tariffs: %w", err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO speeds (tariff, speeddown, speedup) VALUES (?, ?, ?)`, t.Name, fmt.Sprint(t.Down), fmt.Sprint(t.Up)); err != nil {
			return fmt.Errorf("speeds: %w", err)
		}
	}
	for i, c := range cities {
		if _, err := db.ExecContext(ctx, `INSERT INTO city (id, cityname, cityalias) VALUES (?, ?, '')`, i+1, c); err != nil {
			return fmt.Errorf("city: %w", err)
		}
	}
	// One street of each name per city, one building per number per street.
	for ci := range cities {
		for si, s := range streets {
			if _, err := db.ExecContext(ctx, `INSERT INTO street (id, cityid, streetname, streetalias) VALUES (?, ?, ?, '')`, ci*100+si+1, ci+1, s); err != nil {
				return fmt.Errorf("street: %w", err)
			}
		}
	}
	const chunk = 500
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		var users, names, phones, emails, contracts, builds, apts, addrs strings.Builder
		var ua, na, pa, ea, ca, ba, aa, ada []any
		sep := func(b *strings.Builder) {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
		}
		for i := lo; i <= hi; i++ {
			u := UbillingUser(i)
			sep(&users)
			users.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', '', '', '', '', '', '', '', '', '', '')")
			ua = append(ua, u.Login, u.Password, u.Tariff, u.Cash, u.Credit, u.CreditExpire, b2i(u.Passive), b2i(u.Down), u.IP)
			sep(&names)
			names.WriteString("(?, ?)")
			na = append(na, u.Login, u.Name)
			sep(&phones)
			phones.WriteString("(?, ?, ?)")
			pa = append(pa, u.Login, u.Phone, u.Mobile)
			sep(&emails)
			emails.WriteString("(?, ?)")
			ea = append(ea, u.Login, u.Email)
			sep(&contracts)
			contracts.WriteString("(?, ?)")
			ca = append(ca, u.Login, u.Contract)
			// A building and an apartment of its own per subscriber keeps
			// the ids simple: build id = apt id = address id = i.
			streetID := (i%len(cities))*100 + i%len(streets) + 1
			sep(&builds)
			builds.WriteString("(?, ?, ?)")
			ba = append(ba, i, streetID, u.Build)
			sep(&apts)
			apts.WriteString("(?, ?, ?)")
			aa = append(aa, i, i, u.Apt)
			sep(&addrs)
			addrs.WriteString("(?, ?)")
			ada = append(ada, u.Login, i)
		}
		for _, s := range []struct {
			q    string
			b    *strings.Builder
			args []any
		}{
			{`INSERT INTO users (login, Password, Tariff, Cash, Credit, CreditExpire, Passive, Down, IP, Address, Phone, Email, Note, RealName, StgGroup, TariffChange, Userdata0, Userdata1, Userdata2, Userdata3, Userdata4, NAS) VALUES `, &users, ua},
			{`INSERT INTO realname (login, realname) VALUES `, &names, na},
			{`INSERT INTO phones (login, phone, mobile) VALUES `, &phones, pa},
			{`INSERT INTO emails (login, email) VALUES `, &emails, ea},
			{`INSERT INTO contracts (login, contract) VALUES `, &contracts, ca},
			{`INSERT INTO build (id, streetid, buildnum) VALUES `, &builds, ba},
			{`INSERT INTO apt (id, buildid, apt) VALUES `, &apts, aa},
			{`INSERT INTO address (login, aptid) VALUES `, &addrs, ada},
		} {
			if _, err := db.ExecContext(ctx, s.q+s.b.String(), s.args...); err != nil {
				return fmt.Errorf("%s: %w", s.q[:30], err)
			}
		}
	}
	return FillUbillingPayments(ctx, db, 1, n, perUser)
}

// FillUbillingPayments writes perUser payments of subscribers lo..hi.
func FillUbillingPayments(ctx context.Context, db Execer, lo, hi, perUser int) error {
	var b strings.Builder
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := db.ExecContext(ctx, `INSERT INTO payments (id, login, date, admin, balance, summ, cashtypeid, note) VALUES `+b.String(), args...)
		b.Reset()
		args = args[:0]
		if err != nil {
			return fmt.Errorf("payments: %w", err)
		}
		return nil
	}
	for i := lo; i <= hi; i++ {
		for j := range perUser {
			p := UbillingPayment(i, j, perUser)
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, 'admin', '0', ?, 1, ?)")
			args = append(args, p.ID, p.Login, p.Date.Format("2006-01-02 15:04:05"), p.Summ, p.Note)
			if len(args) >= 5*2000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
