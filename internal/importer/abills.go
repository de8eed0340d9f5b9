package importer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Abills reads an ABillS database: users with their personal info,
// deposits (bills), Internet service (tariff plan, IP, status), tariff
// plans with the speeds of their traffic classes, and payments. Passwords
// are kept as MySQL ENCODE(password, secretkey); the provider's key
// decodes them.
type Abills struct {
	*mysqlSource
	key string
}

// OpenAbills connects to an ABillS database at dsn and checks that key
// decodes its passwords: most of them must come out printable, or the key
// is wrong (a wrong key decodes to bytes, never to an error).
func OpenAbills(ctx context.Context, dsn, key string, zone *time.Location) (*Abills, error) {
	if key == "" {
		return nil, fmt.Errorf("%w: --secret-key is needed to decode ABillS passwords", ErrSource)
	}
	m, err := openMySQL(ctx, dsn, "ABillS", zone, []string{"users", "users_pi", "bills", "tarif_plans", "internet_main", "payments", "trafic_tarifs", "intervals", "users_contacts"})
	if err != nil {
		return nil, err
	}
	a := &Abills{mysqlSource: m, key: key}
	var total, ok int
	err = a.stream(ctx, `SELECT DECODE(password, ?) FROM users WHERE deleted = 0 AND LENGTH(password) > 0`, func(scan func(...any) error) error {
		var pw []byte
		if err := scan(&pw); err != nil {
			return err
		}
		total++
		if printable(string(pw)) {
			ok++
		}
		return nil
	}, key)
	if err != nil {
		m.Close()
		return nil, err
	}
	if total > 0 && ok*2 <= total {
		m.Close()
		return nil, fmt.Errorf("%w: the secret key does not decode the ABillS passwords (%d of %d come out printable): check --secret-key", ErrSource, ok, total)
	}
	return a, nil
}

func (*Abills) System() string { return "abills" }

// Tariffs: a plan's monthly fee, or its daily one; the speeds (kbit/s) are
// the fastest of its traffic classes, in = download.
func (a *Abills) Tariffs(ctx context.Context, fn func(Tariff) error) error {
	return a.stream(ctx, `SELECT tp.tp_id, tp.name, CAST(tp.month_fee AS CHAR), CAST(tp.day_fee AS CHAR),
		(SELECT MAX(tt.in_speed) FROM trafic_tarifs tt WHERE tt.tp_id = tp.tp_id OR tt.interval_id IN (SELECT i.id FROM intervals i WHERE i.tp_id = tp.tp_id)),
		(SELECT MAX(tt.out_speed) FROM trafic_tarifs tt WHERE tt.tp_id = tp.tp_id OR tt.interval_id IN (SELECT i.id FROM intervals i WHERE i.tp_id = tp.tp_id))
		FROM tarif_plans tp ORDER BY tp.tp_id`, func(scan func(...any) error) error {
		var id int64
		var name, month, day text
		var down, up *int64
		if err := scan(&id, &name, &month, &day, &down, &up); err != nil {
			return err
		}
		t := Tariff{Key: fmt.Sprint(id), Name: name.s(), Fee: month.s()}
		if f, _ := amount(t.Fee); f == 0 {
			if d, _ := amount(day.s()); d != 0 {
				t.Fee, t.Daily = day.s(), true
			}
		}
		if down != nil {
			t.DownKbps = *down
		}
		if up != nil {
			t.UpKbps = *up
		}
		return fn(t)
	})
}

