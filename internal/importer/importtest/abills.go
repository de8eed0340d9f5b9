package importtest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AbillsKey is the secret key ABillS's own dump encodes its test user's
// password with; the generated users use it too.
const AbillsKey = "test12345678901234567890"

// AbillsTariff is a generated ABillS tariff plan.
type AbillsTariff struct {
	TpID             int
	Name             string
	MonthFee, DayFee string
	In, Out          int64 // kbit/s
}

// AbillsTariffs of a generated ABillS (tp_id 1 is the dump's own "Admin").
var AbillsTariffs = []AbillsTariff{
	{10, "Интернет 100", "600.00", "0.00", 102400, 51200},
	{11, "Эконом", "350.50", "0.00", 20480, 10240},
	{12, "Посуточный", "0.00", "20.00", 51200, 51200},
}

// AbillsUser is the i-th generated ABillS user (uid i+1: uid 1 is the dump's).
type AbillsUser struct {
	UID                       int
	Login, Password           string
	TpID                      int
	Deposit, Credit           string
	Disable                   int // users.disable
	ServiceDisable            int // internet_main.disable: 1 off, 3 on hold
	IP                        uint32
	FIO, Phone, Cell, Email   string
	City, Street, Build, Flat string
	Contract, Suffix          string
}

// AbillsUserN is the i-th generated user (i from 1).
func AbillsUserN(i int) AbillsUser {
	u := AbillsUser{
		UID:      i + 1,
		Login:    fmt.Sprintf("abon%05d", i),
		Password: fmt.Sprintf("s%05d-пароль", i*31%99991),
		TpID:     AbillsTariffs[i%len(AbillsTariffs)].TpID,
		Deposit:  fmt.Sprintf("%d.%02d", (i*53)%3000, i%100),
		Credit:   "0.00",
		IP:       10<<24 | 20<<16 | uint32(i/250)<<8 | uint32(1+i%250),
		FIO:      fmt.Sprintf("%s %s", surnames[(i+3)%len(surnames)], given[(i/3)%len(given)]),
		Phone:    fmt.Sprintf("+7 4822 %02d-%02d-%02d", i%90+10, i%70+10, i%50+10),
		Email:    fmt.Sprintf("abon%d@example.ru", i),
		City:     cities[i%len(cities)],
		Street:   streets[i%len(streets)],
		Build:    fmt.Sprint(1 + i%30),
		Flat:     fmt.Sprint(1 + i%90),
		Contract: fmt.Sprintf("%05d", i),
		Suffix:   "-И",
	}
	if i%4 == 0 {
		u.Deposit = "-" + u.Deposit
	}
	if i%2 == 0 {
		u.Cell = fmt.Sprintf("+7 (915) %03d-%02d-%02d", i%1000, i%90, i%80)
	}
	if i%9 == 0 {
		u.Credit = "150.00"
	}
	switch {
	case i%7 == 0:
		u.Disable = 1
	case i%5 == 0:
		u.ServiceDisable = 3
	}
	return u
}

// AbillsPaymentN is the j-th payment of the i-th user.
func AbillsPaymentN(i, j, perUser int) Payment {
	return Payment{
		ID:    int64((i-1)*perUser + j + 1),
		Login: fmt.Sprint(i + 1),
		Date:  time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(j*24*10+i%12) * time.Hour),
		Summ:  fmt.Sprintf("%d.%02d", 200+(i*j)%800, (i+j)%100),
		Note:  fmt.Sprintf("оплата %d", j),
	}
}

// FillAbills writes the generated tariff plans, n users and perUser
// payments each into a database loaded with ABillS's schema.
func FillAbills(ctx context.Context, db Execer, n, perUser int) error {
	// Payment times (TIMESTAMP) are written as Moscow wall-clock times.
	if _, err := db.ExecContext(ctx, "SET SESSION sql_mode = '', time_zone = '+03:00'"); err != nil {
		return err
	}
	for k, t := range AbillsTariffs {
		if _, err := db.ExecContext(ctx, `INSERT INTO tarif_plans (id, tp_id, name, month_fee, day_fee, module, comments) VALUES (?, ?, ?, ?, ?, 'Internet', '')`,
			t.TpID, t.TpID, t.Name, t.MonthFee, t.DayFee); err != nil {
			return fmt.Errorf("tarif_plans: %w", err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO intervals (id, tp_id, begin, end, day) VALUES (?, ?, '00:00:00', '24:00:00', 0)`, 100+k, t.TpID); err != nil {
			return fmt.Errorf("intervals: %w", err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO trafic_tarifs (id, interval_id, in_speed, out_speed) VALUES (0, ?, ?, ?)`, 100+k, t.In, t.Out); err != nil {
			return fmt.Errorf("trafic_tarifs: %w", err)
		}
	}
	const chunk = 500
	for lo := 1; lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		var users, pis, bills, ims, contacts strings.Builder
		var ua, pa, ba, ia, ca []any
		sep := func(b *strings.Builder) {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
		}
		for i := lo; i <= hi; i++ {
			u := AbillsUserN(i)
			sep(&users)
			users.WriteString("(?, ENCODE(?, ?), ?, ?, ?, ?, '2020-01-01')")
			ua = append(ua, u.UID, u.Password, AbillsKey, u.Login, u.Disable, u.Credit, u.UID+1000)
			sep(&bills)
			bills.WriteString("(?, ?, ?, '2020-01-01')")
			ba = append(ba, u.UID+1000, u.Deposit, u.UID)
			sep(&pis)
			pis.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')")
			pa = append(pa, u.UID, u.FIO, u.Phone, u.Email, u.City, u.Street, u.Build, u.Flat, u.Contract, u.Suffix)
			sep(&ims)
			ims.WriteString("(?, ?, ?, ?, '')")
			ia = append(ia, u.UID, u.TpID, u.IP, u.ServiceDisable)
			if u.Cell != "" {
				sep(&contacts)
				contacts.WriteString("(?, 1, ?, 0, '')")
				ca = append(ca, u.UID, u.Cell)
			}
		}
		for _, s := range []struct {
			q    string
			b    *strings.Builder
			args []any
		}{
			{`INSERT INTO users (uid, password, id, disable, credit, bill_id, registration) VALUES `, &users, ua},
			{`INSERT INTO bills (id, deposit, uid, registration) VALUES `, &bills, ba},
			{`INSERT INTO users_pi (uid, fio, phone, email, city, address_street, address_build, address_flat, contract_id, contract_sufix, comments, reg_address) VALUES `, &pis, pa},
			{`INSERT INTO internet_main (uid, tp_id, ip, disable, password) VALUES `, &ims, ia},
			{`INSERT INTO users_contacts (uid, type_id, value, priority, comments) VALUES `, &contacts, ca},
		} {
			if len(s.args) == 0 {
				continue
			}
			if _, err := db.ExecContext(ctx, s.q+s.b.String(), s.args...); err != nil {
				return fmt.Errorf("%s: %w", s.q[:30], err)
			}
		}
	}
	var b strings.Builder
	var args []any
	for i := 1; i <= n; i++ {
		for j := range perUser {
			p := AbillsPaymentN(i, j, perUser)
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, p.ID, i+1, p.Date.Format("2006-01-02 15:04:05"), p.Summ, j%3, p.Note, i+1001)
		}
	}
	if len(args) > 0 {
		if _, err := db.ExecContext(ctx, `INSERT INTO payments (id, uid, date, sum, method, dsc, bill_id) VALUES `+b.String(), args...); err != nil {
			return fmt.Errorf("payments: %w", err)
		}
	}
	return nil
}
