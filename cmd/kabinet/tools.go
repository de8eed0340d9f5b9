package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/importer"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

func init() {
	register("migrate", "apply database migrations", cmdMigrate)
	register("city add", "--code C --name N [--name-en N]", cmdCityAdd)
	register("tariff add", "--code C --name N --fee 500 --down 100M --up 100M [--city CITY] [--prorate] [--archived]", cmdTariffAdd)
	register("tariff list", "[--city CITY]", cmdTariffList)
	register("account create", "--login L --password P --tariff C [--name N --email E --phone P --city CITY --address A]", cmdAccountCreate)
	register("account show", "LOGIN [--json]", cmdAccountShow)
	register("payment add", "LOGIN --amount 500 --channel cash --external-id X", cmdPaymentAdd)
	register("billing run", "[--at 2027-01-01T00:05:00+03:00]: charge everything due up to that instant", cmdBillingRun)
	register("ledger verify", "check every balance and transaction; exit 1 naming what is wrong", cmdLedgerVerify)
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "database is up to date")
	return nil
}

func cmdCityAdd(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("city add", flag.ContinueOnError)
	var c billing.City
	fs.StringVar(&c.Code, "code", "", "city code")
	fs.StringVar(&c.Name, "name", "", "name")
	fs.StringVar(&c.NameEn, "name-en", "", "English name")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if c.Code == "" || c.Name == "" {
		return errors.New("--code and --name are required")
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	c, err := billing.AddCity(ctx, e.db, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "city %s added (id %d)\n", c.Code, c.ID)
	return nil
}

func cmdTariffAdd(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("tariff add", flag.ContinueOnError)
	var t billing.Tariff
	var fee, down, up, city string
	var archived bool
	fs.StringVar(&t.Code, "code", "", "tariff code")
	fs.StringVar(&t.Name, "name", "", "name")
	fs.StringVar(&t.NameEn, "name-en", "", "English name")
	fs.StringVar(&fee, "fee", "", "monthly fee, roubles: 500 or 500.50")
	fs.StringVar(&down, "down", "", "download speed: 100M, 512k, 1G")
	fs.StringVar(&up, "up", "", "upload speed")
	fs.StringVar(&city, "city", "", "city code (default: every city)")
	fs.BoolVar(&t.Prorate, "prorate", false, "prorate mid-month changes by day")
	fs.BoolVar(&archived, "archived", false, "add as archived (not offered)")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if t.Code == "" || t.Name == "" || fee == "" || down == "" || up == "" {
		return errors.New("--code, --name, --fee, --down and --up are required")
	}
	amount, err := money.Parse(fee)
	if err != nil {
		return fmt.Errorf("--fee: %w", err)
	}
	if amount < 0 {
		return fmt.Errorf("--fee %s: must not be negative", fee)
	}
	t.Fee, t.Public, t.Archived = amount, true, archived
	if t.DownKbps, err = billing.ParseSpeed(down); err != nil {
		return fmt.Errorf("--down: %w", err)
	}
	if t.UpKbps, err = billing.ParseSpeed(up); err != nil {
		return fmt.Errorf("--up: %w", err)
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	if city != "" {
		c, err := billing.CityByCode(ctx, e.db, city)
		if err != nil {
			return err
		}
		t.CityID = c.ID
	}
	t, err = billing.AddTariff(ctx, e.db, t, e.clock.Now())
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(tariffJSON(t))
	}
	fmt.Fprintf(e.stdout, "tariff %s added: %s, %s/%s\n", t.Code, t.Fee.Format("ru"), billing.FormatSpeed(t.DownKbps), billing.FormatSpeed(t.UpKbps))
	return nil
}

type tariffOut struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Fee      string `json:"fee"`
	Down     string `json:"down"`
	Up       string `json:"up"`
	Prorate  bool   `json:"prorate"`
	Archived bool   `json:"archived"`
}

func tariffJSON(t billing.Tariff) tariffOut {
	return tariffOut{Code: t.Code, Name: t.Name, Fee: t.Fee.Decimal(), Down: billing.FormatSpeed(t.DownKbps), Up: billing.FormatSpeed(t.UpKbps), Prorate: t.Prorate, Archived: t.Archived}
}

