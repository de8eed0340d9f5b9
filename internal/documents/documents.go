// Package documents issues the accounting documents of company clients: the
// invoice (счёт на оплату) for the next month, the act (акт оказанных услуг)
// or UPD (УПД) for the past month, and the reconciliation act (акт сверки)
// for any period. A document is numbered in its kind's series for the year
// without gaps, in the transaction that stores it; once issued it never
// changes — its data and its PDF are stored, and a correction is a new
// document. Only its status moves: issued → sent → paid.
//
// The organisations themselves belong to internal/company; this package
// reads them through Directory, as Party values.
package documents

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/signintech/gopdf"

	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Kind is a kind of document; each has its own number series per year.
type Kind string

const (
	Invoice        Kind = "invoice"        // счёт на оплату
	Act            Kind = "act"            // акт оказанных услуг
	UPD            Kind = "upd"            // универсальный передаточный документ
	Reconciliation Kind = "reconciliation" // акт сверки взаимных расчётов
)

// Kinds lists every kind.
var Kinds = []Kind{Invoice, Act, UPD, Reconciliation}

// Status is where a document is in its life.
type Status string

const (
	Issued Status = "issued"
	Sent   Status = "sent" // e-mailed to the organisation (queued for delivery)
	Paid   Status = "paid" // an invoice covered by payments
)

// Party is one side of a document: the provider (from [provider]) or an
// organisation (from internal/company).
type Party struct {
	ID            int64  `json:"id,omitempty"` // the organisation's id; 0 for the provider
	Name          string `json:"name"`         // full name: Общество с ограниченной ответственностью «Ромашка»
	ShortName     string `json:"short_name,omitempty"`
	INN           string `json:"inn,omitempty"`
	KPP           string `json:"kpp,omitempty"`
	OGRN          string `json:"ogrn,omitempty"`
	Address       string `json:"address,omitempty"` // legal address
	PostalAddress string `json:"postal_address,omitempty"`
	Phone         string `json:"phone,omitempty"`
	Bank          string `json:"bank,omitempty"` // the bank's name and city
	BIK           string `json:"bik,omitempty"`
	Account       string `json:"account,omitempty"`      // расчётный счёт
	CorrAccount   string `json:"corr_account,omitempty"` // корреспондентский счёт
	Director      string `json:"director,omitempty"`     // the head who signs, e.g. Иванов И. И.
	DirectorTitle string `json:"director_title,omitempty"`
	Accountant    string `json:"accountant,omitempty"`
	Email         string `json:"email,omitempty"` // where documents are sent
	ContractNo    string `json:"contract_no,omitempty"`
	ContractDate  string `json:"contract_date,omitempty"` // YYYY-MM-DD
	// Closing is the document the organisation gets for a past month: Act
	// or UPD; empty: [documents] closing.
	Closing Kind `json:"-"`
	// WithoutVAT: the contract is without VAT ("Без НДС").
	WithoutVAT bool `json:"-"`
	// LedgerID is the organisation's own ledger account (the contract's
	// balance, which payments reach before they move to the points); 0
	// when its money lives on the points only.
	LedgerID int64 `json:"-"`
	// Points are the organisation's connection points (accounts).
	Points []Point `json:"-"`
	// Former are points that have left the contract (Point.Left): the
	// act of the month one left in lists its charges until it left.
	Former []Point `json:"-"`
}

// Title is the name documents print: the short one when there is one.
func (p Party) Title() string {
	if p.ShortName != "" {
		return p.ShortName
	}
	return p.Name
}

// Point is one connection point of an organisation: an account.
type Point struct {
	AccountID int64
	Login     string
	Address   string
	Left      time.Time // Party.Former only: when it left the contract
}

// Directory gives the organisations documents are issued to.
// internal/company implements it; tests and benchmarks use Parties.
type Directory interface {
	// Organisations lists every organisation with its points.
	Organisations(ctx context.Context) ([]Party, error)
	// Organisation is one by id, derrors.NotFound when there is none.
	Organisation(ctx context.Context, id int64) (Party, error)
}

// Parties is a Directory over a fixed list.
type Parties []Party

func (ps Parties) Organisations(context.Context) ([]Party, error) { return ps, nil }

func (ps Parties) Organisation(_ context.Context, id int64) (Party, error) {
	for _, p := range ps {
		if p.ID == id {
			return p, nil
		}
	}
	return Party{}, fmt.Errorf("organisation %d: %w", id, derrors.NotFound)
}

