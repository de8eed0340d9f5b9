package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/radius"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

func init() {
	register("demo", "[--addr 127.0.0.1:8080] [--data DIR] [--subscribers 1000]: seed a realistic provider and serve it", cmdDemo)
}

// demoPassword is every demo subscriber's password, printed at start.
const demoPassword = "demo1234"

func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP address")
	data := fs.String("data", "kabinet-demo", "data directory (created; reused when it exists)")
	n := fs.Int("subscribers", 1000, "subscribers to seed")
	radiusAuth := fs.String("radius-auth", "127.0.0.1:1812", "RADIUS authentication address (empty: off)")
	radiusAcct := fs.String("radius-acct", "127.0.0.1:1813", "RADIUS accounting address")
	netflow := fs.String("netflow", "127.0.0.1:2055", "NetFlow/IPFIX collector address (empty: off)")
	seedOnly := fs.Bool("seed-only", false, "seed and exit")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if e.dsn == "" {
		e.dsn = "sqlite:" + filepath.Join(*data, "kabinet.db")
	}
	// The demo's own settings, which a --config file may override.
	base := config.Default()
	base.Provider = base.Provider.WithDemoDetails()
	base.Payment = config.Payment(payment.DemoConfig())
	// The public site's city pages and the consent's policy link.
	base.Site.PrivacyURL = "https://set-region.example/privacy"
	base.Site.Coverage = map[string][]string{
		"tver":     {"Центральный район", "Заволжский район", "Пролетарский район", "Московский район"},
		"torzhok":  {"весь город", "пос. Мирный"},
		"konakovo": {"ул. Энергетиков", "ул. Строителей", "Новозавидовский (частный сектор)"},
	}
	base.Provider.Offices = []config.Office{
		{Address: "Тверь, ул. Советская, 10", Hours: "пн–пт 9:00–19:00, сб 10:00–16:00", City: "tver"},
		{Address: "Торжок, ул. Ленина, 5", Hours: "пн–пт 9:00–18:00", City: "torzhok", Phone: "+7 (48251) 9-00-00"},
	}
	base.Radius = config.Radius{Auth: *radiusAuth, Acct: *radiusAcct, Disabled: *radiusAuth == ""}
	base.NetFlow.Addr = *netflow
	// Payments get receipts from the built-in ATOL look-alike.
	base.Fiscal.Operator = "sandbox"
	e.base = &base
	if err := e.open(ctx); err != nil {
		return err
	}
	e.cfg.DataDir = *data
	if e.cfg.PublicURL == "" {
		e.cfg.PublicURL = "http://" + *addr
	}
	seeded, err := billing.CountAccounts(ctx, e.db)
	if err != nil {
		return err
	}
	if seeded == 0 {
		start := time.Now()
		fmt.Fprintf(e.stdout, "seeding a demo provider with %d subscribers in %s …\n", *n, *data)
		if err := seedDemo(ctx, e, *n); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Fprintf(e.stdout, "seeded in %.1fs\n", time.Since(start).Seconds())
	}
	statement, err := writeDemoStatement(ctx, e, *data, e.clock.Now())
	if err != nil {
		return err
	}
	if *seedOnly {
		fmt.Fprintf(e.stdout, "sample 1C bank statement: %s\n", statement)
		return nil
	}
	a, err := buildApp(ctx, e)
	if err != nil {
		return err
	}
	return a.run(ctx, *addr, func(addr string) {
		fmt.Fprintf(e.stdout, `
Kabinet demo is running.

  Portal:       %[1]s/
  Back office:  %[1]s/admin/
  Public site:  %[1]s/site/
  Mobile API:   %[1]s/api/docs
  Health:       %[1]s/healthz, %[1]s/metrics
  RADIUS:       %[2]s (auth), %[3]s (acct); NAS 127.0.0.1, secret testing123
  NetFlow:      %[7]s (UDP; v5, v9, IPFIX)

Demo subscribers (password %[4]s):
%[8]sBack office: admin / %[5]s
Company cabinet: %[9]s / %[4]s (ООО «Аптека Здоровье», eight points)
Sample 1C bank statement: %[10]s
  (kabinet payments import --channel bank FILE, or Back office → Банк)

Stop with Ctrl+C. Data: %[6]s
`, addr, a.radiusAuth, a.radiusAcct, demoPassword, demoOperatorPassword, *data, *netflow, demoLoginLines(), demoEmployee, statement)
	})
}