func cmdTariffList(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("tariff list", flag.ContinueOnError)
	city := fs.String("city", "", "city code")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	var cityID int64
	if *city != "" {
		c, err := billing.CityByCode(ctx, e.db, *city)
		if err != nil {
			return err
		}
		cityID = c.ID
	}
	ts, err := billing.Tariffs(ctx, e.db, cityID, false)
	if err != nil {
		return err
	}
	out := []tariffOut{}
	for _, t := range ts {
		out = append(out, tariffJSON(t))
	}
	if e.json {
		return e.printJSON(out)
	}
	for _, t := range out {
		fmt.Fprintf(e.stdout, "%-14s %-28s %10s  %s/%s\n", t.Code, t.Name, t.Fee, t.Down, t.Up)
	}
	return nil
}

func cmdAccountCreate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	var n struct{ login, password, tariff, name, email, phone, city, address, contract string }
	fs.StringVar(&n.login, "login", "", "login")
	fs.StringVar(&n.password, "password", "", "password (8–64 characters)")
	fs.StringVar(&n.tariff, "tariff", "", "tariff code")
	fs.StringVar(&n.name, "name", "", "subscriber's full name")
	fs.StringVar(&n.email, "email", "", "e-mail")
	fs.StringVar(&n.phone, "phone", "", "phone")
	fs.StringVar(&n.city, "city", "", "city code")
	fs.StringVar(&n.address, "address", "", "address")
	fs.StringVar(&n.contract, "contract", "", "contract number (default: generated)")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if n.login == "" || n.password == "" || n.tariff == "" {
		return errors.New("--login, --password and --tariff are required")
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	dir, err := e.directory()
	if err != nil {
		return err
	}
	a, err := dir.Create(ctx, subscriber.NewAccount{Login: n.login, Password: n.password, Tariff: n.tariff, Name: n.name,
		Email: n.email, Phone: n.phone, City: n.city, Address: n.address, ContractNo: n.contract})
	if err != nil {
		return err
	}
	if e.json {
		return showAccount(ctx, e, a.Login)
	}
	fmt.Fprintf(e.stdout, "account %s created, contract %s\n", a.Login, a.ContractNo)
	return nil
}

// accountOut is the CLI's JSON contract for an account: money as decimal
// strings in roubles.
type accountOut struct {
	Login              string   `json:"login"`
	Contract           string   `json:"contract"`
	Name               string   `json:"name"`
	City               string   `json:"city"`
	Status             string   `json:"status"`
	Balance            string   `json:"balance"`
	Tariff             string   `json:"tariff"`
	NextTariff         string   `json:"next_tariff,omitempty"`
	DownKbps           int64    `json:"down_kbps"`
	UpKbps             int64    `json:"up_kbps"`
	LimitRate          string   `json:"limit_rate"`
	LimitKbps          int64    `json:"limit_kbps"`
	Limited            bool     `json:"limited"`
	DebtSince          string   `json:"debt_since,omitempty"`
	LimitedSince       string   `json:"limited_since,omitempty"`
	NextFees           string   `json:"next_fees"`
	RecommendedPayment string   `json:"recommended_payment"`
	NextChargeAt       string   `json:"next_charge_at"`
	Packages           []string `json:"packages"`
	// Origin: the billing the account was imported from.
	Origin *importer.Origin `json:"origin,omitempty"`
	// Promise is the promised payment in force, if any.
	Promise *promiseOut `json:"promise,omitempty"`
	// Suspension is the voluntary suspension scheduled or running, if any.
	Suspension *suspensionOut `json:"suspension,omitempty"`
}

type promiseOut struct {
	Amount string `json:"amount"`
	Until  string `json:"until"`
}

func cmdAccountShow(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("account show", flag.ContinueOnError)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give one login: kabinet account show LOGIN")
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	return showAccount(ctx, e, pos[0])
}

