// Package config reads Kabinet's settings: one TOML file plus KABINET_*
// environment variables, with defaults that let `kabinet demo` run with
// neither.
package config

import (
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/kabinet-billing/kabinet/internal/money"
)

// GCPercent is the garbage collector's target Kabinet runs with unless the
// GOGC environment variable sets one. The data lives in the database, so
// little of the heap survives a collection (14 MB serving the portal for
// 100,000 subscribers), and Go's default of 100 then collects a dozen times
// a second under load, a tenth of the CPU. At 400 the heap grows to five
// times what survives before the next collection: tens of megabytes more
// for a quarter of the collections.
const GCPercent = 400

// SetGC applies GCPercent unless GOGC is set. Every command calls it before
// it starts, and so do the benchmarks that stand in for `kabinet serve`.
func SetGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}

// Office is a place where subscribers are served.
type Office struct {
	Address string `toml:"address"`
	Hours   string `toml:"hours"`
	Phone   string `toml:"phone"` // optional: the office's own line
	// City is the code of the city the office serves; empty: shown in
	// every city.
	City string `toml:"city"`
}

// Provider describes the ISP to its subscribers (pages, statements, mail).
type Provider struct {
	Name      string   `toml:"name"`
	LegalName string   `toml:"legal_name"`
	INN       string   `toml:"inn"`
	Address   string   `toml:"address"`
	Phone     string   `toml:"phone"`
	Email     string   `toml:"email"`
	Site      string   `toml:"site"`
	Offices   []Office `toml:"offices"`
	// The details company clients' documents (invoices, acts) print: the
	// KPP and OGRN, the bank account payments are made to, and who signs.
	KPP           string `toml:"kpp"`
	OGRN          string `toml:"ogrn"`
	Bank          string `toml:"bank"`         // the bank's name and city
	BIK           string `toml:"bik"`          // 9 digits
	Account       string `toml:"account"`      // расчётный счёт, 20 digits
	CorrAccount   string `toml:"corr_account"` // the bank's correspondent account, 20 digits
	Director      string `toml:"director"`     // e.g. "Петров П. П."
	DirectorTitle string `toml:"director_title"`
	Accountant    string `toml:"accountant"`
	// The portal installed as an app: its names under the icon on the
	// home screen, Russian and English (empty: Name, then the Russian
	// one), and its colours as #rrggbb (empty: the portal's blue on its
	// light grey). The icons are drawn in ThemeColor.
	NameEn          string `toml:"name_en"`
	ShortName       string `toml:"short_name"`
	ShortNameEn     string `toml:"short_name_en"`
	ThemeColor      string `toml:"theme_color"`
	BackgroundColor string `toml:"background_color"`
}

// WithDemoDetails is p with the made-up company's KPP, OGRN, bank account
// and signatories, for the demo and tests. The defaults do not carry them:
// a provider's config that forgot its own account must never print the
// demo's on an invoice.
func (p Provider) WithDemoDetails() Provider {
	p.KPP, p.OGRN = "695001001", "1026900000126"
	p.Bank = "Тверское отделение № 8607 ПАО Сбербанк, г. Тверь"
	p.BIK, p.Account, p.CorrAccount = "042809679", "40702810863000000100", "30101810700000000679"
	p.Director, p.DirectorTitle, p.Accountant = "Петров П. П.", "Генеральный директор", "Сидорова С. С."
	return p
}

// Documents is the [documents] section: company clients' invoices and
// acts (internal/documents reads it).
type Documents struct {
	// InvoiceDay is the day of the month on which invoices for the next
	// month are issued; default 25.
	InvoiceDay int `toml:"invoice_day"`
	// Closing is the past month's document: "act" (default) or "upd".
	Closing string `toml:"closing"`
	// WithoutVAT: the provider is on the simplified tax system; documents
	// say "Без НДС" and a UPD has status 2.
	WithoutVAT bool `toml:"without_vat"`
	// VATRates are the VAT rates in force from each date, "YYYY-MM-DD:RATE";
	// default ["2019-01-01:20", "2026-01-01:22"].
	VATRates []string `toml:"vat_rates"`
	// PayDays is how many days after its date an invoice is due; default 5.
	PayDays int `toml:"pay_days"`
	// Disabled stops serve from issuing documents by itself.
	Disabled bool `toml:"disabled"`
}

