// Package subscriber owns contracts, credentials, login and profile.
package subscriber

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kabinet-billing/kabinet/internal/apitoken"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/password"
	"github.com/kabinet-billing/kabinet/internal/store"
)

var (
	errNoAccount    error = derrors.New(derrors.NotFound, "", "no such account")
	ErrBadPassword  error = derrors.New(derrors.Invalid, "password", "wrong login or password")
	ErrWeakPassword error = derrors.New(derrors.Invalid, "weak_password", "password must be 8 to 64 characters")
)

// Account is a subscriber's contract and credentials.
type Account struct {
	ID           int64
	Login        string
	ContractNo   string
	ContractDate string // YYYY-MM-DD
	Name         string
	Address      string
	CityID       int64
	CityName     string
	Phone        string
	Email        string
	TariffID     int64
	Status       string
	LedgerID     int64
	NotifyEmail  bool
	NotifySMS    bool
	Lang         string
	CreatedAt    time.Time
	passwordHash string
	passwordEnc  string
}

// Directory keeps subscribers: it is the one place that knows the secret key.
type Directory struct {
	DB     *store.DB
	Clock  clock.Clock
	Sealer *Sealer
	Biller *billing.Biller
}

// New makes a Directory.
func New(db *store.DB, clk clock.Clock, sealer *Sealer, b *billing.Biller) *Directory {
	return &Directory{DB: db, Clock: clk, Sealer: sealer, Biller: b}
}

// NewAccount is what a contract needs.
type NewAccount struct {
	Login        string
	Password     string
	PasswordHash string // optional: a precomputed hash of Password, for bulk loads
	ContractNo   string // generated from the id when empty
	Name         string
	Address      string
	City         string // code or name; empty when the provider has one city
	Phone        string
	Email        string
	Tariff       string // code
	CreatedAt    time.Time
	// Passport is stored with the account when not nil (checked by the
	// caller: the contract form's rules are the back office's).
	Passport *Passport
}

var loginRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{2,31}$`)

// CheckPasswordPolicy is the subscriber password rule.
func CheckPasswordPolicy(pw string) error {
	if n := utf8.RuneCountInString(pw); n < 8 || n > 64 {
		return ErrWeakPassword
	}
	return nil
}

func (n *NewAccount) check() error {
	n.Login = password.NormalLogin(n.Login)
	if !loginRe.MatchString(n.Login) {
		return fmt.Errorf("login %q: 3 to 32 of a-z, 0-9, '.', '_', '-': %w", n.Login, derrors.Invalid)
	}
	if err := CheckPasswordPolicy(n.Password); err != nil && n.PasswordHash == "" {
		return fmt.Errorf("login %s: %w", n.Login, err)
	}
	if n.Email != "" {
		if _, err := mail.ParseAddress(n.Email); err != nil {
			return fmt.Errorf("e-mail %q: %w", n.Email, derrors.Invalid)
		}
	}
	if len(n.Name) > 200 || len(n.Address) > 300 || len(n.Phone) > 40 {
		return fmt.Errorf("name, address or phone too long: %w", derrors.Invalid)
	}
	return nil
}

// Create signs a contract: the account, its ledger account and the first
// month's charge, all in one transaction.
func (d *Directory) Create(ctx context.Context, n NewAccount) (Account, error) {
	if err := n.check(); err != nil {
		return Account{}, err
	}
	now := n.CreatedAt
	if now.IsZero() {
		now = d.Clock.Now()
	}
	hash := n.PasswordHash
	if hash == "" {
		hash = password.Hash(n.Password)
	}
	sealed := d.Sealer.Seal(n.Login, n.Password)
	var id int64
	err := d.DB.Write(ctx, func(tx *store.Tx) error {
		t, err := billing.TariffByCode(ctx, tx, n.Tariff)
		if err != nil {
			return err
		}
		var cityID int64
		if n.City != "" {
			c, err := billing.CityByCode(ctx, tx, n.City)
			if err != nil {
				return err
			}
			cityID = c.ID
		}
		if t.Archived || (t.CityID != 0 && cityID != 0 && t.CityID != cityID) {
			return fmt.Errorf("tariff %s: %w", t.Code, billing.ErrNotOffered)
		}
		lid, err := ledger.Account(ctx, tx, "subscriber:"+n.Login, ledger.KindSubscriber)
		if err != nil {
			return err
		}
		var city any
		if cityID != 0 {
			city = cityID
		}
		contract := n.ContractNo
		if contract == "" {
			contract = "pending:" + n.Login
		}
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (login, contract_no, contract_date, name, address, city_id, phone, email, password_hash, password_enc, tariff_id, status, ledger_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?) RETURNING id`,
			n.Login, contract, now.In(d.Biller.Rules.Zone).Format("2006-01-02"), n.Name, n.Address, city, n.Phone, n.Email, hash, sealed, t.ID, lid, now.UTC(), now.UTC()).Scan(&id); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("login %s: %w", n.Login, derrors.Exists)
			}
			return err
		}
		if n.ContractNo == "" {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET contract_no = ? WHERE id = ?`, fmt.Sprintf("%s-%06d", now.In(d.Biller.Rules.Zone).Format("2006"), id), id); err != nil {
				return err
			}
		}
		if p := n.Passport; p != nil && !p.Empty() {
			if _, err := tx.Exec(ctx, `INSERT INTO account_passports (account_id, series, number, issued_by, issued_on, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				id, p.Series, p.Number, p.IssuedBy, p.IssuedOn, now.UTC()); err != nil {
				return fmt.Errorf("passport: %w", err)
			}
		}
		if err := d.Biller.Activate(ctx, tx, id, now); err != nil {
			return err
		}
		return tx.Emit(ctx, store.Event{Kind: store.EventAccountCreated, AccountID: id, At: now})
	})
	if err != nil {
		return Account{}, fmt.Errorf("create %s: %w", n.Login, err)
	}
	return d.ByID(ctx, id)
}

