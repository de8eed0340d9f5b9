// Package company keeps company clients: organisations with their
// registration and bank details, their connection points (ordinary accounts
// with their own login, tariff, address and RADIUS line), the employees who
// log into the portal in the company's role, the contract's balance, and
// the bank transfers they pay with (1C statements).
//
// One balance for the contract: the organisation's own ledger account
// (code company:<id>) holds the money; Pool moves it to the points to cover
// their charges, all points or none, so that billing's own debt and limit
// rules (per account) limit every point while the contract is in debt.
package company

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
)

// Kinds of organisation.
const (
	KindLegal        = "legal"        // юридическое лицо: INN 10 digits, KPP, OGRN 13
	KindEntrepreneur = "entrepreneur" // ИП: INN 12 digits, OGRNIP 15, no KPP
)

// Balance modes of a contract.
const (
	BalanceContract = "contract" // one balance: the organisation's ledger account pays for every point
	BalancePoints   = "points"   // each point has its own balance
	ClosingAct      = "act"      // акт оказанных услуг
	ClosingUPD      = "upd"      // УПД
)

// VAT modes of a contract.
const (
	VATRate = "vat"  // the rate in force ([documents] vat_rates, 22% since 2026-01-01)
	VATNone = "none" // «без НДС»: the provider is on the simplified tax system
)

// KindLedger is the ledger account kind of an organisation's balance.
const KindLedger = "company"

// TxnTransfer is the ledger transaction kind of money moved between the
// contract's balance and a point.
const TxnTransfer = "transfer"

// LedgerCode is the code of organisation id's ledger account.
func LedgerCode(id int64) string { return fmt.Sprintf("company:%d", id) }

// Details are what an operator fills in for an organisation.
type Details struct {
	Kind              string // KindLegal or KindEntrepreneur; from the INN's length when empty
	FullName          string // ООО «Ромашка»
	ShortName         string // Ромашка; the full name when empty
	INN               string
	KPP               string // organisations only
	OGRN              string // OGRN (13) or OGRNIP (15); optional
	LegalAddress      string
	PostalAddress     string
	BankName          string
	BIK               string
	SettlementAccount string
	CorrAccount       string
	Director          string
	Accountant        string
	Email             string // where documents are sent
	Phone             string
	VATMode           string // VATRate (default) or VATNone
	ContractNo        string // generated when empty: К-YYYY-NNNNN
	ContractDate      string // YYYY-MM-DD; today when empty
	BalanceMode       string // BalanceContract (default) or BalancePoints
	// Closing is the document for a past month: "" the provider's
	// ([documents] closing), ClosingAct or ClosingUPD.
	Closing string
}

// Organisation is a company client.
type Organisation struct {
	ID int64
	Details
	LedgerID  int64
	DebtSince time.Time // zero without debt
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Name is the short name, for lists.
func (o Organisation) Name() string {
	if o.ShortName != "" {
		return o.ShortName
	}
	return o.FullName
}

// Service keeps organisations. Biller and Dir are needed for points and
// money; Invoices, when set, lets bank transfers find the invoice they pay.
type Service struct {
	DB     *store.DB
	Clock  clock.Clock
	Biller *billing.Biller
	Dir    *subscriber.Directory
	Zone   *time.Location
	// Accounts are the provider's own settlement accounts ([company]
	// accounts): a statement's payment orders to them are incoming.
	Accounts []string

	invoices atomic.Pointer[Invoices]
	// points maps every point's account to its organisation, for the
	// portal's home page to ask on every view without a query; reloaded
	// by Loop every minute and at once by this instance's own changes.
	points atomic.Pointer[map[int64]int64]
}

// VATPart is the VAT contained in a sum that includes it at rate percent,
// rounded to the kopeck (half away from zero), as invoices show it.
func VATPart(gross money.Amount, rate int) money.Amount {
	if rate <= 0 {
		return 0
	}
	num := int64(gross) * int64(rate)
	den := int64(100 + rate)
	q, r := num/den, num%den
	if 2*abs(r) >= den {
		if num < 0 {
			q--
		} else {
			q++
		}
	}
	return money.Amount(q)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// New makes a Service.
func New(db *store.DB, clk clock.Clock, b *billing.Biller, dir *subscriber.Directory) *Service {
	z := b.Rules.Zone
	if z == nil {
		z = time.UTC
	}
	return &Service{DB: db, Clock: clk, Biller: b, Dir: dir, Zone: z}
}

func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == ' ' || r == '-' {
			return -1
		}
		return 'x' // keeps a stray letter visible to the check
	}, s)
}