// Check validates the section.
func (d Documents) Check() error {
	if d.InvoiceDay < 1 || d.InvoiceDay > 28 {
		return fmt.Errorf("[documents] invoice_day must be from 1 to 28, not %d", d.InvoiceDay)
	}
	if d.Closing != "act" && d.Closing != "upd" {
		return fmt.Errorf("[documents] closing %q: \"act\" or \"upd\"", d.Closing)
	}
	if d.PayDays < 0 || d.PayDays > 90 {
		return fmt.Errorf("[documents] pay_days must be from 0 to 90, not %d", d.PayDays)
	}
	for _, r := range d.VATRates {
		day, rate, ok := strings.Cut(r, ":")
		_, derr := time.Parse("2006-01-02", strings.TrimSpace(day))
		n, rerr := strconv.Atoi(strings.TrimSpace(rate))
		if !ok || derr != nil || rerr != nil || n < 0 || n > 99 {
			return fmt.Errorf("[documents] vat_rates %q: want \"YYYY-MM-DD:RATE\", e.g. \"2026-01-01:22\"", r)
		}
	}
	return nil
}

// checkDetails validates the provider's document details that are given:
// each is digits of its length, and the account's control key matches the
// BIK (the Bank of Russia's rule), so that a typo never reaches an invoice
// a company pays by.
func (p Provider) checkDetails() error {
	digits := func(key, v string, n ...int) error {
		if v == "" {
			return nil
		}
		for _, c := range v {
			if c < '0' || c > '9' {
				return fmt.Errorf("[provider] %s %q: digits only", key, v)
			}
		}
		for _, l := range n {
			if len(v) == l {
				return nil
			}
		}
		return fmt.Errorf("[provider] %s %q: must be %v digits long", key, v, n)
	}
	for _, f := range []struct {
		key, v string
		n      []int
	}{{"kpp", p.KPP, []int{9}}, {"ogrn", p.OGRN, []int{13, 15}}, {"bik", p.BIK, []int{9}}, {"account", p.Account, []int{20}}, {"corr_account", p.CorrAccount, []int{20}}} {
		if err := digits(f.key, f.v, f.n...); err != nil {
			return err
		}
	}
	if p.Account != "" || p.CorrAccount != "" {
		if p.BIK == "" {
			return fmt.Errorf("[provider] account and corr_account need bik")
		}
	}
	if p.Account != "" && !AccountKeyOK(p.BIK, p.Account, false) {
		return fmt.Errorf("[provider] account %q: its control digit does not match bik %s", p.Account, p.BIK)
	}
	if p.CorrAccount != "" && !AccountKeyOK(p.BIK, p.CorrAccount, true) {
		return fmt.Errorf("[provider] corr_account %q: its control digit does not match bik %s", p.CorrAccount, p.BIK)
	}
	return nil
}

// AccountKeyOK checks a bank account's control digit against the BIK: the
// last three digits of the BIK (for a correspondent account, "0" and the
// BIK's fifth and sixth digits) before the 20 digits of the account,
// weighted 7, 1, 3 repeating, sum to a multiple of 10.
func AccountKeyOK(bik, account string, corr bool) bool {
	if len(bik) != 9 || len(account) != 20 {
		return false
	}
	prefix := bik[6:9]
	if corr {
		prefix = "0" + bik[4:6]
	}
	weights := []int{7, 1, 3}
	sum := 0
	for i, c := range prefix + account {
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * weights[i%3] % 10
	}
	return sum%10 == 0
}

// AppName is the installed app's full name in lang.
func (p Provider) AppName(lang string) string {
	if lang == "en" && p.NameEn != "" {
		return p.NameEn
	}
	return p.Name
}

// AppShortName is the name under the app's icon in lang: short_name(_en),
// else the full name.
func (p Provider) AppShortName(lang string) string {
	if lang == "en" && p.ShortNameEn != "" {
		return p.ShortNameEn
	}
	if p.ShortName != "" {
		return p.ShortName
	}
	return p.AppName(lang)
}

// Theme is the app's colour (the title bar, the icons' background).
func (p Provider) Theme() string {
	if p.ThemeColor != "" {
		return p.ThemeColor
	}
	return "#2a62d6"
}

// Background is the app's splash-screen colour.
func (p Provider) Background() string {
	if p.BackgroundColor != "" {
		return p.BackgroundColor
	}
	return "#f4f6fa"
}

// isColor reports a #rrggbb colour.
func isColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	_, err := hex.DecodeString(s[1:])
	return err == nil
}

// Billing rules.
type Billing struct {
	Zone           string `toml:"zone"`             // provider's time zone
	GraceMonths    int    `toml:"grace_months"`     // debt older than this limits the line
	GraceDays      int    `toml:"grace_days"`       // added to GraceMonths
	LimitKbps      int64  `toml:"limit_kbps"`       // the limit rate
	BonusPercentBP int64  `toml:"bonus_percent_bp"` // bonus points per payment, basis points (100 = 1%)
}

