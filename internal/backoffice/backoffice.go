// Package backoffice is what an operator does, as functions: each checks the
// operator's permission, calls the capability that owns the rule, and writes
// the audit entry. The /admin handlers only translate HTTP to these calls,
// so the role boundaries and the audit trail hold whatever the UI does.
package backoffice

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"

	"github.com/kabinet-billing/kabinet/internal/autopay"
	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/contract"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/documents"
	"github.com/kabinet-billing/kabinet/internal/fiscal"
	"github.com/kabinet-billing/kabinet/internal/ledger"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store"
	"github.com/kabinet-billing/kabinet/internal/subscriber"
	"github.com/kabinet-billing/kabinet/internal/suspension"
)

// ErrNoteRequired means an action that must say why came without a note:
// a password reset must say how the subscriber's identity was confirmed.
var ErrNoteRequired error = derrors.New(derrors.Invalid, "note_required", "a note is required")

// Office wires the capabilities an operator works with.
type Office struct {
	DB        *store.DB
	Clock     clock.Clock
	Operators *operator.Store
	Dir       *subscriber.Directory
	Biller    *billing.Biller
	Payments  *payment.Service
	Mail      *notify.Notifier
	Fonts     contract.Fonts
	Provider  config.Provider
	PortalURL string
	// CashLimits is per role the largest cash payment taken without a
	// manager ([payment] cash_limit); nil: the default's.
	CashLimits map[operator.Role]money.Amount
	Log        *slog.Logger // nil: slog.Default(); where a lost audit entry is written out
	// Promises grants promised payments (GrantPromise).
	Promises *promise.Service
	// Suspensions suspends and resumes accounts (Suspend, Resume).
	Suspensions *suspension.Service
	// Fiscal is the fiscal receipts' queue; nil while [fiscal] is off.
	Fiscal *fiscal.Queue
	// Documents are company clients' invoices and acts; nil hides them.
	Documents *documents.Service
	// Autopay is the subscribers' autopay; nil where it is not wired.
	Autopay *autopay.Service
	// Passport is [contract] passport: required, optional ("" too) or off.
	Passport string
}

// Who is the operator acting and from where.
type Who struct {
	Op      operator.Operator
	Address string
}

// Actor is w as the audit log names it.
func (w Who) Actor() operator.Actor { return w.Op.Actor(w.Address) }

func (w Who) must(p operator.Permission) error {
	if !w.Op.Can(p) {
		return fmt.Errorf("%s (%s) may not %s: %w", w.Op.Login, w.Op.Role, p, derrors.Forbidden)
	}
	return nil
}

func accountObject(id int64) string { return fmt.Sprintf("account:%d", id) }

// accountView is what the audit log keeps of an account: never a password.
func accountView(a subscriber.Account) map[string]any {
	return map[string]any{"login": a.Login, "contract": a.ContractNo, "name": a.Name, "address": a.Address, "city": a.CityName,
		"phone": a.Phone, "email": a.Email, "tariff_id": a.TariffID, "status": a.Status}
}

// NewContract is what the contract form asks.
type NewContract struct {
	Login   string // empty: generated
	Name    string
	Address string
	City    string // code
	Phone   string
	Email   string
	Tariff  string // code
	Lang    string // of the letter and the printed contract
	// Passport as the form gave it; [contract] passport says whether it
	// is required.
	Passport subscriber.Passport
}

// Signed is a signed contract: the password and the PDF exist only here,
// to be shown and printed once.
type Signed struct {
	Account  subscriber.Account
	Password string
	PDF      []byte
	Mailed   bool // the credentials letter is queued
}