const accountCols = `a.id, a.login, a.contract_no, a.contract_date, a.name, a.address, COALESCE(a.city_id, 0), COALESCE(c.name, ''), a.phone, a.email,
	a.tariff_id, a.status, a.ledger_id, a.notify_email, a.notify_sms, a.lang, a.created_at, a.password_hash, a.password_enc`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Login, &a.ContractNo, &a.ContractDate, &a.Name, &a.Address, &a.CityID, &a.CityName, &a.Phone, &a.Email,
		&a.TariffID, &a.Status, &a.LedgerID, &a.NotifyEmail, &a.NotifySMS, &a.Lang, &a.CreatedAt, &a.passwordHash, &a.passwordEnc)
	return a, err
}

func (d *Directory) one(ctx context.Context, where string, arg any) (Account, error) {
	a, err := scanAccount(d.DB.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts a LEFT JOIN cities c ON c.id = a.city_id WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("account %v: %w", arg, errNoAccount)
	}
	if err != nil {
		return a, fmt.Errorf("account %v: %w", arg, err)
	}
	return a, nil
}

// ByID finds an account.
func (d *Directory) ByID(ctx context.Context, id int64) (Account, error) {
	return d.one(ctx, "a.id = ?", id)
}

// ByLogin finds an account by login (case-insensitive: logins are stored
// lower-case). Its errors do not name the login: what someone typed into
// the login field may be their password, and errors end up in logs.
func (d *Directory) ByLogin(ctx context.Context, login string) (Account, error) {
	a, err := scanAccount(d.DB.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts a LEFT JOIN cities c ON c.id = a.city_id WHERE a.login = ?`,
		password.NormalLogin(login)))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("account by login: %w", errNoAccount)
	}
	if err != nil {
		return a, fmt.Errorf("account by login: %w", err)
	}
	return a, nil
}

// ByLoginOrContract finds an account by login or contract number, as
// payment systems name it.
func (d *Directory) ByLoginOrContract(ctx context.Context, s string) (Account, error) {
	s = strings.TrimSpace(s)
	a, err := d.ByLogin(ctx, s)
	if errors.Is(err, derrors.NotFound) {
		return d.one(ctx, "a.contract_no = ?", s)
	}
	return a, err
}

// Authenticate checks a login and password; closed accounts cannot log in.
// The error does not say which of the two was wrong.
func (d *Directory) Authenticate(ctx context.Context, login, pw string) (Account, error) {
	a, found, err := password.Lookup(ctx, login, pw, d.ByLogin, derrors.NotFound)
	if err != nil {
		return Account{}, err
	}
	if !found || !d.matches(a, pw) || a.Status == billing.StatusClosed {
		return Account{}, ErrBadPassword
	}
	if a.passwordHash == "" {
		// An imported account's first login makes its portal hash.
		hash := password.Hash(pw)
		if err := d.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ''`, hash, a.ID)
			return err
		}); err != nil {
			return Account{}, fmt.Errorf("password of %s: %w", a.Login, err)
		}
		a.passwordHash = hash
	}
	return a, nil
}

// matches tells whether pw is the account's password. An account moved in
// by kabinet import has no portal hash until its first login (an argon2id
// hash is a deliberate 30 ms: 100,000 of them would take an import most of
// an hour); until then its sealed copy is compared, after spending the
// time of a hash so that the answer takes as long.
func (d *Directory) matches(a Account, pw string) bool {
	if a.passwordHash != "" {
		return password.Check(a.passwordHash, pw)
	}
	password.Waste(pw)
	sealed, err := d.Sealer.Open(a.Login, a.passwordEnc)
	return err == nil && sealed != "" && subtle.ConstantTimeCompare([]byte(sealed), []byte(pw)) == 1
}