// Check normalises d and checks every field; the first error names its
// field. CheckAll gives them all, for a form.
func (d *Details) Check() error {
	if errs := d.CheckAll(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// CheckAll normalises d and returns an error per bad field, in the form's
// order.
func (d *Details) CheckAll() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	d.FullName, d.ShortName = clean(d.FullName), clean(d.ShortName)
	d.LegalAddress, d.PostalAddress, d.BankName = clean(d.LegalAddress), clean(d.PostalAddress), clean(d.BankName)
	d.Director, d.Accountant, d.Email, d.Phone = clean(d.Director), clean(d.Accountant), strings.TrimSpace(d.Email), clean(d.Phone)
	d.INN, d.OGRN, d.BIK = digitsOnly(d.INN), digitsOnly(d.OGRN), digitsOnly(d.BIK)
	d.SettlementAccount, d.CorrAccount = digitsOnly(d.SettlementAccount), digitsOnly(d.CorrAccount)
	d.KPP = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(d.KPP), " ", ""))
	d.ContractNo, d.ContractDate = clean(d.ContractNo), strings.TrimSpace(d.ContractDate)
	if d.FullName == "" || len(d.FullName) > 500 || len(d.ShortName) > 200 {
		add(derrors.Invalidf("full_name", CodeName, "the organisation's name is required (up to 500 characters)"))
	}
	if d.ShortName == "" {
		d.ShortName = d.FullName
	}
	if d.Kind == "" {
		d.Kind = KindLegal
		if len(d.INN) == 12 {
			d.Kind = KindEntrepreneur
		}
	}
	if err := CheckINN(d.INN); err != nil {
		add(err)
	} else if (d.Kind == KindLegal) != (len(d.INN) == 10) || (d.Kind != KindLegal && d.Kind != KindEntrepreneur) {
		add(derrors.Invalidf("inn", CodeINNKind, "INN %s: 10 digits for an organisation, 12 for an entrepreneur", d.INN))
	}
	switch {
	case d.Kind == KindLegal && d.KPP != "":
		add(CheckKPP(d.KPP))
	case d.Kind == KindEntrepreneur && d.KPP != "":
		add(derrors.Invalidf("kpp", CodeKPP, "an entrepreneur has no KPP"))
	}
	if d.OGRN != "" {
		if err := CheckOGRN(d.OGRN); err != nil {
			add(err)
		} else if (d.Kind == KindLegal) != (len(d.OGRN) == 13) {
			add(derrors.Invalidf("ogrn", CodeOGRN, "OGRN %s: 13 digits for an organisation, OGRNIP 15 for an entrepreneur", d.OGRN))
		}
	}
	bikOK := true
	if d.BIK != "" || d.SettlementAccount != "" || d.CorrAccount != "" {
		if err := CheckBIK(d.BIK); err != nil {
			add(err)
			bikOK = false
		}
	}
	if bikOK && d.SettlementAccount != "" {
		add(CheckAccount(d.BIK, d.SettlementAccount))
	}
	if bikOK && d.CorrAccount != "" {
		add(CheckCorrAccount(d.BIK, d.CorrAccount))
	}
	if d.Email != "" {
		if a, err := mail.ParseAddress(d.Email); err != nil || a.Address != d.Email {
			add(derrors.Invalidf("email", CodeEmail, "e-mail %q", d.Email))
		}
	}
	if d.ContractDate != "" {
		if _, err := time.Parse("2006-01-02", d.ContractDate); err != nil {
			add(derrors.Invalidf("contract_date", CodeDate, "contract date %q: YYYY-MM-DD", d.ContractDate))
		}
	}
	if d.VATMode == "" {
		d.VATMode = VATRate
	}
	if d.BalanceMode == "" {
		d.BalanceMode = BalanceContract
	}
	if d.VATMode != VATRate && d.VATMode != VATNone {
		add(derrors.Invalidf("vat_mode", CodeMode, "VAT mode %q: vat or none", d.VATMode))
	}
	if d.BalanceMode != BalanceContract && d.BalanceMode != BalancePoints {
		add(derrors.Invalidf("balance_mode", CodeMode, "balance mode %q: contract or points", d.BalanceMode))
	}
	if d.Closing != "" && d.Closing != ClosingAct && d.Closing != ClosingUPD {
		add(derrors.Invalidf("closing", CodeMode, "closing document %q: act or upd", d.Closing))
	}
	for _, s := range []string{d.LegalAddress, d.PostalAddress, d.BankName, d.Director, d.Accountant, d.Phone, d.ContractNo} {
		if len(s) > 500 {
			add(derrors.Invalidf("", CodeName, "a field is longer than 500 characters"))
			break
		}
	}
	return errs
}