// Web is the [web] section: the HTTP server.
type Web struct {
	// TrustedProxies are the reverse proxies (nginx terminating TLS) in
	// front of Kabinet, networks or single addresses. Only from those is
	// X-Forwarded-For believed; by default no proxy is trusted and the
	// client is the connection's peer.
	TrustedProxies []string `toml:"trusted_proxies"`
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration `toml:"read_header_timeout"`
	// BodyTimeout bounds reading a request's body, counted from the
	// moment its handler starts: a client trickling a byte every few
	// seconds cannot hold a connection longer.
	BodyTimeout time.Duration `toml:"body_timeout"`
	// IdleTimeout closes a kept-alive connection waiting for its next
	// request.
	IdleTimeout time.Duration `toml:"idle_timeout"`
}

// Site is the [site] section: the public site.
type Site struct {
	// RedirectFrom are old portal paths (e.g. "/cabinet/") that now send
	// visitors to the portal's login.
	RedirectFrom []string `toml:"redirect_from"`
	// PrivacyURL is the provider's policy on personal data (152-FZ, art.
	// 18.1: published), linked where the application form asks for consent.
	PrivacyURL string `toml:"privacy_url"`
	// Coverage is, per city code, where the provider connects (districts,
	// streets, villages), shown on the site when that city is chosen.
	Coverage map[string][]string `toml:"coverage"`
}

// Contract is the [contract] section: what a new contract must state.
type Contract struct {
	// Passport is how the contract form treats the subscriber's passport
	// (series, number, issued by, date): "required", "optional" (checked
	// when any part is given; the default) or "off" (not asked).
	Passport string `toml:"passport"`
}

// Passport values of [contract].
const (
	PassportRequired = "required"
	PassportOptional = "optional"
	PassportOff      = "off"
)

// HowToPay is one [[payment.howto]]: a bank, terminal network or office
// where the subscriber pays by typing the contract number, shown on the
// portal's "How to pay" page in the order given.
type HowToPay struct {
	Name    string `toml:"name"`    // "Сбербанк Онлайн"
	NameEn  string `toml:"name_en"` // optional
	Steps   string `toml:"steps"`   // where to find the provider, in the bank's words
	StepsEn string `toml:"steps_en"`
	URL     string `toml:"url"` // optional: the bank's site or app
	Fee     string `toml:"fee"` // optional: what the bank charges, as text ("без комиссии")
	FeeEn   string `toml:"fee_en"`
}

// API is the [api] section: the JSON API for the mobile app.
type API struct {
	// AppSchemes are the URL schemes the app opens: a card payment's
	// return_url may use them besides public_url.
	AppSchemes []string `toml:"app_schemes"`
}

