package importer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ubilling reads an Ubilling database (Stargazer's tables and Ubilling's
// own): users, tariffs with their speeds, names, phones, e-mails,
// contracts, addresses and payments.
type Ubilling struct {
	*mysqlSource
	zone *time.Location
}

// OpenUbilling connects to an Ubilling database at dsn
// (mysql://USER:PASS@HOST:PORT/DB). Its times are in zone.
func OpenUbilling(ctx context.Context, dsn string, zone *time.Location) (*Ubilling, error) {
	m, err := openMySQL(ctx, dsn, "Ubilling", zone, []string{"users", "tariffs", "payments", "realname", "speeds", "contracts", "phones", "emails", "address", "apt", "build", "street", "city", "cashtype"})
	if err != nil {
		return nil, err
	}
	return &Ubilling{mysqlSource: m, zone: zone}, nil
}

func (*Ubilling) System() string { return "ubilling" }

// Tariffs: Fee is per PeriodType ("month" or "day"); speeds are kbit/s.
func (u *Ubilling) Tariffs(ctx context.Context, fn func(Tariff) error) error {
	return u.stream(ctx, `SELECT t.name, CAST(t.Fee AS CHAR), t.period,
		(SELECT s.speeddown FROM speeds s WHERE s.tariff = t.name ORDER BY s.id LIMIT 1),
		(SELECT s.speedup FROM speeds s WHERE s.tariff = t.name ORDER BY s.id LIMIT 1)
		FROM tariffs t ORDER BY t.name`, func(scan func(...any) error) error {
		var name, fee, period, down, up text
		if err := scan(&name, &fee, &period, &down, &up); err != nil {
			return err
		}
		d, _ := strconv.ParseInt(down.s(), 10, 64)
		w, _ := strconv.ParseInt(up.s(), 10, 64)
		return fn(Tariff{Key: name.String, Name: name.s(), Fee: fee.s(), Daily: period.s() == "day", DownKbps: d, UpKbps: w})
	})
}

// Subscribers: Passive is a freeze, Down a block; the first of each of a
// login's names, phones, e-mails, contracts and addresses.
func (u *Ubilling) Subscribers(ctx context.Context, fn func(Subscriber) error) error {
	return u.stream(ctx, `SELECT u.login, u.Password, u.Tariff, CAST(u.Cash AS CHAR), CAST(u.Credit AS CHAR), u.CreditExpire, u.Passive, u.Down, u.IP,
		COALESCE((SELECT r.realname FROM realname r WHERE r.login = u.login ORDER BY r.id LIMIT 1), u.RealName),
		(SELECT p.mobile FROM phones p WHERE p.login = u.login ORDER BY p.id LIMIT 1),
		COALESCE((SELECT p.phone FROM phones p WHERE p.login = u.login ORDER BY p.id LIMIT 1), u.Phone),
		COALESCE((SELECT e.email FROM emails e WHERE e.login = u.login ORDER BY e.id LIMIT 1), u.Email),
		(SELECT c.contract FROM contracts c WHERE c.login = u.login ORDER BY c.id LIMIT 1),
		ci.cityname, st.streetname, bu.buildnum, ap.apt
		FROM users u
		LEFT JOIN (SELECT login, MIN(aptid) AS aptid FROM address GROUP BY login) ad ON ad.login = u.login
		LEFT JOIN apt ap ON ap.id = ad.aptid
		LEFT JOIN build bu ON bu.id = ap.buildid
		LEFT JOIN street st ON st.id = bu.streetid
		LEFT JOIN city ci ON ci.id = st.cityid
		ORDER BY u.login`, func(scan func(...any) error) error {
		var login, pw, tariff, cash, credit, ip, name, mobile, phone, email, contract, city, street, build, apt text
		var creditExpire, passive, down *int64
		if err := scan(&login, &pw, &tariff, &cash, &credit, &creditExpire, &passive, &down, &ip,
			&name, &mobile, &phone, &email, &contract, &city, &street, &build, &apt); err != nil {
			return err
		}
		s := Subscriber{Key: login.String, Login: login.String, Password: pw.String, Tariff: tariff.String, Balance: cash.s(), Credit: credit.s(),
			IP: ip.s(), Name: name.s(), Phone: mobile.s(), Phone2: phone.s(), Email: email.s(), Contract: contract.s(), City: city.s(),
			Status: StatusActive}
		if s.Phone == "" {
			s.Phone, s.Phone2 = s.Phone2, ""
		}
		addr := strings.TrimSpace(street.s() + " " + build.s())
		if apt.s() != "" && apt.s() != "0" {
			addr += "/" + apt.s()
		}
		s.Address = addr
		if creditExpire != nil && *creditExpire > 0 {
			s.CreditUntil = time.Unix(*creditExpire, 0).In(u.zone).Format("2006-01-02")
		}
		switch {
		case down != nil && *down != 0:
			s.Status = StatusBlocked
		case passive != nil && *passive != 0:
			s.Status = StatusFrozen
		}
		return fn(s)
	})
}

// Payments in id order: summ is text in Ubilling; a negative one is a
// withdrawal by an administrator.
func (u *Ubilling) Payments(ctx context.Context, fn func(Payment) error) error {
	return u.stream(ctx, `SELECT p.id, p.login, p.date, p.summ, ct.cashtype, p.note
		FROM payments p LEFT JOIN cashtype ct ON ct.id = p.cashtypeid ORDER BY p.id`, func(scan func(...any) error) error {
		var id int64
		var login, sum, cashtype, note text
		var at time.Time
		if err := scan(&id, &login, &at, &sum, &cashtype, &note); err != nil {
			return err
		}
		return fn(Payment{Key: fmt.Sprint(id), Subscriber: login.String, At: at, Amount: sum.s(), Channel: cashtype.s(), Memo: note.s()})
	})
}