func (d Details) search() string {
	return strings.ToLower(d.FullName + " " + d.ShortName + " " + d.INN)
}

// Create adds an organisation with its ledger account, audited as actor's
// in the same transaction.
func (s *Service) Create(ctx context.Context, actor operator.Actor, d Details) (Organisation, error) {
	if err := d.Check(); err != nil {
		return Organisation{}, err
	}
	now := s.Clock.Now()
	if d.ContractDate == "" {
		d.ContractDate = now.In(s.Zone).Format("2006-01-02")
	}
	var id int64
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		// The ledger account's code needs the id: take it under a
		// placeholder code first.
		contract := d.ContractNo
		if contract == "" {
			contract = "pending:" + d.INN + ":" + d.KPP
		}
		lid, err := ledger.Account(ctx, tx, "company:pending:"+d.INN+":"+d.KPP+":"+fmt.Sprint(now.UnixNano()), KindLedger)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO organisations (kind, full_name, short_name, search, inn, kpp, ogrn, legal_address, postal_address,
			bank_name, bik, settlement_account, corr_account, director, accountant, email, phone, vat_mode, contract_no, contract_date,
			balance_mode, closing, ledger_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.Kind, d.FullName, d.ShortName, d.search(), d.INN, d.KPP, d.OGRN, d.LegalAddress, d.PostalAddress,
			d.BankName, d.BIK, d.SettlementAccount, d.CorrAccount, d.Director, d.Accountant, d.Email, d.Phone, d.VATMode, contract, d.ContractDate,
			d.BalanceMode, d.Closing, lid, now.UTC(), now.UTC()).Scan(&id)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("organisation INN %s KPP %s or contract %s: %w", d.INN, d.KPP, contract, derrors.Exists)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE ledger_accounts SET code = ? WHERE id = ?`, LedgerCode(id), lid); err != nil {
			return err
		}
		if d.ContractNo == "" {
			d.ContractNo = fmt.Sprintf("К-%s-%05d", d.ContractDate[:4], id)
			if _, err := tx.Exec(ctx, `UPDATE organisations SET contract_no = ? WHERE id = ?`, d.ContractNo, id); err != nil {
				return err
			}
		}
		return operator.Audit(ctx, tx, now, actor, operator.Entry{Action: "company.create", Object: object(id), After: d})
	})
	if err != nil {
		return Organisation{}, fmt.Errorf("create organisation %s: %w", d.INN, err)
	}
	return s.Get(ctx, id)
}

func object(id int64) string { return fmt.Sprintf("organisation:%d", id) }

// Update replaces an organisation's details (the contract number and date
// stay unless given), audited with the before and after.
func (s *Service) Update(ctx context.Context, actor operator.Actor, id int64, d Details) (Organisation, error) {
	if err := d.Check(); err != nil {
		return Organisation{}, err
	}
	now := s.Clock.Now()
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		before, err := getOrg(ctx, tx, "o.id = ?", id)
		if err != nil {
			return err
		}
		if d.ContractNo == "" {
			d.ContractNo = before.ContractNo
		}
		if d.ContractDate == "" {
			d.ContractDate = before.ContractDate
		}
		_, err = tx.Exec(ctx, `UPDATE organisations SET kind = ?, full_name = ?, short_name = ?, search = ?, inn = ?, kpp = ?, ogrn = ?,
			legal_address = ?, postal_address = ?, bank_name = ?, bik = ?, settlement_account = ?, corr_account = ?, director = ?,
			accountant = ?, email = ?, phone = ?, vat_mode = ?, contract_no = ?, contract_date = ?, balance_mode = ?, closing = ?, updated_at = ? WHERE id = ?`,
			d.Kind, d.FullName, d.ShortName, d.search(), d.INN, d.KPP, d.OGRN, d.LegalAddress, d.PostalAddress, d.BankName, d.BIK,
			d.SettlementAccount, d.CorrAccount, d.Director, d.Accountant, d.Email, d.Phone, d.VATMode, d.ContractNo, d.ContractDate,
			d.BalanceMode, d.Closing, now.UTC(), id)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("organisation INN %s KPP %s or contract %s: %w", d.INN, d.KPP, d.ContractNo, derrors.Exists)
		}
		if err != nil {
			return err
		}
		return operator.Audit(ctx, tx, now, actor, operator.Entry{Action: "company.update", Object: object(id), Before: before.Details, After: d})
	})
	if err != nil {
		return Organisation{}, fmt.Errorf("update organisation %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

const orgCols = `o.id, o.kind, o.full_name, o.short_name, o.inn, o.kpp, o.ogrn, o.legal_address, o.postal_address, o.bank_name, o.bik,
	o.settlement_account, o.corr_account, o.director, o.accountant, o.email, o.phone, o.vat_mode, o.contract_no, o.contract_date,
	o.balance_mode, o.closing, o.ledger_id, o.debt_since, o.created_at, o.updated_at`

func scanOrg(row interface{ Scan(...any) error }) (Organisation, error) {
	var o Organisation
	var debt sql.NullTime
	err := row.Scan(&o.ID, &o.Kind, &o.FullName, &o.ShortName, &o.INN, &o.KPP, &o.OGRN, &o.LegalAddress, &o.PostalAddress, &o.BankName, &o.BIK,
		&o.SettlementAccount, &o.CorrAccount, &o.Director, &o.Accountant, &o.Email, &o.Phone, &o.VATMode, &o.ContractNo, &o.ContractDate,
		&o.BalanceMode, &o.Closing, &o.LedgerID, &debt, &o.CreatedAt, &o.UpdatedAt)
	o.DebtSince = debt.Time
	return o, err
}

type queryer interface {
	QueryRow(context.Context, string, ...any) *sql.Row
	Query(context.Context, string, ...any) (*sql.Rows, error)
}

var errNoOrg error = derrors.New(derrors.NotFound, "company_not_found", "no such organisation")

func getOrg(ctx context.Context, q queryer, where string, arg any) (Organisation, error) {
	o, err := scanOrg(q.QueryRow(ctx, `SELECT `+orgCols+` FROM organisations o WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("organisation %v: %w", arg, errNoOrg)
	}
	if err != nil {
		return o, fmt.Errorf("organisation %v: %w", arg, err)
	}
	return o, nil
}