// TLS is the [tls] section. With both files set, `kabinet serve` speaks
// HTTPS itself; without, plain HTTP for a reverse proxy.
type TLS struct {
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// Radius is the [radius] section.
type Radius struct {
	Auth     string `toml:"auth_addr"`
	Acct     string `toml:"acct_addr"`
	Disabled bool   `toml:"disabled"`
	// The accounting journal: nil means on for SQLite, off for
	// PostgreSQL; its directory by default beside the SQLite file, or in
	// data_dir on PostgreSQL.
	Journal      *bool  `toml:"journal"`
	JournalDir   string `toml:"journal_dir"`
	JournalFsync bool   `toml:"journal_fsync"`
	JournalMaxMB int64  `toml:"journal_max_mb"`
}

// NetFlow is the [netflow] section: the flow collector, off without addr.
type NetFlow struct {
	Addr         string `toml:"addr"`
	FlushSeconds int    `toml:"flush_seconds"`
}

// Mail is the [mail] section: outgoing mail over SMTP.
type Mail struct {
	Host               string `toml:"host"`
	Port               int    `toml:"port"`
	Security           string `toml:"security"`
	Username           string `toml:"username"`
	Password           string `toml:"password"`
	From               string `toml:"from"`
	HeloName           string `toml:"helo_name"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"` // test relays with self-signed certificates only
	MaxAttempts        int    `toml:"max_attempts"`         // before a letter is given up; default 8
	LowBalanceDays     int    `toml:"low_balance_days"`     // remind this many days before the 1st; default 3
	Disabled           bool   `toml:"disabled"`
}

// Payment is the [payment] section: card processors and OSMP channels.
type Payment struct {
	DefaultProcessor string `toml:"default_processor"`
	// AllowSandbox must be set for the sandbox processor to run: it
	// credits payments without taking money.
	AllowSandbox bool          `toml:"allow_sandbox"`
	Processors   []Processor   `toml:"processors"`
	OSMP         []OSMPChannel `toml:"osmp"`
	// CashLimit is, per operator role, the largest cash payment it may take
	// without a manager's confirmation ("100000.00"; "0": no limit).
	CashLimit map[string]string `toml:"cash_limit"`
	// HowTo are the banks, terminals and offices the portal's "How to pay"
	// page lists.
	HowTo []HowToPay `toml:"howto"`
	// TrustedProxies is refused with a pointer to [web] trusted_proxies,
	// the one list of proxies every surface (the OSMP allow lists too) uses.
	TrustedProxies []string `toml:"trusted_proxies"`
}

// Processor is one card processor.
type Processor struct {
	Kind          string            `toml:"kind"` // "chronopay", "sandbox", …
	Name          string            `toml:"name"` // defaults to Kind
	Secret        string            `toml:"secret"`
	ProductID     string            `toml:"product_id"`     // ChronoPay's product_id
	PageURL       string            `toml:"page_url"`       // the hosted page's address; defaults per kind
	SecurityPhone string            `toml:"security_phone"` // the processor security service's phone
	Currency      string            `toml:"currency"`       // defaults to RUB
	Options       map[string]string `toml:"options"`
	// YooKassa: the shop's id and secret key (HTTP basic auth), the API's
	// address (default https://api.yookassa.ru/v3; tests point it at a fake)
	// and the networks its notifications may come from (default: the ones
	// YooKassa publishes).
	ShopID     string   `toml:"shop_id"`
	SecretKey  string   `toml:"secret_key"`
	APIURL     string   `toml:"api_url"`
	NotifyFrom []string `toml:"notify_from"`
	// SBP offers the Faster Payments System's QR code beside the card where
	// the processor supports it (YooKassa, the sandbox); default on.
	SBP *bool `toml:"sbp"`
	// Receipts = "yookassa": YooKassa issues the 54-FZ receipts of this
	// processor's payments and refunds ("Чеки от ЮKassa"), from the
	// receipt object Kabinet sends with each (signs from [fiscal]); the
	// fiscal queue then sends none of its own for them. Empty: Kabinet's
	// own receipts through [fiscal].
	Receipts string `toml:"receipts"`
	// VATCode overrides the receipt's YooKassa vat_code (1–12), which is
	// otherwise derived from [fiscal] vat and payment_method.
	VATCode int `toml:"vat_code"`
}

// OSMPChannel is one bank's or terminal network's settings.
type OSMPChannel struct {
	Name     string   `toml:"name"`
	Login    string   `toml:"login"`
	Password string   `toml:"password"`
	Allow    []string `toml:"allow"`   // addresses and networks
	MinSum   string   `toml:"min_sum"` // "10.00"; empty: no minimum
	MaxSum   string   `toml:"max_sum"` // empty: no maximum
	Zone     string   `toml:"zone"`    // zone of txn_date; empty: the provider's
	// Registry is where this bank's registry keeps each field, when it
	// differs from the default layout.
	Registry RegistryColumns `toml:"registry"`
}

// RegistryColumns configures a bank's registry layout. Columns are counted
// from 1, as banks' own descriptions count them; 0 keeps the default.
type RegistryColumns struct {
	Separator  string `toml:"separator"` // ";" or ","; empty: detected
	TxnID      int    `toml:"txn_id"`
	Date       int    `toml:"date"`
	Account    int    `toml:"account"`
	Sum        int    `toml:"sum"`
	DateLayout string `toml:"date_layout"` // Go layout, e.g. "02-01-2006"
	TotalCount int    `toml:"total_count"` // in the totals line, after its marker
	TotalSum   int    `toml:"total_sum"`
}

// Promise is the [promise] section: the rules of the promised payment
// (internal/promise reads them).
type Promise struct {
	Disabled bool `toml:"disabled"`
	// Days the line runs unlimited; default 3.
	Days int `toml:"days"`
	// EveryDays: at most one promise in this many days, counted from the
	// last one taken; default 30.
	EveryDays int `toml:"every_days"`
	// MaxAmount is the largest amount promised ("1500.00"); empty: the
	// recommended payment.
	MaxAmount string `toml:"max_amount"`
	// Fee is charged when a promise is taken ("0" or empty: none).
	Fee string `toml:"fee"`
	// MaxDebtDays refuses a promise to debt older than this; default 90, 0:
	// any age.
	MaxDebtDays int `toml:"max_debt_days"`
}

// Suspension is the [suspension] section: the rules of the voluntary
// suspension ("добровольная блокировка"; internal/suspension reads them).
type Suspension struct {
	Disabled bool `toml:"disabled"`
	// MinDays and MaxDays bound one suspension's length; default 7 and 90.
	MinDays int `toml:"min_days"`
	MaxDays int `toml:"max_days"`
	// MaxPerYear: at most this many suspensions starting in one calendar
	// year; default 2, 0: no limit.
	MaxPerYear int `toml:"max_per_year"`
	// AheadDays: how far ahead a suspension may be scheduled; default 30.
	AheadDays int `toml:"ahead_days"`
	// MonthlyFee is charged instead of the tariff while frozen, prorated
	// by day ("50.00"); empty or "0": none.
	MonthlyFee string `toml:"monthly_fee"`
	// Radius is how RADIUS answers a frozen account: "reject" (default),
	// or the name of the NAS address list (walled garden) to admit it into,
	// so that the router redirects it to the portal.
	Radius string `toml:"radius"`
}

// Fiscal is the [fiscal] section: 54-FZ receipts for payments from people,
// sent to a fiscal data operator (ATOL Online). Off without an operator.
type Fiscal struct {
	// Operator is "atol" (ATOL Online API v5) or "sandbox" (a built-in
	// ATOL-compatible fake, for the demo and trials); empty: no receipts.
	Operator  string `toml:"operator"`
	APIURL    string `toml:"api_url"` // default https://online.atol.ru/possystem/v5
	Login     string `toml:"login"`
	Password  string `toml:"password"`
	GroupCode string `toml:"group_code"`
	// Channels whose payments need the provider's own receipt: a name
	// covers the channel itself and every "name:…" under it ("card" covers
	// "card:yookassa"). Default card, sbp, autopay and cash; banks and
	// terminals (osmp) issue their own as payment agents.
	Channels []string `toml:"channels"`
	// SNO is the tax system: osn, usn_income, usn_income_outcome, esn, patent.
	SNO string `toml:"sno"`
	// VAT is the rate in percent ("22", "10", "5", "7", "0") or "none"
	// (the simplified tax system without VAT).
	VAT string `toml:"vat"`
	// PaymentMethod and PaymentObject are the item's 54-FZ signs (tags 1214
	// and 1212): a top-up of the balance is an advance for services not
	// yet rendered, so by default "advance" and 10 (a payment).
	PaymentMethod string `toml:"payment_method"`
	PaymentObject int    `toml:"payment_object"`
	// Item is the receipt's line; %s becomes the contract number.
	Item string `toml:"item"`
	// CompanyEmail and PaymentAddress default to [provider] email and site.
	CompanyEmail   string `toml:"company_email"`
	PaymentAddress string `toml:"payment_address"`
	// CheckURL builds the receipt's check link when the operator gives
	// none: {fn}, {fd} and {fp} become the receipt's ФН, ФД and ФП.
	CheckURL string        `toml:"check_url"`
	Timeout  time.Duration `toml:"timeout"` // one request to the operator; default 30s
}

// Telegram is the [telegram] section: the subscribers' bot. Off without a
// token.
type Telegram struct {
	// Token is the bot's token from @BotFather ("123456:ABC-...").
	Token string `toml:"token"`
	// APIURL is the Bot API's address; default https://api.telegram.org
	// (tests and a local Bot API server point it elsewhere).
	APIURL string `toml:"api_url"`
	// WebhookSecret is the secret_token Telegram sends back with each
	// webhook request; empty: derived from the token and secret_key.
	WebhookSecret string `toml:"webhook_secret"`
	// Polling forces long polling even when public_url is https (a
	// server Telegram cannot reach).
	Polling bool `toml:"polling"`
	// LinkTTL is how long the portal's "connect Telegram" link works;
	// default 15 minutes.
	LinkTTL time.Duration `toml:"link_ttl"`
}

// SMS is the [sms] section: an SMPP 3.4 gateway (an SMS aggregator's
// SMSC). Off without a host.
type SMS struct {
	Host       string `toml:"host"`
	Port       int    `toml:"port"` // default 2775
	SystemID   string `toml:"system_id"`
	Password   string `toml:"password"`
	SystemType string `toml:"system_type"`
	// SourceAddr is the sender name the aggregator registered for the
	// provider (up to 11 Latin letters) or a number.
	SourceAddr string `toml:"source_addr"`
	// Transmitter binds as transmitter only; by default as transceiver, so
	// that delivery receipts come on the same connection.
	Transmitter bool `toml:"transmitter"`
	// Window is how many submit_sm may await their answer at once;
	// default 10.
	Window int `toml:"window"`
	// Rate is SMS parts per second the aggregator allows; 0: no limit.
	Rate        float64       `toml:"rate"`
	EnquireLink time.Duration `toml:"enquire_link"` // keep-alive; default 30s
	Timeout     time.Duration `toml:"timeout"`      // any answer; default 10s
}

// Check validates the section.
func (s SMS) Check() error {
	switch {
	case s.Host == "":
		return nil
	case s.Port <= 0 || s.Port > 65535:
		return fmt.Errorf("[sms] port must be from 1 to 65535, not %d", s.Port)
	case s.SystemID == "" || len(s.SystemID) > 15:
		return fmt.Errorf("[sms] system_id is required, at most 15 characters")
	case len(s.Password) > 8:
		return fmt.Errorf("[sms] password: SMPP 3.4 allows at most 8 characters")
	case s.SourceAddr == "" || len(s.SourceAddr) > 20:
		return fmt.Errorf("[sms] source_addr is required (the sender name the aggregator registered)")
	case s.Window < 0 || s.Rate < 0:
		return fmt.Errorf("[sms] window and rate cannot be negative")
	}
	return nil
}

// Config is everything Kabinet reads at start: the whole file, decoded once
// into this one structure, every section typed.
type Config struct {
	DB        string `toml:"db"`
	DataDir   string `toml:"data_dir"`
	HTTPAddr  string `toml:"http_addr"`
	PublicURL string `toml:"public_url"`
	SecretKey string `toml:"secret_key"` // hex, 32 bytes: encrypts RADIUS copies of passwords
	// ShutdownTimeout bounds how long `serve` waits, once told to stop,
	// for each part to finish its work before the database is closed.
	ShutdownTimeout time.Duration `toml:"shutdown_timeout"`

	Provider Provider `toml:"provider"`
	Billing  Billing  `toml:"billing"`
	Web      Web      `toml:"web"`
	Site     Site     `toml:"site"`
	TLS      TLS      `toml:"tls"`
	Radius   Radius   `toml:"radius"`
	NetFlow  NetFlow  `toml:"netflow"`
	Payment  Payment  `toml:"payment"`
	Mail     Mail     `toml:"mail"`
	API      API      `toml:"api"`
	Autopay  Autopay  `toml:"autopay"`
	Promise  Promise  `toml:"promise"`
	Fiscal   Fiscal   `toml:"fiscal"`
	Telegram Telegram `toml:"telegram"`
	SMS      SMS      `toml:"sms"`
	Company  Company  `toml:"company"`
	// Documents: company clients' invoices, acts and UPDs.
	Documents Documents `toml:"documents"`
	Contract  Contract  `toml:"contract"`

	Suspension Suspension `toml:"suspension"`

	// defined are the top-level keys and sections the file gave.
	defined map[string]bool
}

// Default is what the demo and a bare `kabinet serve` run with.
func Default() Config {
	return Config{
		DB:              "sqlite:./kabinet.db",
		DataDir:         ".",
		HTTPAddr:        "127.0.0.1:8080",
		ShutdownTimeout: 30 * time.Second,
		Provider: Provider{
			Name:      "Сеть-Регион",
			LegalName: "ООО «Сеть-Регион»",
			INN:       "7701234567",
			Address:   "г. Тверь, ул. Советская, д. 10",
			Phone:     "+7 (4822) 55-00-00",
			Email:     "support@set-region.example",
			Site:      "https://set-region.example",
			Offices: []Office{
				{Address: "Тверь, ул. Советская, 10", Hours: "пн–пт 9:00–19:00, сб 10:00–16:00"},
				{Address: "Торжок, ул. Ленина, 5", Hours: "пн–пт 9:00–18:00"},
			},
		},
		Billing:  Billing{Zone: "Europe/Moscow", GraceMonths: 1, LimitKbps: 128, BonusPercentBP: 100},
		Web:      Web{ReadHeaderTimeout: 10 * time.Second, BodyTimeout: time.Minute, IdleTimeout: 2 * time.Minute},
		Payment:  Payment{CashLimit: map[string]string{"cashier": "100000.00"}},
		Autopay:  Autopay{Enabled: true, DaysBefore: 3, Retries: 2, RetryInterval: 24 * time.Hour, Tick: 10 * time.Minute},
		Promise:  Promise{Days: 3, EveryDays: 30, MaxDebtDays: 90},
		Company:  Company{},
		Contract: Contract{Passport: PassportOptional},
		Fiscal: Fiscal{Channels: []string{"card", "sbp", "autopay", "cash"}, SNO: "osn", VAT: "22",
			PaymentMethod: "advance", PaymentObject: 10, Item: "Оплата услуг связи по договору №%s", Timeout: 30 * time.Second},
		Telegram:  Telegram{APIURL: "https://api.telegram.org", LinkTTL: 15 * time.Minute},
		SMS:       SMS{Port: 2775, Window: 10, EnquireLink: 30 * time.Second, Timeout: 10 * time.Second},
		Documents: Documents{InvoiceDay: 25, Closing: "act", PayDays: 5},

		Suspension: Suspension{MinDays: 7, MaxDays: 90, MaxPerYear: 2, AheadDays: 30, Radius: "reject"},
	}
}

// Company is the [company] section: contracts with organisations
// (internal/company) and their bank transfers.
type Company struct {
	// Accounts are the provider's settlement accounts: a 1C statement's
	// payment orders to one of them are incoming, besides the accounts the
	// statement itself names.
	Accounts []string `toml:"accounts"`
}

// Autopay is the [autopay] section: charging subscribers' saved cards
// before the 1st.
type Autopay struct {
	// Enabled offers autopay in the portal and the API and runs the
	// charges; it needs a processor that can charge saved cards.
	Enabled bool `toml:"enabled"`
	// DaysBefore is how many days before the 1st the charge is made, so
	// that a failed one has time for its retries and for the subscriber.
	DaysBefore int `toml:"days_before"`
	// Retries are the further attempts after a failed charge, RetryInterval
	// apart; a card refused as expired or blocked is not retried.
	Retries       int           `toml:"retries"`
	RetryInterval time.Duration `toml:"retry_interval"`
	// Tick is how often the scheduler looks for charges that are due.
	Tick time.Duration `toml:"tick"`
}

// Check validates the section.
func (a Autopay) Check() error {
	switch {
	case a.DaysBefore < 1 || a.DaysBefore > 27:
		return fmt.Errorf("autopay.days_before must be from 1 to 27, not %d", a.DaysBefore)
	case a.Retries < 0 || a.Retries > 10:
		return fmt.Errorf("autopay.retries must be from 0 to 10, not %d", a.Retries)
	case a.Retries > 0 && a.RetryInterval < time.Minute:
		return fmt.Errorf("autopay.retry_interval must be at least a minute")
	case a.Tick < time.Second:
		return fmt.Errorf("autopay.tick must be at least a second")
	}
	return nil
}

// Load reads path (may be empty) over the defaults, then the environment.
func Load(path string) (Config, error) { return LoadOver(Default(), path) }

// LoadOver reads path (may be empty) over base, then the environment. The
// file is decoded strictly: a key no section has (a misspelling) is an
// error naming the key and its line.
func LoadOver(base Config, path string) (Config, error) {
	c := base
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := c.decode(string(data)); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	env := map[string]*string{
		"KABINET_DB":         &c.DB,
		"KABINET_DATA_DIR":   &c.DataDir,
		"KABINET_HTTP_ADDR":  &c.HTTPAddr,
		"KABINET_PUBLIC_URL": &c.PublicURL,
		"KABINET_SECRET_KEY": &c.SecretKey,
		"KABINET_ZONE":       &c.Billing.Zone,
	}
	for k, p := range env {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			*p = v
		}
	}
	if v := os.Getenv("KABINET_LIMIT_KBPS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("KABINET_LIMIT_KBPS=%q: not a positive number", v)
		}
		c.Billing.LimitKbps = n
	}
	return c, c.Check()
}