func showAccount(ctx context.Context, e *env, login string) error {
	dir, err := e.directory()
	if err != nil {
		return err
	}
	a, err := dir.ByLogin(ctx, login)
	if err != nil {
		return err
	}
	s, err := dir.Biller.Summary(ctx, a.ID)
	if err != nil {
		return err
	}
	out := accountOut{Login: a.Login, Contract: a.ContractNo, Name: a.Name, City: a.CityName, Status: s.Status, Balance: s.Balance.Decimal(),
		Tariff: s.Tariff.Code, DownKbps: s.Speed.DownKbps, UpKbps: s.Speed.UpKbps, LimitKbps: s.LimitKbps,
		LimitRate: billing.FormatSpeed(s.LimitKbps), Limited: s.Speed.Limited, NextFees: s.NextFees.Decimal(),
		RecommendedPayment: s.Recommended.Decimal(), NextChargeAt: s.NextChargeAt.Format(time.RFC3339), Packages: []string{}}
	if s.NextTariff != nil {
		out.NextTariff = s.NextTariff.Code
	}
	if !s.DebtSince.IsZero() {
		out.DebtSince = s.DebtSince.In(e.cfg.Zone()).Format(time.RFC3339)
	}
	if !s.LimitedSince.IsZero() {
		out.LimitedSince = s.LimitedSince.In(e.cfg.Zone()).Format(time.RFC3339)
	}
	for _, p := range s.Packages {
		out.Packages = append(out.Packages, p.Package.Code)
	}
	if o, ok, err := importer.OriginOf(ctx, e.db, a.ID); err != nil {
		return err
	} else if ok {
		out.Origin = &o
	}
	if !s.PromisedUntil.IsZero() {
		p, err := promise.New(e.db, e.clock, dir.Biller, promise.DefaultRules()).Current(ctx, a.ID)
		if err != nil {
			return err
		}
		if p != nil {
			out.Promise = &promiseOut{Amount: p.Amount.Decimal(), Until: p.EndsAt.In(e.cfg.Zone()).Format(time.RFC3339)}
		}
	}
	svc, err := e.suspensions()
	if err != nil {
		return err
	}
	if u, err := svc.Current(ctx, a.ID); err != nil {
		return err
	} else if u != nil {
		so := e.suspensionOut(*u)
		out.Suspension = &so
	}
	if e.json {
		return e.printJSON(out)
	}
	fmt.Fprintf(e.stdout, "login:        %s (contract %s)\nname:         %s\nstatus:       %s\nbalance:      %s\ntariff:       %s (%s/%s)\npackages:     %s\nrecommended:  %s\nnext charge:  %s on %s\n",
		out.Login, out.Contract, out.Name, out.Status, s.Balance.Format("ru"), s.Tariff.Code, billing.FormatSpeed(s.Speed.DownKbps), billing.FormatSpeed(s.Speed.UpKbps),
		strings.Join(out.Packages, ", "), s.Recommended.Format("ru"), s.NextChargeAmount.Format("ru"), s.NextChargeAt.In(e.cfg.Zone()).Format("2006-01-02"))
	if out.Origin != nil {
		fmt.Fprintf(e.stdout, "moved in from: %s\n", out.Origin.Describe(e.cfg.Zone()))
	}
	if out.Promise != nil {
		fmt.Fprintf(e.stdout, "promise:      %s until %s\n", out.Promise.Amount, out.Promise.Until)
	}
	if u := out.Suspension; u != nil {
		fmt.Fprintf(e.stdout, "suspension:   %s, %s .. %s\n", u.State, u.From, u.Until)
	}
	return nil
}

