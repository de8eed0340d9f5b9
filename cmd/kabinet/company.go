package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/company"
	"github.com/kabinet-billing/kabinet/internal/operator"
)

func init() {
	register("company create", "--name N --inn INN [--kpp … --ogrn … --bik … --account … --corr … --email … --balance contract|points]: a company client", cmdCompanyCreate)
	register("company show", "INN|CONTRACT [--json]: an organisation, its points, balance and bank payments", cmdCompanyShow)
	register("company point", "INN|CONTRACT LOGIN [--label L]: make an account a connection point of the organisation", cmdCompanyPoint)
	register("company employee", "INN|CONTRACT EMAIL --password P [--name N]: let an employee log into the company cabinet", cmdCompanyEmployee)
}

// organisation opens the database and finds the organisation a command
// names by INN or contract number.
func (e *env) organisation(ctx context.Context, arg string) (*company.Service, company.Organisation, error) {
	var o company.Organisation
	if err := e.open(ctx); err != nil {
		return nil, o, err
	}
	svc, err := e.company()
	if err != nil {
		return nil, o, err
	}
	if o, err = svc.ByINN(ctx, arg); err != nil {
		if o, err = svc.ByContract(ctx, arg); err != nil {
			return nil, o, fmt.Errorf("no organisation with INN or contract %q", arg)
		}
	}
	return svc, o, nil
}

func cmdCompanyPoint(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("company point", flag.ContinueOnError)
	label := fs.String("label", "", "the point's name (\"Аптека на Ленина\")")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return errors.New("give the organisation and the login: kabinet company point 7707083893 shop-1 [--label …]")
	}
	svc, o, err := e.organisation(ctx, pos[0])
	if err != nil {
		return err
	}
	a, err := svc.Dir.ByLoginOrContract(ctx, pos[1])
	if err != nil {
		return fmt.Errorf("no account %q", pos[1])
	}
	if err := svc.AttachPoint(ctx, cliActor, o.ID, a.ID, *label); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is a connection point of %s\n", a.Login, o.ShortName)
	return nil
}

func cmdCompanyEmployee(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("company employee", flag.ContinueOnError)
	pw := fs.String("password", "", "the employee's password (8 to 64 characters)")
	name := fs.String("name", "", "the employee's name")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *pw == "" {
		return errors.New("give the organisation, the e-mail and --password: kabinet company employee 7707083893 buh@example.com --password …")
	}
	svc, o, err := e.organisation(ctx, pos[0])
	if err != nil {
		return err
	}
	em, err := svc.AddEmployee(ctx, cliActor, o.ID, pos[1], *name, *pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s may log into the cabinet of %s\n", em.Login, o.ShortName)
	return nil
}

func (e *env) company() (*company.Service, error) {
	dir, err := e.directory()
	if err != nil {
		return nil, err
	}
	svc := company.New(e.db, e.clock, dir.Biller, dir)
	svc.Accounts = e.cfg.Company.Accounts
	return svc, nil
}

var cliActor = operator.Actor{Login: "cli"}

func cmdCompanyCreate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("company create", flag.ContinueOnError)
	var d company.Details
	fs.StringVar(&d.FullName, "name", "", "full name: ООО «Ромашка»")
	fs.StringVar(&d.ShortName, "short-name", "", "short name (default: the full name)")
	fs.StringVar(&d.INN, "inn", "", "INN: 10 digits, 12 for an entrepreneur")
	fs.StringVar(&d.KPP, "kpp", "", "KPP")
	fs.StringVar(&d.OGRN, "ogrn", "", "OGRN (13) or OGRNIP (15)")
	fs.StringVar(&d.LegalAddress, "address", "", "legal address")
	fs.StringVar(&d.PostalAddress, "postal-address", "", "postal address")
	fs.StringVar(&d.BankName, "bank", "", "bank's name")
	fs.StringVar(&d.BIK, "bik", "", "bank's BIK")
	fs.StringVar(&d.SettlementAccount, "account", "", "settlement account (20 digits)")
	fs.StringVar(&d.CorrAccount, "corr", "", "correspondent account (20 digits)")
	fs.StringVar(&d.Director, "director", "", "director")
	fs.StringVar(&d.Accountant, "accountant", "", "chief accountant")
	fs.StringVar(&d.Email, "email", "", "e-mail for documents")
	fs.StringVar(&d.Phone, "phone", "", "phone")
	fs.StringVar(&d.VATMode, "vat", company.VATRate, "vat (the rate in force) or none (без НДС)")
	fs.StringVar(&d.ContractNo, "contract", "", "contract number (default К-YYYY-NNNNN)")
	fs.StringVar(&d.ContractDate, "contract-date", "", "contract date YYYY-MM-DD (default today)")
	fs.StringVar(&d.BalanceMode, "balance", company.BalanceContract, "contract (one balance) or points (one per point)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected %q", pos[0])
	}
	if d.FullName == "" || d.INN == "" {
		return errors.New("--name and --inn are required")
	}
	if err := d.Check(); err != nil {
		return err
	}
	if err := e.open(ctx); err != nil {
		return err
	}
	svc, err := e.company()
	if err != nil {
		return err
	}
	o, err := svc.Create(ctx, cliActor, d)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(orgJSON(o, company.Balance{}, nil, nil))
	}
	fmt.Fprintf(e.stdout, "organisation %d: %s, INN %s, contract %s of %s\n", o.ID, o.ShortName, o.INN, o.ContractNo, o.ContractDate)
	return nil
}

type pointJSON struct {
	Login   string `json:"login"`
	Label   string `json:"label"`
	Address string `json:"address"`
	Tariff  string `json:"tariff"`
	Status  string `json:"status"`
	Balance string `json:"balance"`
}