// decode reads a TOML document over c, refusing keys that no field takes.
func (c *Config) decode(data string) error {
	md, err := toml.Decode(data, c)
	if err != nil {
		return err
	}
	if u := md.Undecoded(); len(u) > 0 {
		// A misspelt table shows as the table and each of its keys:
		// name the first in the file.
		k := u[0].String()
		if line := keyLine(data, k); line > 0 {
			return fmt.Errorf("line %d: unknown key %q", line, k)
		}
		return fmt.Errorf("unknown key %q", k)
	}
	c.defined = map[string]bool{}
	for _, k := range md.Keys() {
		if len(k) > 0 {
			c.defined[k[0]] = true
		}
	}
	return nil
}

// keyLine finds the line of a dotted key ("web.trusted_proxiez") in a TOML
// document, following table headers; 0 when not found. BurntSushi/toml
// keeps key positions but does not export them.
func keyLine(data, key string) int {
	table := ""
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			name := strings.Trim(strings.SplitN(line, "#", 2)[0], " \t")
			name = strings.TrimSpace(strings.Trim(name, "[]"))
			table = normKey(name)
			if table == key {
				return i + 1
			}
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			continue
		}
		full := normKey(line[:eq])
		if table != "" {
			full = table + "." + full
		}
		if full == key {
			return i + 1
		}
	}
	return 0
}