// Line is one row of a document's items table.
type Line struct {
	Name      string       `json:"name"`
	Qty       int64        `json:"qty"`
	Unit      string       `json:"unit"`
	Price     money.Amount `json:"price"`
	Sum       money.Amount `json:"sum"`
	VAT       money.Amount `json:"vat"`
	AccountID int64        `json:"account_id,omitempty"`
	Service   string       `json:"service,omitempty"`
}

// Entry is one row of a reconciliation act, as the provider's books have
// it: Debit is what the organisation was charged (services rendered),
// Credit what it paid.
type Entry struct {
	Date   string       `json:"date"` // YYYY-MM-DD
	Text   string       `json:"text"`
	Debit  money.Amount `json:"debit,omitempty"`
	Credit money.Amount `json:"credit,omitempty"`
}

// Data is everything a document says: stored as issued (JSON) next to its
// PDF, so that what was issued can always be shown again as it was.
type Data struct {
	Kind      Kind         `json:"kind"`
	Number    string       `json:"number"`
	Date      string       `json:"date"`   // YYYY-MM-DD, the document's date
	Period    string       `json:"period"` // YYYY-MM for invoices, acts and UPDs
	From      string       `json:"from"`   // the period's first day, YYYY-MM-DD
	To        string       `json:"to"`     // its last day
	Seller    Party        `json:"seller"`
	Buyer     Party        `json:"buyer"`
	Basis     string       `json:"basis,omitempty"` // Договор № … от …
	Lines     []Line       `json:"lines,omitempty"`
	Total     money.Amount `json:"total"`
	VAT       money.Amount `json:"vat"`
	VATRate   int64        `json:"vat_rate"` // percent; -1: without VAT
	UPDStatus int          `json:"upd_status,omitempty"`
	PayBy     string       `json:"pay_by,omitempty"` // an invoice's due date
	// Reconciliation: the balance at From (positive: the organisation
	// owes), the movements and the balance after To.
	Opening  money.Amount `json:"opening"`
	Debits   money.Amount `json:"debits"`
	Credits  money.Amount `json:"credits"`
	Closing  money.Amount `json:"closing"`
	Entries  []Entry      `json:"entries,omitempty"`
	Corrects string       `json:"corrects,omitempty"` // the number of the document this one replaces
}

// WithoutVAT tells a document of a provider on the simplified tax system.
func (d Data) WithoutVAT() bool { return d.VATRate < 0 }

// Document is an issued document as lists show it.
type Document struct {
	ID        int64
	Kind      Kind
	Number    string
	Year      int
	Seq       int64
	OrgID     int64
	OrgName   string
	OrgINN    string
	Period    string
	Date      time.Time // the document's date (a day)
	Total     money.Amount
	VAT       money.Amount
	Status    Status
	Paid      money.Amount // invoices: what payments covered so far
	Corrects  int64
	CreatedAt time.Time
	SentAt    time.Time
	PaidAt    time.Time
}

// Title is "Счёт на оплату № 2026-000123 от 25.12.2025" in Russian.
func (d Document) Title() string {
	return fmt.Sprintf("%s № %s от %s", TitleOf(d.Kind), d.Number, d.Date.Format("02.01.2006"))
}

// FileName is the PDF's name for download and mail: invoice-2026-000123.pdf.
func (d Document) FileName() string { return fmt.Sprintf("%s-%s.pdf", d.Kind, d.Number) }

// TitleOf is a kind's Russian name as a document's title starts.
func TitleOf(k Kind) string {
	switch k {
	case Invoice:
		return "Счёт на оплату"
	case Act:
		return "Акт оказанных услуг"
	case UPD:
		return "Универсальный передаточный документ"
	case Reconciliation:
		return "Акт сверки взаимных расчётов"
	}
	return string(k)
}

// Options are the rules from [provider] and [documents].
type Options struct {
	Provider   config.Provider
	Zone       *time.Location
	InvoiceDay int  // the day of the month invoices for the next one are issued
	Closing    Kind // Act or UPD by default
	WithoutVAT bool // the provider is on the simplified tax system
	VATRates   []VATRate
	PayDays    int // an invoice is due this many days after its date... at most its period's start
	Log        *slog.Logger
}

