package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// The demo's company clients: a shop with one point, a school whose two
// buildings keep separate balances, and a pharmacy chain with eight points
// on one balance, an employee who logs into its cabinet, and bank
// transfers from a 1C statement; plus a sample statement to import.

// demoProviderAccount is the demo provider's settlement account (Тверское
// отделение № 8607 ПАО Сбербанк, BIK 042809679): the statements' РасчСчет.
const demoProviderAccount = "40702810863000000100"

// demoEmployee logs into the pharmacy chain's cabinet (password demo1234).
const demoEmployee = "buh@apteka-zdorovie.example"

// demoStatementName is the sample 1C statement written next to the demo's
// data, to try the import with.
const demoStatementName = "bank-statement-1c.txt"

type demoOrg struct {
	d      company.Details
	points []string // the points' labels
	tariff string
}

func demoOrgs() []demoOrg {
	bank := func(d company.Details, account string) company.Details {
		d.BankName, d.BIK, d.CorrAccount, d.SettlementAccount = "Тверское отделение № 8607 ПАО Сбербанк", "042809679", "30101810700000000679", account
		return d
	}
	return []demoOrg{
		{d: bank(company.Details{FullName: "Общество с ограниченной ответственностью «Продукты у дома»", ShortName: "ООО «Продукты у дома»",
			INN: "6950123450", KPP: "695001001", OGRN: "1026900001237", LegalAddress: "170100, г. Тверь, ул. Советская, д. 21",
			Director: "Смирнов Алексей Петрович", Accountant: "Смирнова Ольга Ивановна", Email: "buh@produkty.example", Phone: "+7 (4822) 33-11-22"},
			"40702810863000001002"), points: []string{"Магазин на Советской"}, tariff: "biz100"},
		{d: bank(company.Details{FullName: "Муниципальное бюджетное общеобразовательное учреждение «Средняя школа № 7»", ShortName: "МБОУ СШ № 7",
			INN: "6950987650", KPP: "695001001", OGRN: "1026900004560", LegalAddress: "170028, г. Тверь, пр-т Победы, д. 40",
			Director: "Лебедева Татьяна Николаевна", Accountant: "Егорова Анна Сергеевна", Email: "school7@edu.example", BalanceMode: company.BalancePoints},
			"40701810100000001009"), points: []string{"Основное здание", "Начальная школа"}, tariff: "biz100"},
		{d: bank(company.Details{FullName: "Общество с ограниченной ответственностью «Аптека Здоровье»", ShortName: "ООО «Аптека Здоровье»",
			INN: "6950555555", KPP: "695001001", OGRN: "1026900007892", LegalAddress: "170100, г. Тверь, ул. Новоторжская, д. 12",
			PostalAddress: "170100, г. Тверь, а/я 15", Director: "Волков Дмитрий Андреевич", Accountant: "Новикова Мария Алексеевна",
			Email: "buh@apteka-zdorovie.example", Phone: "+7 (4822) 44-55-66"},
			"40702810163000001003"), points: []string{"Аптека на Советской", "Аптека на Ленина", "Аптека на Горького", "Аптека в ТЦ «Рубин»",
			"Аптека на Мира", "Аптека в Заволжье", "Склад", "Офис"}, tariff: "biz50"},
	}
}