// RadiusPassword decrypts the cleartext copy for CHAP and MS-CHAPv2.
func (d *Directory) RadiusPassword(a Account) (string, error) {
	return d.Sealer.Open(a.Login, a.passwordEnc)
}

// SetPassword replaces the password (an operator's reset). Every API token
// of the account ends with the old password; the web sessions are the web
// layer's to end (platform.EndSessions).
func (d *Directory) SetPassword(ctx context.Context, id int64, pw string) error {
	return d.setPassword(ctx, id, pw, 0)
}

func (d *Directory) setPassword(ctx context.Context, id int64, pw string, keepToken int64) error {
	if err := CheckPasswordPolicy(pw); err != nil {
		return err
	}
	a, err := d.ByID(ctx, id)
	if err != nil {
		return err
	}
	hash, sealed := password.Hash(pw), d.Sealer.Seal(a.Login, pw)
	now := d.Clock.Now()
	return d.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = ?, password_enc = ?, updated_at = ? WHERE id = ?`, hash, sealed, now.UTC(), id); err != nil {
			return fmt.Errorf("password of %s: %w", a.Login, err)
		}
		if err := apitoken.RevokeAll(ctx, tx, id, keepToken, now); err != nil {
			return fmt.Errorf("password of %s: %w", a.Login, err)
		}
		return tx.Emit(ctx, store.Event{Kind: store.EventPasswordChanged, AccountID: id, At: now})
	})
}

// ChangePassword lets the subscriber change the password knowing the
// current one. Every API token of the account ends but keepToken, the one
// the change came with (0 from the portal).
func (d *Directory) ChangePassword(ctx context.Context, id int64, current, next string, keepToken int64) error {
	a, err := d.ByID(ctx, id)
	if err != nil {
		return err
	}
	if !d.matches(a, current) {
		return ErrBadPassword
	}
	return d.setPassword(ctx, id, next, keepToken)
}

// Profile is what the subscriber may edit.
type Profile struct {
	Email       string
	Phone       string
	NotifyEmail bool
	NotifySMS   bool
	Lang        string
}

// UpdateProfile saves contact details and notification preferences.
func (d *Directory) UpdateProfile(ctx context.Context, id int64, p Profile) error {
	p.Email, p.Phone = strings.TrimSpace(p.Email), strings.TrimSpace(p.Phone)
	if p.Email != "" {
		if addr, err := mail.ParseAddress(p.Email); err != nil || addr.Address != p.Email {
			return derrors.Invalidf("email", "email", "e-mail %q", p.Email)
		}
	}
	if len(p.Phone) > 40 || (p.Phone != "" && !phoneRe.MatchString(p.Phone)) {
		return derrors.Invalidf("phone", "phone", "phone %q", p.Phone)
	}
	if p.Lang != "en" {
		p.Lang = "ru"
	}
	return d.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE accounts SET email = ?, phone = ?, notify_email = ?, notify_sms = ?, lang = ?, updated_at = ? WHERE id = ?`,
			p.Email, p.Phone, p.NotifyEmail, p.NotifySMS, p.Lang, d.Clock.Now().UTC(), id)
		return err
	})
}

var phoneRe = regexp.MustCompile(`^\+?[0-9 ()-]{5,40}$`)

// SetStatus is the operator's block, unblock, freeze, unfreeze and close.
// Unblocking returns the account to limited when its debt is overdue; the
// next limit check decides that.
func (d *Directory) SetStatus(ctx context.Context, id int64, status string) error {
	switch status {
	case billing.StatusActive, billing.StatusBlocked, billing.StatusFrozen, billing.StatusClosed:
	default:
		return fmt.Errorf("status %q: %w", status, derrors.Invalid)
	}
	now := d.Clock.Now()
	return d.DB.Write(ctx, func(tx *store.Tx) error {
		var cur string
		if err := tx.QueryRow(ctx, `SELECT status FROM accounts WHERE id = ?`, id).Scan(&cur); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("account %d: %w", id, errNoAccount)
			}
			return err
		}
		if cur == billing.StatusClosed {
			return fmt.Errorf("account %d is closed: %w", id, derrors.Invalid)
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET status = ?, limited_since = NULL, updated_at = ? WHERE id = ?`, status, now.UTC(), id); err != nil {
			return err
		}
		return tx.Emit(ctx, store.Event{Kind: store.EventAccountStatus, AccountID: id, At: now, Data: map[string]string{"from": cur, "to": status}})
	})
}