// demoOperatorPassword is the back office's demo admin password.
const demoOperatorPassword = "kabinet-demo-2026"

// demoLogin is a subscriber the demo prints; seedDemo creates each.
type demoLogin struct{ login, what string }

var demoLogins = []demoLogin{
	{"demo", "active, positive balance, TV and antivirus"},
	{"debtor", "limited to 128 kbit/s for debt; may take a promised payment"},
	{"newbie", "connected this month"},
	{"dacha", "away: voluntary suspension from today for 30 days; may resume early"},
}

func demoLoginLines() string {
	var b strings.Builder
	for _, l := range demoLogins {
		fmt.Fprintf(&b, "  %-8s — %s\n", l.login, l.what)
	}
	return b.String()
}

var (
	demoMale   = []string{"Иван", "Пётр", "Сергей", "Алексей", "Дмитрий", "Андрей", "Михаил", "Николай"}
	demoFemale = []string{"Ольга", "Елена", "Татьяна", "Наталья", "Анна", "Мария", "Ирина", "Светлана"}
	// Surnames and patronymics in their masculine form; every surname here
	// ends in -ов/-ев/-ёв, whose feminine form adds -а.
	demoLast = []string{"Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров"}
	demoMid  = []string{"Иванович", "Петрович", "Сергеевич", "Алексеевич", "Дмитриевич", "Андреевич"}
	streets  = []string{"ул. Советская", "ул. Ленина", "пр-т Победы", "ул. Горького", "ул. Мира", "ул. Садовая", "Комсомольский пр-т", "ул. Школьная"}
)

// demoName is "Surname Name Patronymic", all three of one gender:
// Кузнецов Иван Сергеевич, Кузнецова Мария Сергеевна.
func demoName(r *rand.Rand) string {
	last, mid := demoLast[r.IntN(len(demoLast))], demoMid[r.IntN(len(demoMid))]
	if r.IntN(2) == 0 {
		return fmt.Sprintf("%s %s %s", last, demoMale[r.IntN(len(demoMale))], mid)
	}
	return fmt.Sprintf("%sа %s %sна", last, demoFemale[r.IntN(len(demoFemale))], strings.TrimSuffix(mid, "ич"))
}