// Get finds an organisation by id.
func (s *Service) Get(ctx context.Context, id int64) (Organisation, error) {
	return getOrg(ctx, s.DB, "o.id = ?", id)
}

// GetTx is Get inside a transaction.
func (s *Service) GetTx(ctx context.Context, tx *store.Tx, id int64) (Organisation, error) {
	return getOrg(ctx, tx, "o.id = ?", id)
}

// ByINN finds the organisation with inn; of a head office and its branches
// (the same INN, several KPPs) the one signed first.
func (s *Service) ByINN(ctx context.Context, inn string) (Organisation, error) {
	all, err := s.AllByINN(ctx, s.DB, inn)
	if err != nil {
		return Organisation{}, err
	}
	if len(all) == 0 {
		return Organisation{}, fmt.Errorf("organisation INN %s: %w", inn, errNoOrg)
	}
	return all[0], nil
}

// AllByINN lists the organisations with inn, the first signed first.
func (s *Service) AllByINN(ctx context.Context, q queryer, inn string) ([]Organisation, error) {
	return collect(q.Query(ctx, `SELECT `+orgCols+` FROM organisations o WHERE o.inn = ? ORDER BY o.id`, digitsOnly(inn)))
}

// ByContract finds an organisation by its contract number.
func (s *Service) ByContract(ctx context.Context, no string) (Organisation, error) {
	return getOrg(ctx, s.DB, "o.contract_no = ?", clean(no))
}