// OptionsFrom reads cfg.
func OptionsFrom(cfg config.Config) (Options, error) {
	d := cfg.Documents
	o := Options{Provider: cfg.Provider, Zone: cfg.Zone(), InvoiceDay: d.InvoiceDay, Closing: Kind(d.Closing), WithoutVAT: d.WithoutVAT, PayDays: d.PayDays}
	if len(d.VATRates) > 0 {
		rates, err := ParseVATRates(d.VATRates)
		if err != nil {
			return o, err
		}
		o.VATRates = rates
	}
	return o, nil
}

// Service issues, stores, lists and sends documents.
type Service struct {
	db    *store.DB
	clock clock.Clock
	dir   Directory
	opts  Options
	fonts *gopdf.FontContainer
	// subset draws the documents whose text it covers: most of them.
	subset fontSet
	// Mailer sends documents by e-mail; nil: Send refuses.
	Mailer Mailer
}

// New makes a Service. The fonts are parsed once here: every PDF then
// copies them instead of parsing 700 KB of TrueType again.
func New(db *store.DB, clk clock.Clock, dir Directory, fonts contract.Fonts, o Options) (*Service, error) {
	if o.Zone == nil {
		o.Zone = time.UTC
	}
	if o.InvoiceDay == 0 {
		o.InvoiceDay = 25
	}
	if o.Closing == "" {
		o.Closing = Act
	}
	if o.Closing != Act && o.Closing != UPD {
		return nil, fmt.Errorf("[documents] closing %q: act or upd: %w", o.Closing, derrors.Invalid)
	}
	if len(o.VATRates) == 0 {
		o.VATRates = DefaultVATRates()
	}
	if o.PayDays <= 0 {
		o.PayDays = 5
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	fc := &gopdf.FontContainer{}
	if err := fc.AddTTFFontData("dejavu", fonts.Regular); err != nil {
		return nil, fmt.Errorf("documents: font: %w", err)
	}
	if err := fc.AddTTFFontData("dejavu-bold", fonts.Bold); err != nil {
		return nil, fmt.Errorf("documents: font: %w", err)
	}
	subset, err := subsetFonts()
	if err != nil {
		return nil, fmt.Errorf("documents: font: %w", err)
	}
	return &Service{db: db, clock: clk, dir: dir, opts: o, fonts: fc, subset: subset}, nil
}

// SetDirectory replaces where organisations come from (the company
// capability, once wired).
func (s *Service) SetDirectory(d Directory) { s.dir = d }

// Options are the rules the service runs with.
func (s *Service) Options() Options { return s.opts }

// Seller is the provider as documents name it.
func (s *Service) Seller() Party {
	p := s.opts.Provider
	return Party{Name: p.LegalName, INN: p.INN, KPP: p.KPP, OGRN: p.OGRN, Address: p.Address, Phone: p.Phone,
		Bank: p.Bank, BIK: p.BIK, Account: p.Account, CorrAccount: p.CorrAccount,
		Director: p.Director, DirectorTitle: p.DirectorTitle, Accountant: p.Accountant, Email: p.Email}
}

// vatRate is the rate on day, -1 without VAT.
func (s *Service) vatRate(day time.Time) int64 {
	if s.opts.WithoutVAT {
		return -1
	}
	r := RateOn(s.opts.VATRates, day)
	if r < 0 {
		return 0
	}
	return r
}

// FormatNumber writes a document's number: the year and its place in the
// year's series, "2026-000123". A payment's purpose names an invoice so.
func FormatNumber(year int, seq int64) string { return fmt.Sprintf("%d-%06d", year, seq) }

// ParsePeriod reads "YYYY-MM" as the month's first day in zone.
func ParsePeriod(s string, zone *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01", strings.TrimSpace(s), zone)
	if err != nil {
		return time.Time{}, derrors.Invalidf("period", "period", "period %q: want YYYY-MM", s)
	}
	return t, nil
}

var monthsRu = []string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}
var monthsGenRu = []string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}

// MonthRu is "январь 2026 г.".
func MonthRu(t time.Time) string { return fmt.Sprintf("%s %d г.", monthsRu[t.Month()-1], t.Year()) }

// DateRu is "25 декабря 2025 г.", as titles of documents write dates.
func DateRu(t time.Time) string {
	return fmt.Sprintf("%d %s %d г.", t.Day(), monthsGenRu[t.Month()-1], t.Year())
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func parseDay(s string) time.Time {
	t, _ := time.Parse("2006-01-02", s)
	return t
}