type bankJSON struct {
	DocNo   string `json:"doc_no"`
	DocDate string `json:"doc_date"`
	Amount  string `json:"amount"`
	Invoice string `json:"invoice,omitempty"`
	Purpose string `json:"purpose"`
}

type organisationJSON struct {
	ID                int64       `json:"id"`
	Kind              string      `json:"kind"`
	FullName          string      `json:"full_name"`
	ShortName         string      `json:"short_name"`
	INN               string      `json:"inn"`
	KPP               string      `json:"kpp,omitempty"`
	OGRN              string      `json:"ogrn,omitempty"`
	LegalAddress      string      `json:"legal_address,omitempty"`
	PostalAddress     string      `json:"postal_address,omitempty"`
	BankName          string      `json:"bank_name,omitempty"`
	BIK               string      `json:"bik,omitempty"`
	SettlementAccount string      `json:"settlement_account,omitempty"`
	CorrAccount       string      `json:"corr_account,omitempty"`
	Director          string      `json:"director,omitempty"`
	Accountant        string      `json:"accountant,omitempty"`
	Email             string      `json:"email,omitempty"`
	VATMode           string      `json:"vat_mode"`
	ContractNo        string      `json:"contract_no"`
	ContractDate      string      `json:"contract_date"`
	BalanceMode       string      `json:"balance_mode"`
	Balance           string      `json:"balance"`
	ContractBalance   string      `json:"contract_balance"`
	Points            []pointJSON `json:"points"`
	Payments          []bankJSON  `json:"bank_payments"`
}

func orgJSON(o company.Organisation, b company.Balance, points []company.Point, pays []company.BankPayment) organisationJSON {
	j := organisationJSON{ID: o.ID, Kind: o.Kind, FullName: o.FullName, ShortName: o.ShortName, INN: o.INN, KPP: o.KPP, OGRN: o.OGRN,
		LegalAddress: o.LegalAddress, PostalAddress: o.PostalAddress, BankName: o.BankName, BIK: o.BIK, SettlementAccount: o.SettlementAccount,
		CorrAccount: o.CorrAccount, Director: o.Director, Accountant: o.Accountant, Email: o.Email, VATMode: o.VATMode, ContractNo: o.ContractNo,
		ContractDate: o.ContractDate, BalanceMode: o.BalanceMode, Balance: b.Total.Decimal(), ContractBalance: b.Contract.Decimal(),
		Points: []pointJSON{}, Payments: []bankJSON{}}
	for _, p := range points {
		j.Points = append(j.Points, pointJSON{Login: p.Login, Label: p.Label, Address: p.Address, Tariff: p.TariffCode, Status: p.Status, Balance: p.Balance.Decimal()})
	}
	for _, p := range pays {
		j.Payments = append(j.Payments, bankJSON{DocNo: p.DocNo, DocDate: p.DocDate, Amount: p.Amount.Decimal(), Invoice: p.InvoiceNo, Purpose: p.Purpose})
	}
	return j
}

func cmdCompanyShow(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("company show", flag.ContinueOnError)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give an INN or a contract number: kabinet company show 7707083893")
	}
	svc, o, err := e.organisation(ctx, pos[0])
	if err != nil {
		return err
	}
	b, err := svc.Balance(ctx, o.ID)
	if err != nil {
		return err
	}
	points, err := svc.Points(ctx, o.ID)
	if err != nil {
		return err
	}
	pays, err := svc.Payments(ctx, o.ID, 20)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(orgJSON(o, b, points, pays))
	}
	w := e.stdout
	fmt.Fprintf(w, "%s\n%s\nINN %s", o.ShortName, o.FullName, o.INN)
	if o.KPP != "" {
		fmt.Fprintf(w, "  KPP %s", o.KPP)
	}
	if o.OGRN != "" {
		fmt.Fprintf(w, "  OGRN %s", o.OGRN)
	}
	fmt.Fprintf(w, "\ncontract %s of %s, balance mode %s, VAT %s\n", o.ContractNo, o.ContractDate, o.BalanceMode, o.VATMode)
	if o.BIK != "" {
		fmt.Fprintf(w, "bank %s BIK %s account %s corr. %s\n", o.BankName, o.BIK, o.SettlementAccount, o.CorrAccount)
	}
	fmt.Fprintf(w, "balance %s (contract %s, points %s)\n", b.Total.Decimal(), b.Contract.Decimal(), b.Points.Decimal())
	for _, p := range points {
		fmt.Fprintf(w, "  point %-16s %-10s %-8s %12s  %s\n", p.Login, p.TariffCode, p.Status, p.Balance.Decimal(), p.Address)
	}
	for _, p := range pays {
		fmt.Fprintf(w, "  paid %s № %s %12s  %s\n", p.DocDate, p.DocNo, p.Amount.Decimal(), p.InvoiceNo)
	}
	return nil
}

// importBankStatement is `kabinet payments import --channel bank FILE`:
// a 1C statement of company clients' transfers.
func importBankStatement(ctx context.Context, e *env, path string, f io.Reader) error {
	svc, err := e.company()
	if err != nil {
		return err
	}
	// A payment naming an invoice counts towards it (internal/documents).
	if _, err := e.documentsFor(svc); err != nil {
		return err
	}
	rep, err := svc.ImportStatement(ctx, cliActor, baseName(path), f, nil)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(rep)
	}
	return rep.WriteText(e.stdout)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// isBankStatement tells a 1C statement by its first line.
func isBankStatement(f *os.File) bool {
	var head [32]byte
	n, _ := f.ReadAt(head[:], 0)
	return strings.HasPrefix(strings.TrimPrefix(string(head[:n]), "\ufeff"), "1CClientBankExchange")
}