// SignContract creates the account with a generated password, queues the
// credentials letter when there is an e-mail, and prints the contract.
func (o *Office) SignContract(ctx context.Context, w Who, n NewContract) (Signed, error) {
	if err := w.must(operator.EditSubscribers); err != nil {
		return Signed{}, err
	}
	if err := n.check(o.Passport, o.Clock.Now().In(o.Biller.Rules.Zone)); err != nil {
		return Signed{}, err
	}
	pw := subscriber.GeneratePassword(10)
	var a subscriber.Account
	var err error
	var passport *subscriber.Passport
	if !n.Passport.Empty() {
		passport = &n.Passport
	}
	for attempt := 0; attempt < 5; attempt++ {
		login := strings.TrimSpace(n.Login)
		if login == "" {
			login = generateLogin()
		}
		a, err = o.Dir.Create(ctx, subscriber.NewAccount{Login: login, Password: pw, Name: n.Name, Address: n.Address, City: n.City,
			Phone: n.Phone, Email: n.Email, Tariff: n.Tariff, Passport: passport})
		if !errors.Is(err, derrors.Exists) || n.Login != "" {
			break
		}
	}
	if err != nil {
		return Signed{}, err
	}
	s := Signed{Account: a, Password: pw}
	if a.Email != "" && o.Mail != nil {
		l := notify.Letter{Name: a.Name, Login: a.Login, ContractNo: a.ContractNo, Password: pw}
		if _, err := o.Mail.Enqueue(ctx, notify.Mail{Kind: notify.KindCredentials, AccountID: a.ID, To: a.Email, Lang: lang(n.Lang), Letter: l}); err != nil {
			return s, fmt.Errorf("contract %s signed, but the letter failed: %w", a.ContractNo, err)
		}
		s.Mailed = true
	}
	if s.PDF, err = o.ContractPDF(ctx, a, pw, "contract", lang(n.Lang)); err != nil {
		return s, err
	}
	err = o.Record(ctx, w, operator.Entry{Action: "subscriber.create", Object: accountObject(a.ID), After: accountView(a),
		Note: fmt.Sprintf("credentials mailed: %v", s.Mailed)})
	return s, err
}

func lang(l string) string {
	if l == "en" {
		return "en"
	}
	return "ru"
}

// generateLogin makes a login a subscriber can type: "u" and seven digits.
func generateLogin() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000))
	return fmt.Sprintf("u%d", 1_000_000+n.Int64())
}