// normKey writes a dotted TOML key as toml.Key.String does, without the
// spaces and quotes bare keys do not need.
func normKey(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// Given reports whether the file set the top-level key or section name.
// The demo and tests, which load no file, give nothing.
func (c Config) Given(name string) bool { return c.defined[name] }

// Check validates the values.
func (c Config) Check() error {
	if _, err := time.LoadLocation(c.Billing.Zone); err != nil {
		return fmt.Errorf("billing.zone %q: %w", c.Billing.Zone, err)
	}
	if c.Billing.LimitKbps <= 0 {
		return fmt.Errorf("billing.limit_kbps must be positive")
	}
	if c.Billing.GraceMonths < 0 || c.Billing.GraceDays < 0 || c.Billing.GraceMonths+c.Billing.GraceDays == 0 {
		return fmt.Errorf("billing grace period must be positive")
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("shutdown_timeout must be positive")
	}
	if c.Web.ReadHeaderTimeout < 0 || c.Web.BodyTimeout < 0 || c.Web.IdleTimeout < 0 {
		return fmt.Errorf("[web] timeouts cannot be negative")
	}
	if err := c.Autopay.Check(); err != nil {
		return err
	}
	if err := c.Documents.Check(); err != nil {
		return err
	}
	if err := c.Provider.checkDetails(); err != nil {
		return err
	}
	if p := c.Promise; p.Days <= 0 || p.EveryDays < p.Days || p.MaxDebtDays < 0 {
		return fmt.Errorf("[promise]: days must be positive, every_days at least days, max_debt_days not negative")
	}
	for k, v := range map[string]string{"max_amount": c.Promise.MaxAmount, "fee": c.Promise.Fee} {
		if v == "" {
			continue
		}
		if a, err := money.Parse(v); err != nil || a < 0 {
			return fmt.Errorf("[promise] %s %q: not an amount", k, v)
		}
	}
	if err := c.SMS.Check(); err != nil {
		return err
	}
	if c.Telegram.Token != "" && !strings.Contains(c.Telegram.Token, ":") {
		return fmt.Errorf("[telegram] token must be the bot's token from @BotFather (digits:letters)")
	}
	if c.Telegram.LinkTTL < time.Minute {
		return fmt.Errorf("[telegram] link_ttl must be at least a minute")
	}
	for _, a := range c.Company.Accounts {
		if len(a) != 20 || strings.Trim(a, "0123456789") != "" {
			return fmt.Errorf("[company] accounts: %q is not a 20-digit account", a)
		}
	}
	if err := c.Suspension.Check(); err != nil {
		return err
	}
	for k, v := range map[string]string{"theme_color": c.Provider.ThemeColor, "background_color": c.Provider.BackgroundColor} {
		if v != "" && !isColor(v) {
			return fmt.Errorf("[provider] %s %q: not a #rrggbb colour", k, v)
		}
	}
	switch c.Contract.Passport {
	case PassportRequired, PassportOptional, PassportOff:
	default:
		return fmt.Errorf("[contract] passport %q: one of required, optional, off", c.Contract.Passport)
	}
	if u := c.Site.PrivacyURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "/") {
		return fmt.Errorf("[site] privacy_url %q: an http(s) address or a path on this site", u)
	}
	for i, h := range c.Payment.HowTo {
		if strings.TrimSpace(h.Name) == "" || strings.TrimSpace(h.Steps) == "" {
			return fmt.Errorf("[[payment.howto]] #%d: name and steps are required", i+1)
		}
		if h.URL != "" && !strings.HasPrefix(h.URL, "https://") && !strings.HasPrefix(h.URL, "http://") {
			return fmt.Errorf("[[payment.howto]] %q: url %q is not an http(s) address", h.Name, h.URL)
		}
	}
	if c.SecretKey != "" {
		if b, err := hex.DecodeString(c.SecretKey); err != nil || len(b) != 32 {
			return fmt.Errorf("secret_key must be 64 hex digits (32 bytes)")
		}
	}
	return nil
}

// Zone is the provider's time zone.
func (c Config) Zone() *time.Location {
	loc, err := time.LoadLocation(c.Billing.Zone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Check validates the [suspension] section.
func (s Suspension) Check() error {
	if s.MinDays <= 0 || s.MaxDays < s.MinDays || s.MaxPerYear < 0 || s.AheadDays < 0 {
		return fmt.Errorf("[suspension]: min_days must be positive, max_days at least min_days, max_per_year and ahead_days not negative")
	}
	if s.MonthlyFee != "" {
		if a, err := money.Parse(s.MonthlyFee); err != nil || a < 0 {
			return fmt.Errorf("[suspension] monthly_fee %q: not an amount", s.MonthlyFee)
		}
	}
	if strings.TrimSpace(s.Radius) == "" || strings.ContainsAny(s.Radius, " \t\n\"'") {
		return fmt.Errorf("[suspension] radius %q: \"reject\" or an address-list name", s.Radius)
	}
	return nil
}