// Subscribers: a user disabled, or whose Internet service is disabled, is
// blocked; service on hold (3) is frozen. The first Internet service of a
// user gives the tariff plan and the IP; contacts come from users_contacts,
// else from users_pi.
func (a *Abills) Subscribers(ctx context.Context, fn func(Subscriber) error) error {
	return a.stream(ctx, `SELECT u.uid, u.id, DECODE(u.password, ?), u.disable, CAST(u.credit AS CHAR), u.credit_date, CAST(b.deposit AS CHAR),
		pi.fio, COALESCE((SELECT c.value FROM users_contacts c WHERE c.uid = u.uid AND c.type_id = 1 ORDER BY c.priority, c.id LIMIT 1), pi.phone),
		(SELECT c.value FROM users_contacts c WHERE c.uid = u.uid AND c.type_id = 2 ORDER BY c.priority, c.id LIMIT 1),
		COALESCE((SELECT c.value FROM users_contacts c WHERE c.uid = u.uid AND c.type_id = 9 ORDER BY c.priority, c.id LIMIT 1), pi.email),
		pi.city, pi.address_street, pi.address_build, pi.address_flat, pi.contract_id, pi.contract_sufix,
		im.tp_id, im.ip, im.disable
		FROM users u
		LEFT JOIN users_pi pi ON pi.uid = u.uid
		LEFT JOIN bills b ON b.id = u.bill_id
		LEFT JOIN (SELECT uid, MIN(id) AS id FROM internet_main GROUP BY uid) imx ON imx.uid = u.uid
		LEFT JOIN internet_main im ON im.id = imx.id
		WHERE u.deleted = 0
		ORDER BY u.uid`, func(scan func(...any) error) error {
		var uid int64
		var pw []byte
		var login, credit, creditDate, deposit, fio, phone, phone2, email, city, street, build, flat, contract, suffix text
		var disable int64
		var tp, ip, imDisable *int64
		if err := scan(&uid, &login, &pw, &disable, &credit, &creditDate, &deposit, &fio, &phone, &phone2, &email, &city, &street, &build, &flat,
			&contract, &suffix, &tp, &ip, &imDisable); err != nil {
			return err
		}
		s := Subscriber{Key: fmt.Sprint(uid), Row: fmt.Sprintf("user %s (uid %d)", login.s(), uid), Login: login.String, Password: string(pw),
			Name: fio.s(), Phone: phone.s(), Phone2: phone2.s(), Email: email.s(), City: city.s(), Balance: deposit.s(), Credit: credit.s(),
			Contract: contract.s() + suffix.s(), Status: StatusActive}
		if !printable(s.Password) {
			s.PasswordErr = fmt.Errorf("DECODE with the key gives %d bytes that are not text", len(pw))
		}
		if d := creditDate.s(); d != "" && !strings.HasPrefix(d, "0000") {
			s.CreditUntil = d
		}
		s.Address = strings.TrimSpace(street.s() + " " + build.s())
		if flat.s() != "" {
			s.Address += "/" + flat.s()
		}
		if tp != nil {
			s.Tariff = fmt.Sprint(*tp)
		}
		if ip != nil && *ip != 0 {
			v := uint32(*ip)
			s.IP = fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&255, v>>8&255, v&255)
		}
		switch {
		case disable != 0 || imDisable != nil && *imDisable == 1:
			s.Status = StatusBlocked
		case imDisable != nil && *imDisable == 3:
			s.Status = StatusFrozen
		}
		return fn(s)
	}, a.key)
}

// abillsMethods names ABillS's built-in payment methods (payments_type
// holds them as language placeholders).
var abillsMethods = []string{"наличные", "банк", "внешние платежи", "карта", "бонус", "корректировка", "компенсация", "перевод", "перерасчёт"}

// Payments in id order.
func (a *Abills) Payments(ctx context.Context, fn func(Payment) error) error {
	return a.stream(ctx, `SELECT p.id, p.uid, p.date, CAST(p.sum AS CHAR), p.method, p.dsc FROM payments p ORDER BY p.id`, func(scan func(...any) error) error {
		var id, uid, method int64
		var at time.Time
		var sum, dsc text
		if err := scan(&id, &uid, &at, &sum, &method, &dsc); err != nil {
			return err
		}
		channel := "method " + strconv.FormatInt(method, 10)
		if method >= 0 && int(method) < len(abillsMethods) {
			channel = abillsMethods[method]
		}
		return fn(Payment{Key: fmt.Sprint(id), Subscriber: fmt.Sprint(uid), At: at, Amount: sum.s(), Channel: channel, Memo: dsc.s()})
	})
}