// seedDemoCompanies runs at the seed's end, on its clock at now. The
// organisations and their points date from the 1st of last month, so that
// last month is charged and its acts exist, then the clock comes back.
func seedDemoCompanies(ctx context.Context, e *env, clk *clock.Fake, b *billing.Biller, dir *subscriber.Directory) error {
	now := clk.Now()
	this := billing.PeriodOf(now, e.cfg.Zone())
	clk.Set(this.Start.AddDate(0, -1, 0).Add(time.Hour))
	for _, t := range []billing.Tariff{
		{Code: "biz50", Name: "Бизнес 50", NameEn: "Business 50", Fee: money.Rub(1200), DownKbps: 50000, UpKbps: 50000, Description: "Для магазина и аптеки: касса, терминал, ЕГАИС"},
		{Code: "biz100", Name: "Бизнес 100", NameEn: "Business 100", Fee: money.Rub(2000), DownKbps: 100000, UpKbps: 100000, Description: "Офис и школа: статический IP по запросу"},
	} {
		if _, err := billing.AddTariff(ctx, e.db, t, now); err != nil {
			return err
		}
	}
	svc := company.New(e.db, clk, b, dir)
	actor := cliActor
	hash := password.Hash(demoPassword)
	var orgs []company.Organisation
	for i, o := range demoOrgs() {
		d := o.d
		d.ContractDate = now.In(e.cfg.Zone()).AddDate(0, -2, 0).Format("2006-01-02")
		org, err := svc.Create(ctx, actor, d)
		if err != nil {
			return err
		}
		orgs = append(orgs, org)
		for j, label := range o.points {
			login := fmt.Sprintf("org%d-point%d", i+1, j+1)
			if _, err := svc.CreatePoint(ctx, actor, org.ID, subscriber.NewAccount{Login: login, Password: demoPassword, PasswordHash: hash,
				Tariff: o.tariff, City: "tver", Address: fmt.Sprintf("г. Тверь, %s, д. %d", streets[(i+j)%len(streets)], 3+7*j)}, label); err != nil {
				return err
			}
		}
	}
	if _, err := svc.AddEmployee(ctx, actor, orgs[2].ID, demoEmployee, "Новикова Мария Алексеевна", demoPassword); err != nil {
		return err
	}
	// This month's charges for the points, as the billing run made them.
	clk.Set(this.Start.Add(5 * time.Minute))
	if _, err := b.Run(ctx, clk.Now(), nil); err != nil {
		return err
	}
	clk.Set(now)
	// What came in this month: the pharmacy paid for two months ahead,
	// the shop paid part of its bill, a person paid by transfer with no
	// contract named (it waits to be sorted).
	day := now.In(e.cfg.Zone()).AddDate(0, 0, -1).Format("2006-01-02")
	paid := []company.BankDocument{
		{Number: "412", Date: day, Amount: money.Rub(19200), PayerINN: "6950555555", PayerKPP: "695001001", PayerName: "ООО «Аптека Здоровье»",
			PayerAccount: "40702810163000001003", PayerBIK: "042809679", Purpose: "Оплата услуг связи за 2 месяца по договору № " + orgs[2].ContractNo + ". В т.ч. НДС 22% 3462,30"},
		{Number: "88", Date: day, Amount: money.Rub(1500), PayerINN: "6950123450", PayerKPP: "695001001", PayerName: "ООО «Продукты у дома»",
			PayerAccount: "40702810863000001002", PayerBIK: "042809679", Purpose: "Оплата за интернет, частично. В т.ч. НДС 22% 270,49"},
		{Number: "5", Date: day, Amount: money.Rub(700), PayerName: "Кузнецов Иван Сергеевич", PayerAccount: "40817810000000000017",
			PayerBIK: "044525225", Purpose: "За интернет, Советская 21"},
	}
	if _, err := svc.ImportStatement(ctx, actor, "demo-seed.txt", bytes.NewReader(demoStatement(paid, now, e)), nil); err != nil {
		return err
	}
	return nil
}

func demoStatement(docs []company.BankDocument, now time.Time, e *env) []byte {
	for i := range docs {
		docs[i].RecipientAccount = demoProviderAccount
		docs[i].RecipientINN = e.cfg.Provider.INN
		docs[i].Received = docs[i].Date
	}
	var buf bytes.Buffer
	z := e.cfg.Zone()
	company.Write1C(&buf, demoProviderAccount, now.In(z).AddDate(0, 0, -7), now.In(z), docs)
	return buf.Bytes()
}

// writeDemoStatement writes the sample statement into the data directory:
// the school pays one building's month, the shop the rest of its bill, and
// the pharmacy's payment seeded already comes again (imported once).
func writeDemoStatement(ctx context.Context, e *env, data string, now time.Time) (string, error) {
	day := now.In(e.cfg.Zone()).Format("2006-01-02")
	// A data directory seeded before company clients existed has none:
	// the statement's lines then wait to be sorted.
	contract := "К-0000-00000"
	if pharmacy, err := company.New(e.db, e.clock, e.biller(), nil).ByINN(ctx, "6950555555"); err == nil {
		contract = pharmacy.ContractNo
	}
	docs := []company.BankDocument{
		{Number: "1207", Date: day, Amount: money.Rub(2000), PayerINN: "6950987650", PayerKPP: "695001001", PayerName: "МБОУ СШ № 7",
			PayerAccount: "40701810100000001009", PayerBIK: "042809679", Purpose: "Оплата услуг доступа в интернет за текущий месяц. НДС не облагается"},
		{Number: "93", Date: day, Amount: money.Rub(2500), PayerINN: "6950123450", PayerKPP: "695001001", PayerName: "ООО «Продукты у дома»",
			PayerAccount: "40702810863000001002", PayerBIK: "042809679", Purpose: "Доплата за интернет. В т.ч. НДС 22% 450,82"},
		{Number: "412", Date: now.In(e.cfg.Zone()).AddDate(0, 0, -1).Format("2006-01-02"), Amount: money.Rub(19200), PayerINN: "6950555555", PayerKPP: "695001001",
			PayerName: "ООО «Аптека Здоровье»", PayerAccount: "40702810163000001003", PayerBIK: "042809679",
			Purpose: "Оплата услуг связи за 2 месяца по договору № " + contract + ". В т.ч. НДС 22% 3462,30"},
		{Number: "31", Date: day, Amount: money.Rub(990), PayerINN: "691200112233", PayerName: "ИП Соколов Андрей Михайлович",
			PayerAccount: "40802810963000001009", PayerBIK: "042809679", Purpose: "Оплата по сч. 17 за подключение"},
	}
	path := filepath.Join(data, demoStatementName)
	if err := os.WriteFile(path, demoStatement(docs, now, e), 0o644); err != nil {
		return "", err
	}
	return path, nil
}