// ContractPDF prints the contract (kind "contract") or the reset sheet
// (kind "reset") for a; pw is printed when not empty.
func (o *Office) ContractPDF(ctx context.Context, a subscriber.Account, pw, kind, lang string) ([]byte, error) {
	if o.Fonts.Regular == nil {
		return nil, errors.New("contract fonts are not loaded")
	}
	t, err := billing.TariffByID(ctx, o.DB, a.TariffID)
	if err != nil {
		return nil, err
	}
	name := t.Name
	if lang == "en" && t.NameEn != "" {
		name = t.NameEn
	}
	date := a.CreatedAt.In(o.Biller.Rules.Zone)
	if kind == "reset" {
		date = o.Clock.Now().In(o.Biller.Rules.Zone)
	}
	passport, err := o.Dir.PassportOf(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = contract.Render(&buf, contract.Document{Lang: lang, Kind: kind, Provider: o.Provider, ContractNo: a.ContractNo, Date: date,
		Name: a.Name, Address: a.Address, City: a.CityName, Phone: a.Phone, Email: a.Email, Passport: passport.String(), Tariff: name,
		TariffFee: t.Fee.Format(lang), Speed: billing.SpeedWords(lang, t.DownKbps), UpSpeed: billing.SpeedWords(lang, t.UpKbps),
		Login: a.Login, Password: pw, PortalURL: o.PortalURL}, o.Fonts)
	return buf.Bytes(), err
}

// Reset is the outcome of a password reset. Password and PDF are set only
// when the subscriber has no e-mail: then the office prints the sheet once.
type Reset struct {
	MailedTo string
	Password string
	PDF      []byte
}

// ResetPassword is the provider's reset: the operator says how identity
// was confirmed (passport at the office, code word on the phone…), a new
// password is generated and mailed to the contract's e-mail. It is shown
// only when there is no e-mail.
func (o *Office) ResetPassword(ctx context.Context, w Who, accountID int64, confirmedBy string) (Reset, error) {
	if err := w.must(operator.EditSubscribers); err != nil {
		return Reset{}, err
	}
	if strings.TrimSpace(confirmedBy) == "" {
		return Reset{}, fmt.Errorf("password reset: how the identity was confirmed: %w", ErrNoteRequired)
	}
	a, err := o.Dir.ByID(ctx, accountID)
	if err != nil {
		return Reset{}, err
	}
	pw := subscriber.GeneratePassword(10)
	if err := o.Dir.SetPassword(ctx, a.ID, pw); err != nil {
		return Reset{}, err
	}
	var r Reset
	if a.Email != "" && o.Mail != nil {
		l := notify.Letter{Name: a.Name, Login: a.Login, ContractNo: a.ContractNo, Password: pw}
		if _, err := o.Mail.Enqueue(ctx, notify.Mail{Kind: notify.KindPasswordReset, AccountID: a.ID, To: a.Email, Lang: a.Lang, Letter: l}); err != nil {
			return r, err
		}
		r.MailedTo = a.Email
	} else {
		r.Password = pw
		if r.PDF, err = o.ContractPDF(ctx, a, pw, "reset", a.Lang); err != nil {
			return r, err
		}
	}
	note := "confirmed by: " + strings.TrimSpace(confirmedBy)
	if r.MailedTo != "" {
		note += "; mailed to " + r.MailedTo
	} else {
		note += "; no e-mail: printed"
	}
	return r, o.Record(ctx, w, operator.Entry{Action: "subscriber.password_reset", Object: accountObject(a.ID), Note: note})
}

// EditContract changes the contract's details.
func (o *Office) EditContract(ctx context.Context, w Who, accountID int64, e subscriber.ContractEdit) error {
	if err := w.must(operator.EditSubscribers); err != nil {
		return err
	}
	before, err := o.Dir.ByID(ctx, accountID)
	if err != nil {
		return err
	}
	if err := o.Dir.EditContract(ctx, accountID, e); err != nil {
		return err
	}
	after, err := o.Dir.ByID(ctx, accountID)
	if err != nil {
		return err
	}
	return o.Record(ctx, w, operator.Entry{Action: "subscriber.edit", Object: accountObject(accountID), Before: accountView(before), After: accountView(after)})
}

// SetStatus blocks, unblocks, freezes or closes an account.
func (o *Office) SetStatus(ctx context.Context, w Who, accountID int64, status, note string) error {
	if err := w.must(operator.EditSubscribers); err != nil {
		return err
	}
	before, err := o.Dir.ByID(ctx, accountID)
	if err != nil {
		return err
	}
	if err := o.Dir.SetStatus(ctx, accountID, status); err != nil {
		return err
	}
	return o.Record(ctx, w, operator.Entry{Action: "subscriber.status", Object: accountObject(accountID),
		Before: map[string]string{"status": before.Status}, After: map[string]string{"status": status}, Note: note})
}

// ErrConfirmationRefused means the manager named to confirm a cash payment
// above the cashier's limit could not: a wrong password, a locked or
// disabled login, no right to confirm, or the cashier themself.
var ErrConfirmationRefused error = derrors.New(derrors.Forbidden, "cash_confirm_refused", "the manager's confirmation was refused")

// Cash is a payment at the office desk. Above the cashier's limit a manager
// confirms it on the spot with their login and password.
type Cash struct {
	payment.CashIn
	Manager, ManagerPassword string
}

// CashTaken is what happened to a Cash.
type CashTaken struct {
	Payment payment.Payment
	// Repeated: the receipt was recorded before; Payment is the first one
	// and nothing was credited now.
	Repeated bool
}

// CashLimit is the largest cash payment an operator of role may take
// without a manager's confirmation; 0 is no limit.
func (o *Office) CashLimit(role operator.Role) money.Amount {
	limits := o.CashLimits
	if limits == nil {
		limits = defaultCashLimits
	}
	return limits[role]
}

var defaultCashLimits = func() map[operator.Role]money.Amount {
	l, err := cashLimits(config.Default().Payment.CashLimit)
	if err != nil {
		panic(err)
	}
	return l
}()

// cashLimits reads [payment] cash_limit, whose keys are roles.
func cashLimits(cfg map[string]string) (map[operator.Role]money.Amount, error) {
	amounts, err := payment.CashLimits(cfg)
	if err != nil {
		return nil, err
	}
	out := make(map[operator.Role]money.Amount, len(amounts))
	for name, a := range amounts {
		role, err := operator.ParseRole(name)
		if err != nil {
			return nil, fmt.Errorf("payment: cash_limit: %w", err)
		}
		out[role] = a
	}
	return out, nil
}

// CashPayment takes cash at the office desk. Above the operator's limit it
// needs a manager's confirmation (payment.ErrNeedsConfirmation without one);
// the payment and its audit entry, naming the manager, commit together.
func (o *Office) CashPayment(ctx context.Context, w Who, c Cash) (CashTaken, error) {
	if err := w.must(operator.TakeCash); err != nil {
		return CashTaken{}, err
	}
	in := c.CashIn
	in.Operator, in.Limit, in.ConfirmedBy = w.Op.Login, o.CashLimit(w.Op.Role), ""
	if in.Limit > 0 && in.Amount > in.Limit && strings.TrimSpace(c.Manager) != "" {
		m, err := o.Operators.Authenticate(ctx, c.Manager, c.ManagerPassword, w.Address)
		switch {
		case errors.Is(err, operator.ErrBadPassword), errors.Is(err, operator.ErrLocked):
			return CashTaken{}, fmt.Errorf("confirmation by %s: %w: %v", c.Manager, ErrConfirmationRefused, err)
		case err != nil:
			return CashTaken{}, err
		case !m.Can(operator.ConfirmCash):
			return CashTaken{}, fmt.Errorf("confirmation by %s (%s): %w: may not confirm", m.Login, m.Role, ErrConfirmationRefused)
		case m.ID == w.Op.ID:
			return CashTaken{}, fmt.Errorf("confirmation by %s: %w: not by the cashier", m.Login, ErrConfirmationRefused)
		}
		in.ConfirmedBy = m.Login
	}
	var res CashTaken
	err := o.audited(ctx, w, func(tx *store.Tx) (operator.Entry, error) {
		var err error
		res.Payment, res.Repeated, err = o.Payments.CashPaymentTx(ctx, tx, in)
		if err != nil {
			return operator.Entry{}, err
		}
		after := map[string]any{"payment": res.Payment.ID, "amount": res.Payment.Amount.Decimal(), "receipt": res.Payment.ExternalID}
		action := "money.cash"
		if res.Repeated {
			// Nothing moved; the entry says the form came again.
			action = "money.cash_repeated"
		} else if in.ConfirmedBy != "" {
			after["confirmed_by"] = in.ConfirmedBy
			after["limit"] = in.Limit.Decimal()
		}
		return operator.Entry{Action: action, Object: accountObject(in.AccountID), After: after, Note: in.Memo}, nil
	})
	if err != nil {
		return CashTaken{}, err
	}
	return res, nil
}

// Correct changes a balance with a mandatory reason.
func (o *Office) Correct(ctx context.Context, w Who, c payment.Correction) (int64, error) {
	if err := w.must(operator.CorrectBalance); err != nil {
		return 0, err
	}
	c.Operator = w.Op.Login
	before, err := o.Biller.Summary(ctx, c.AccountID)
	if err != nil {
		return 0, err
	}
	id, err := o.Payments.Correct(ctx, c)
	if err != nil {
		return 0, err
	}
	after, err := o.Biller.Summary(ctx, c.AccountID)
	if err != nil {
		return id, err
	}
	return id, o.Record(ctx, w, operator.Entry{Action: "money.correct", Object: accountObject(c.AccountID),
		Before: map[string]string{"balance": before.Balance.Decimal(), "status": before.Status},
		After:  map[string]any{"balance": after.Balance.Decimal(), "status": after.Status, "txn": id, "amount": c.Amount.Decimal()}, Note: c.Reason})
}

// Reverse undoes a payment or correction of the account with a reason;
// another account's transaction is derrors.NotFound, as a missing one.
func (o *Office) Reverse(ctx context.Context, w Who, accountID, txnID int64, reason string) (int64, error) {
	if err := w.must(operator.CorrectBalance); err != nil {
		return 0, err
	}
	if owner, err := ledger.TxnAccount(ctx, o.DB, txnID); err != nil || owner != accountID {
		return 0, fmt.Errorf("ledger transaction %d of account %d: %w", txnID, accountID, derrors.NotFound)
	}
	id, err := o.Payments.Reverse(ctx, txnID, reason, w.Op.Login)
	if err != nil {
		return 0, err
	}
	return id, o.Record(ctx, w, operator.Entry{Action: "money.reverse", Object: accountObject(accountID),
		After: map[string]int64{"reversed": txnID, "txn": id}, Note: reason})
}

// Refund sends a card or SBP payment of the account, or a part of it
// (amount; 0 is all that remains refundable), back through its processor,
// with a reason, and audits it whether the processor confirmed it at once
// or is still processing (its notification finishes it). key is the form's
// one-time key: the same form sent twice refunds once.
func (o *Office) Refund(ctx context.Context, w Who, accountID, paymentID int64, amount money.Amount, key, reason string) (payment.Refund, error) {
	if err := w.must(operator.CorrectBalance); err != nil {
		return payment.Refund{}, err
	}
	rf, err := o.Payments.Refund(ctx, payment.RefundAsk{AccountID: accountID, PaymentID: paymentID, Amount: amount, Key: key,
		Reason: reason, Operator: w.Op.Login})
	if err != nil && rf.ID == 0 {
		return rf, err
	}
	// A request the processor did not answer is audited too: it stands,
	// pending under its key, and pressing again repeats it.
	after := map[string]any{"payment": paymentID, "amount": rf.Amount.Decimal(), "status": string(rf.Status), "refund": rf.Ref, "refund_id": rf.ID}
	if err != nil {
		after["error"] = "processor unavailable"
	}
	if aerr := o.Record(ctx, w, operator.Entry{Action: "money.refund", Object: accountObject(accountID), After: after, Note: reason}); aerr != nil {
		return rf, aerr
	}
	return rf, err
}

// New wires an Office from the capabilities the server already has; fonts
// print contracts.
func New(db *store.DB, clk clock.Clock, cfg config.Config, biller *billing.Biller, dir *subscriber.Directory, pay *payment.Service, mail *notify.Notifier, fonts contract.Fonts) (*Office, error) {
	portal := cfg.PublicURL
	if portal == "" {
		portal = cfg.Provider.Site
	}
	limits, err := cashLimits(cfg.Payment.CashLimit)
	if err != nil {
		return nil, err
	}
	rules, err := promise.RulesOf(cfg.Promise)
	if err != nil {
		return nil, err
	}
	srules, err := suspension.RulesOf(cfg.Suspension)
	if err != nil {
		return nil, err
	}
	return &Office{DB: db, Clock: clk, Operators: operator.New(db, clk), Dir: dir, Biller: biller, Payments: pay, Mail: mail,
		Fonts: fonts, Provider: cfg.Provider, PortalURL: portal, CashLimits: limits, Promises: promise.New(db, clk, biller, rules),
		Suspensions: suspension.New(db, clk, biller, srules),
		Passport:    cfg.Contract.Passport}, nil
}