func collect(rows *sql.Rows, err error) ([]Organisation, error) {
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	defer rows.Close()
	var out []Organisation
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, fmt.Errorf("organisations: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Query narrows List: Q is a piece of the name or the INN.
type Query struct {
	Q      string
	Offset int
	Limit  int // default 50, at most 500
}

// Page is a page of organisations and how many match in all.
type Page struct {
	Items []Organisation
	Total int
}

// List pages through organisations by name, or finds them by a piece of
// the name or INN.
func (s *Service) List(ctx context.Context, q Query) (Page, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	where, args := "", []any{}
	if t := strings.TrimSpace(q.Q); t != "" {
		p := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(t)) + "%"
		where, args = ` WHERE o.search LIKE ? ESCAPE '\' OR o.contract_no = ?`, []any{p, t}
	}
	var page Page
	if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM organisations o`+where, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("organisations: %w", err)
	}
	items, err := collect(s.DB.Query(ctx, `SELECT `+orgCols+` FROM organisations o`+where+` ORDER BY o.short_name, o.id LIMIT ? OFFSET ?`,
		append(args, q.Limit, max(q.Offset, 0))...))
	page.Items = items
	return page, err
}

// Search is List's first page for q.
func (s *Service) Search(ctx context.Context, q string, limit int) ([]Organisation, error) {
	p, err := s.List(ctx, Query{Q: q, Limit: limit})
	return p.Items, err
}

// Balance is an organisation's money: the contract's own balance, the sum
// of its points' balances, and their total, which is what the company owes
// (negative) or has paid ahead.
type Balance struct {
	Contract  money.Amount // the organisation's ledger account
	Points    money.Amount // Σ of the points' balances
	Total     money.Amount
	DebtSince time.Time // the oldest debt of a point, zero without
	// Monthly is Σ of the tariff fees of the points in service;
	// Recommended is what to pay for the next month: Monthly − Total,
	// never below zero (packages are not counted).
	Monthly     money.Amount
	Recommended money.Amount
}

// Balance reads an organisation's balance.
func (s *Service) Balance(ctx context.Context, id int64) (Balance, error) {
	return balanceOf(ctx, s.DB, id)
}

func balanceOf(ctx context.Context, q queryer, id int64) (Balance, error) {
	var b Balance
	var debt store.Time
	err := q.QueryRow(ctx, `SELECT l.balance,
		COALESCE((SELECT SUM(pl.balance) FROM company_points p JOIN accounts a ON a.id = p.account_id JOIN ledger_accounts pl ON pl.id = a.ledger_id WHERE p.organisation_id = o.id), 0),
		COALESCE((SELECT SUM(t.fee) FROM company_points p JOIN accounts a ON a.id = p.account_id JOIN tariffs t ON t.id = a.tariff_id
			WHERE p.organisation_id = o.id AND a.status IN ('active', 'limited')), 0)
		FROM organisations o JOIN ledger_accounts l ON l.id = o.ledger_id WHERE o.id = ?`, id).Scan(&b.Contract, &b.Points, &b.Monthly)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("organisation %d: %w", id, errNoOrg)
	}
	if err != nil {
		return b, fmt.Errorf("balance of organisation %d: %w", id, err)
	}
	b.Total = b.Contract + b.Points
	b.Recommended = max(b.Monthly-b.Total, 0)
	if err := q.QueryRow(ctx, `SELECT MIN(a.debt_since) FROM company_points p JOIN accounts a ON a.id = p.account_id WHERE p.organisation_id = ?`, id).Scan(&debt); err != nil {
		return b, fmt.Errorf("balance of organisation %d: %w", id, err)
	}
	b.DebtSince = debt.Time
	return b, nil
}