func cmdPaymentAdd(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("payment add", flag.ContinueOnError)
	amountS := fs.String("amount", "", "amount in roubles: 500, 500.50, 500,50")
	channel := fs.String("channel", "cash", "payment channel")
	ext := fs.String("external-id", "", "the channel's id of the payment (receipt number); a repeat is applied once")
	operator := fs.String("operator", "cli", "who records it")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give one login: kabinet payment add LOGIN --amount 500 --external-id X")
	}
	amount, err := money.Parse(*amountS)
	if err != nil {
		return fmt.Errorf("--amount: %w", err)
	}
	if amount <= 0 {
		return fmt.Errorf("--amount %s: must be positive", *amountS)
	}
	if strings.TrimSpace(*ext) == "" {
		return errors.New("--external-id is required: it makes a repeated payment count once")
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	dir, err := e.directory()
	if err != nil {
		return err
	}
	a, err := dir.ByLoginOrContract(ctx, pos[0])
	if err != nil {
		return err
	}
	svc := payment.NewService(e.db, e.clock, dir.Biller, nil, payment.Options{BonusPercentBP: e.cfg.Billing.BonusPercentBP})
	p, dup, err := svc.Record(ctx, payment.ManualIn{Channel: *channel, ExternalID: strings.TrimSpace(*ext), AccountID: a.ID, Amount: amount, Operator: *operator})
	if err != nil {
		return err
	}
	s, err := dir.Biller.Summary(ctx, a.ID)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(map[string]any{"login": a.Login, "payment_id": p.ID, "amount": p.Amount.Decimal(), "channel": p.Channel,
			"external_id": p.ExternalID, "duplicate": dup, "balance": s.Balance.Decimal(), "status": s.Status})
	}
	if dup {
		fmt.Fprintf(e.stdout, "payment %s/%s was already applied (payment %d): nothing credited; balance %s\n", p.Channel, p.ExternalID, p.ID, s.Balance.Format("ru"))
		return nil
	}
	fmt.Fprintf(e.stdout, "payment %d: %s credited to %s; balance %s, status %s\n", p.ID, p.Amount.Format("ru"), a.Login, s.Balance.Format("ru"), s.Status)
	return nil
}

func cmdBillingRun(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("billing run", flag.ContinueOnError)
	atS := fs.String("at", "", "instant to bill up to, RFC 3339 (default: now)")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	at := e.clock.Now()
	if *atS != "" {
		t, err := time.Parse(time.RFC3339, *atS)
		if err != nil {
			return fmt.Errorf("--at %q: want RFC 3339, e.g. 2027-01-01T00:05:00+03:00", *atS)
		}
		at = t
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	var progress billing.Progress
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !e.json {
		progress = func(period string, done, total int64) {
			fmt.Fprintf(e.stderr, "\rbilling %s: %d/%d accounts (%d%%)", period, done, total, done*100/max(total, 1))
			if done == total {
				fmt.Fprintln(e.stderr)
			}
		}
	}
	start := time.Now()
	b := e.biller()
	res, err := b.Run(ctx, at, progress)
	if err != nil {
		return err
	}
	// Company contracts with one balance cover their points' new charges.
	if _, err := company.New(e.db, e.clock, b, nil).PoolAll(ctx); err != nil {
		return err
	}
	if e.json {
		return e.printJSON(map[string]any{"periods": res.Periods, "charges": res.Charges, "total": res.Total.Decimal(), "limited": res.Limited,
			"tariff_changes": res.Tariffs, "boosts_ended": res.BoostsEnd, "seconds": time.Since(start).Seconds()})
	}
	fmt.Fprintf(e.stdout, "billed %s: %d charges, %s; %d accounts limited, %d tariff changes, %d boosts ended (%.1fs)\n",
		strings.Join(res.Periods, ", "), res.Charges, res.Total.Format("ru"), res.Limited, res.Tariffs, res.BoostsEnd, time.Since(start).Seconds())
	return nil
}

func cmdLedgerVerify(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("ledger verify", flag.ContinueOnError)
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	problems, err := ledger.Verify(ctx, e.db)
	if err != nil {
		return err
	}
	if e.json {
		msgs := []string{}
		for _, p := range problems {
			msgs = append(msgs, p.Message)
		}
		e.printJSON(map[string]any{"ok": len(problems) == 0, "problems": msgs})
	} else {
		for _, p := range problems {
			fmt.Fprintln(e.stdout, p.Message)
		}
		if len(problems) == 0 {
			fmt.Fprintln(e.stdout, "ledger verifies: every balance equals its postings, every transaction sums to zero")
		}
	}
	if len(problems) > 0 {
		return errVerify
	}
	return nil
}