// seedDemo builds a provider with months of history by running the real
// code on a clock that walks from half a year ago to now: accounts signed
// over time, payments on their habits, billing on every 1st.
func seedDemo(ctx context.Context, e *env, n int) error {
	// Seeding is one process writing thousands of small transactions that it
	// can redo from scratch: skip the fsync of each.
	if _, err := e.db.Writer().ExecContext(ctx, "PRAGMA synchronous=OFF"); err == nil {
		defer e.db.Writer().ExecContext(context.Background(), "PRAGMA synchronous=FULL")
	}
	r := rand.New(rand.NewPCG(2026, 11))
	zone := e.cfg.Zone()
	now := e.clock.Now()
	first := billing.PeriodOf(now, zone).Start.AddDate(0, -6, 0)
	clk := clock.NewFake(first.Add(2 * time.Hour))
	rules := e.rules()
	b := billing.New(e.db, clk, rules)
	key, err := subscriber.LoadOrCreateKey(e.cfg.SecretKey, e.keyPath())
	if err != nil {
		return err
	}
	sealer, err := subscriber.NewSealer(key)
	if err != nil {
		return err
	}
	dir := subscriber.New(e.db, clk, sealer, b)
	pay := payment.NewService(e.db, clk, b, nil, payment.Options{BonusPercentBP: e.cfg.Billing.BonusPercentBP})

	cities := []billing.City{{Code: "tver", Name: "Тверь", NameEn: "Tver"}, {Code: "torzhok", Name: "Торжок", NameEn: "Torzhok"}, {Code: "konakovo", Name: "Конаково", NameEn: "Konakovo"}}
	for i := range cities {
		if cities[i], err = billing.AddCity(ctx, e.db, cities[i]); err != nil {
			return err
		}
	}
	tariffs := []billing.Tariff{
		{Code: "start50", Name: "Старт 50", NameEn: "Start 50", Fee: money.Rub(450), DownKbps: 50000, UpKbps: 50000, Description: "Для почты, новостей и соцсетей"},
		{Code: "home100", Name: "Домашний 100", NameEn: "Home 100", Fee: money.Rub(600), DownKbps: 100000, UpKbps: 100000, Prorate: true, Description: "Фильмы в HD на двух устройствах"},
		{Code: "home300", Name: "Домашний 300", NameEn: "Home 300", Fee: money.Rub(800), DownKbps: 300000, UpKbps: 300000, Prorate: true, Description: "Вся семья онлайн, 4K и игры"},
		{Code: "giga", Name: "Гигабит", NameEn: "Gigabit", Fee: money.Rub(1200), DownKbps: 1000000, UpKbps: 1000000, Prorate: true, Description: "Максимальная скорость по оптике"},
		{Code: "torzhok100", Name: "Торжок 100", NameEn: "Torzhok 100", Fee: money.Rub(500), DownKbps: 100000, UpKbps: 100000, Prorate: true, CityID: cities[1].ID},
		{Code: "konakovo200", Name: "Конаково 200", NameEn: "Konakovo 200", Fee: money.Rub(650), DownKbps: 200000, UpKbps: 200000, Prorate: true, CityID: cities[2].ID},
		{Code: "basic2019", Name: "Базовый (2019)", NameEn: "Basic (2019)", Fee: money.Rub(350), DownKbps: 20000, UpKbps: 20000, Archived: true},
	}
	for i := range tariffs {
		tariffs[i].Public = true
		if tariffs[i], err = billing.AddTariff(ctx, e.db, tariffs[i], clk.Now()); err != nil {
			return err
		}
	}
	packages := []billing.Package{
		{Code: "tv-basic", Kind: billing.PackageTV, Name: "ТВ «Базовый» — 120 каналов", NameEn: "TV Basic — 120 channels", Price: money.Rub(199), Pricing: billing.PriceMonthly},
		{Code: "tv-cinema", Kind: billing.PackageTV, Name: "ТВ «Кино и сериалы»", NameEn: "TV Cinema", Price: money.Rub(299), Pricing: billing.PriceMonthly},
		{Code: "drweb", Kind: billing.PackageAntivirus, Name: "Антивирус Dr.Web (спеццена)", NameEn: "Dr.Web antivirus (special price)", Price: money.Rub(99), Pricing: billing.PriceMonthly, Description: "Защита для 2 устройств"},
		{Code: "static-ip", Kind: billing.PackageStaticIP, Name: "Статический IP-адрес", NameEn: "Static IP address", Price: money.Rub(150), Pricing: billing.PriceMonthly},
		{Code: "turbo24", Kind: billing.PackageBoost, Name: "Турбо ×2 на 24 часа", NameEn: "Turbo ×2 for 24 hours", Price: money.Rub(50), Pricing: billing.PriceDuration, DurationHours: 24, SpeedPercent: 200},
		{Code: "turbo-plus", Kind: billing.PackageBoost, Name: "Турбо +50% навсегда", NameEn: "Turbo +50% permanent", Price: money.Rub(150), Pricing: billing.PriceMonthly, SpeedPercent: 150},
		{Code: "router-setup", Kind: billing.PackageOther, Name: "Настройка роутера мастером", NameEn: "Router set-up by a technician", Price: money.Rub(500), Pricing: billing.PriceOnce},
	}
	for i := range packages {
		if packages[i], err = billing.AddPackage(ctx, e.db, packages[i], clk.Now()); err != nil {
			return err
		}
	}
	nas, err := radius.NewNASStore(e.db, clk).Save(ctx, radius.NAS{Name: "demo-mikrotik", Addr: netip.MustParseAddr("127.0.0.1"), Secret: "testing123", Kind: radius.KindMikrotik})
	if err != nil {
		return err
	}

	hash := password.Hash(demoPassword)
	type person struct {
		id    int64
		habit int // 0 pays on time, 1 late, 2 stopped paying, 3 stopped two months ago
		line  demoLine
	}
	var people []person
	cityTariffs := map[int64][]string{
		cities[0].ID: {"start50", "home100", "home100", "home300", "giga"},
		cities[1].ID: {"start50", "torzhok100", "torzhok100", "home300"},
		cities[2].ID: {"start50", "konakovo200", "home100"},
	}
	channels := []string{payment.ChannelCash, payment.OSMPChannelName("sberbank"), payment.OSMPChannelName("sberbank"), payment.OSMPChannelName("vtb"), payment.OSMPChannelName("localbank"), payment.CardChannel("sandbox")}
	create := func(login string, city billing.City, tariff string, habit int) error {
		num := len(people) + 1
		a, err := dir.Create(ctx, subscriber.NewAccount{Login: login, Password: demoPassword, PasswordHash: hash,
			Name: demoName(r), City: city.Code, Tariff: tariff,
			Address: fmt.Sprintf("г. %s, %s, д. %d, кв. %d", city.Name, streets[r.IntN(len(streets))], 1+r.IntN(120), 1+r.IntN(200)),
			Phone:   fmt.Sprintf("+7 (9%02d) %03d-%02d-%02d", r.IntN(100), r.IntN(1000), r.IntN(100), r.IntN(100)),
			Email:   fmt.Sprintf("%s@mail.example", login)})
		if err != nil {
			return err
		}
		people = append(people, person{id: a.ID, habit: habit, line: demoLine{id: a.ID, login: login, since: clk.Now()}})
		// A first payment at signing, as offices take it.
		if _, _, err := pay.Record(ctx, payment.ManualIn{Channel: payment.ChannelCash, ExternalID: fmt.Sprintf("demo-sign-%d", num), AccountID: a.ID,
			Amount: money.Rub(int64(500 + 100*r.IntN(6))), Operator: "office"}); err != nil {
			return err
		}
		if r.IntN(10) < 3 {
			b.Connect(ctx, a.ID, "tv-basic")
		}
		if r.IntN(10) < 2 {
			b.Connect(ctx, a.ID, "drweb")
		}
		if r.IntN(40) == 0 {
			b.Connect(ctx, a.ID, "static-ip")
		}
		return nil
	}
	// The named demo accounts come first: they have the longest history.
	if err := create("demo", cities[0], "home100", 0); err != nil {
		return err
	}
	// debtor stopped paying two months ago: limited since this 1st, with
	// debt young enough for a promised payment.
	if err := create("debtor", cities[0], "home300", 3); err != nil {
		return err
	}
	// dacha has been with the provider as long and pays on time; this
	// month it goes to the country (its suspension is made below, today).
	if err := create("dacha", cities[0], "home100", 0); err != nil {
		return err
	}
	dacha := people[len(people)-1].id
	for _, code := range []string{"tv-basic", "drweb"} {
		if _, err := b.Connect(ctx, people[0].id, code); err != nil && !errors.Is(err, billing.ErrAlreadyConnected) {
			return err
		}
	}
	// Sign-ups per month; what is left signs this month, newbie first.
	perMonth := []int{n * 50 / 100, n * 8 / 100, n * 8 / 100, n * 8 / 100, n * 8 / 100, n * 8 / 100}
	count := 2
	for m := 0; m <= 6; m++ {
		p := billing.PeriodOf(first.AddDate(0, m, 0), zone)
		if m > 0 {
			clk.Set(p.Start.Add(5 * time.Minute))
			if _, err := b.Run(ctx, clk.Now(), nil); err != nil {
				return err
			}
		}
		todo := n - count
		if m < len(perMonth) {
			todo = min(perMonth[m], n-count)
		}
		days := p.Days()
		if m == 6 {
			days = max(1, min(days, now.In(zone).Day()-1))
			// newbie signs at a random moment of this month so far.
			clk.Set(p.Start.Add(time.Duration(r.Int64N(int64(max(time.Second, now.Sub(p.Start)))))))
			if err := create("newbie", cities[0], "home100", 0); err != nil {
				return err
			}
			count++
			todo = max(0, todo-1)
		}
		for i := 0; i < todo; i++ {
			clk.Set(p.Start.Add(time.Duration(r.IntN(days*24)) * time.Hour))
			if clk.Now().After(now) {
				clk.Set(now)
			}
			city := cities[0]
			if x := r.IntN(10); x >= 6 {
				city = cities[1+x%2]
			}
			ts := cityTariffs[city.ID]
			login := fmt.Sprintf("user%04d", count)
			habit := 0
			if x := r.IntN(100); x >= 94 {
				habit = 2
			} else if x >= 80 {
				habit = 1
			}
			if err := create(login, city, ts[r.IntN(len(ts))], habit); err != nil {
				return err
			}
			count++
		}
		// This month's payments, by habit.
		for k, pp := range people {
			if pp.habit == 2 || (pp.habit == 1 && m%2 == 1) || (pp.habit == 3 && m >= 4) {
				continue
			}
			// Not before the contract: newcomers of this month pay after signing.
			at := p.Start.Add(time.Duration(r.IntN(10*24)+1) * time.Hour)
			if signed := pp.line.since.Add(time.Hour); at.Before(signed) {
				at = signed
			}
			if at.After(now) {
				continue
			}
			clk.Set(at)
			s, err := b.Summary(ctx, pp.id)
			if err != nil {
				return err
			}
			amount := s.Recommended
			if amount <= 0 {
				continue
			}
			if r.IntN(3) == 0 { // round up, as people do
				amount = (amount/money.Rub(100) + 1) * money.Rub(100)
			}
			if _, _, err := pay.Record(ctx, payment.ManualIn{Channel: channels[r.IntN(len(channels))], ExternalID: fmt.Sprintf("demo-%d-%d", m, k),
				AccountID: pp.id, Amount: amount, Operator: "bank"}); err != nil {
				return err
			}
		}
	}
	clk.Set(now)
	if _, err := b.Run(ctx, now, nil); err != nil {
		return err
	}
	// dacha went to the country for a month: a voluntary suspension from
	// today, made at the office.
	if _, _, err := pay.Record(ctx, payment.ManualIn{Channel: payment.ChannelCash, ExternalID: "demo-dacha", AccountID: dacha,
		Amount: money.Rub(1000), Operator: "office"}); err != nil {
		return err
	}
	srules, err := suspension.RulesOf(e.cfg.Suspension)
	if err != nil {
		return err
	}
	if _, err := suspension.New(e.db, clk, b, srules).Start(ctx, suspension.Request{AccountID: dacha, From: now, Days: 30,
		Channel: suspension.ChannelOffice, Operator: "admin"}); err != nil {
		return fmt.Errorf("demo suspension: %w", err)
	}
	if err := seedDemoExtras(ctx, e, clk, dir); err != nil {
		return err
	}
	if err := seedDemoCompanies(ctx, e, clk, b, dir); err != nil {
		return err
	}
	if err := seedDemoDocuments(ctx, e, clk, b, dir); err != nil {
		return err
	}
	// Traffic: the printed logins and an even spread of the others.
	var lines []demoLine
	step := max(1, len(people)/demoTrafficOthers)
	for i, pp := range people {
		if i%step == 0 || slices.ContainsFunc(demoLogins, func(l demoLogin) bool { return l.login == pp.line.login }) {
			lines = append(lines, pp.line)
		}
	}
	return seedDemoTraffic(ctx, e, b, nas, lines, first, now)
}
