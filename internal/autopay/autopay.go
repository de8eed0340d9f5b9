// Package autopay charges a subscriber's saved card before the 1st, so that
// the month's fees are paid without the subscriber doing anything: the
// settings an account turns on and off, the charge once per period, its
// retries, and the letters that tell the result.
//
// The subscriber turns autopay on by paying once with "remember the card"
// (Start), or with a card already saved (Enable). DaysBefore days before the
// 1st (in the provider's zone) one charge per account and period is planned
// (a unique row, so any number of instances plan it once) and charged under
// an idempotency key per attempt through payment.Service.ChargeSaved; a
// failed charge is tried again Retries times RetryInterval apart; a card
// refused as expired or blocked turns autopay off.
package autopay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Rule is how the charge's amount is chosen.
type Rule string

const (
	// RuleRecommended charges the recommended payment: next month's fees
	// plus debt minus a positive balance; nothing when that is zero.
	RuleRecommended Rule = "recommended"
	// RuleFixed charges the same sum every month.
	RuleFixed Rule = "fixed"
)

// MaxFixed bounds a fixed sum: a typing slip must not charge a fortune.
const MaxFixed = money.Amount(100_000_00)

// Events written in the transaction that makes the change; the events
// table is the subscriber's actions' audit.
const (
	EventEnabled  = "autopay.enabled"
	EventDisabled = "autopay.disabled"
	EventCharged  = "autopay.charged"
	EventFailed   = "autopay.failed"
)

// Settings is an account's autopay as the portal shows it.
type Settings struct {
	AccountID int64
	Enabled   bool
	Rule      Rule
	Fixed     money.Amount
	Method    payment.SavedMethod // zero when autopay was never set up
	// OffReason says why autopay is off when the card was refused for
	// good (payment.ReasonCardExpired, ReasonCardBlocked); empty when the
	// subscriber turned it off.
	OffReason payment.Reason
	UpdatedAt time.Time
	// ChargeOn is the day of the next charge, in the provider's zone.
	ChargeOn time.Time
}

// Set says whether the account has autopay settings at all.
func (s Settings) Set() bool { return s.Method.ID != 0 }

// Mailer queues the result letters; *notify.Notifier is one.
type Mailer interface {
	Letter(ctx context.Context, c billing.Contact) (notify.Letter, error)
	EnqueueTx(ctx context.Context, tx *store.Tx, m notify.Mail) (bool, error)
}

// Service is autopay over the store.
type Service struct {
	db    *store.DB
	clock clock.Clock
	pay   *payment.Service
	bill  *billing.Biller
	mail  Mailer // nil: no letters
	cfg   config.Autopay
	zone  *time.Location
	log   *slog.Logger
	// lease is how long an instance owns a charge it is making; a lease run
	// out means the instance died mid-charge, and another resumes it.
	lease time.Duration
	mu    sync.Mutex // one pass at a time in this process
}

// New builds the service and hooks it to the payment service, so that a
// card saved from the autopay page turns autopay on in the same transaction.
func New(db *store.DB, clk clock.Clock, pay *payment.Service, bill *billing.Biller, mail Mailer, cfg config.Autopay, log *slog.Logger) *Service {
	if clk == nil {
		clk = clock.System
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: db, clock: clk, pay: pay, bill: bill, mail: mail, cfg: cfg, zone: bill.Rules.Zone, log: log, lease: 10 * time.Minute}
	pay.OnMethodSaved(s.methodSaved)
	// A charge's result letter tells the subscriber the money came: the
	// payment's own "payment received" letter would say it twice.
	if q, ok := mail.(interface {
		QuietPayments(func(context.Context, store.Querier, int64) (bool, error))
	}); ok {
		q.QuietPayments(ownsLetter)
	}
	return s
}

// DaysBefore is how many days before the 1st the card is charged.
func (s *Service) DaysBefore() int { return s.cfg.DaysBefore }

// Enabled says whether autopay is offered at all.
func (s *Service) Enabled() bool { return s.cfg.Enabled }

// ChargeDay is the day (in the provider's zone) of the charge for the
// period starting on the next 1st after now.
func (s *Service) ChargeDay(now time.Time) time.Time {
	return s.chargeAt(nextFirst(now.In(s.zone)))
}

func (s *Service) chargeAt(first time.Time) time.Time { return first.AddDate(0, 0, -s.cfg.DaysBefore) }

func nextFirst(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location()).AddDate(0, 1, 0)
}

func periodOf(first time.Time) string { return first.Format("2006-01") }

// Get returns the account's settings; a zero Settings (not Set) when it never
// turned autopay on.
func (s *Service) Get(ctx context.Context, accountID int64) (Settings, error) {
	return s.get(ctx, s.db, accountID)
}

func (s *Service) get(ctx context.Context, q store.Querier, accountID int64) (Settings, error) {
	st := Settings{AccountID: accountID, ChargeOn: s.ChargeDay(s.clock.Now())}
	var methodID int64
	err := q.QueryRow(ctx, `SELECT method_id, enabled, amount_rule, fixed_amount, off_reason, updated_at FROM autopay WHERE account_id = ?`, accountID).
		Scan(&methodID, &st.Enabled, &st.Rule, &st.Fixed, &st.OffReason, &st.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("autopay of account %d: %w", accountID, err)
	}
	if st.Method, err = payment.SavedMethodOf(ctx, q, accountID, methodID); err != nil {
		return st, fmt.Errorf("autopay of account %d: %w", accountID, err)
	}
	return st, nil
}

// checkRule validates the amount rule, naming the field at fault.
func checkRule(rule Rule, fixed money.Amount) error {
	switch rule {
	case RuleRecommended:
		return nil
	case RuleFixed:
		if fixed <= 0 {
			return derrors.Invalidf("fixed_amount", "autopay_fixed_required", "a fixed autopay sum must be positive, not %s", fixed)
		}
		if fixed > MaxFixed {
			return derrors.Invalidf("fixed_amount", "autopay_fixed_too_large", "a fixed autopay sum of %s is above %s", fixed, MaxFixed)
		}
		return nil
	}
	return derrors.Invalidf("rule", "autopay_rule", "unknown autopay rule %q", rule)
}

// StartRequest is turning autopay on by paying once with "remember the card".
type StartRequest struct {
	AccountID int64
	Amount    money.Amount // the first payment, credited as usual
	Rule      Rule
	Fixed     money.Amount
	Processor string
	Lang      string
	ReturnURL string // as payment.CardStart.ReturnURL
}

// ErrOff means autopay is not offered: turned off in the config, or the
// processor cannot charge a saved card.
var ErrOff = derrors.New(derrors.Unavailable, "autopay_unavailable", "autopay is not available")

// Start starts the card payment that saves the card; when the processor
// confirms it and returns the saved card, autopay turns on with the rule.
func (s *Service) Start(ctx context.Context, in StartRequest) (payment.Payment, string, error) {
	if !s.cfg.Enabled || !s.pay.CanCharge(in.Processor) {
		return payment.Payment{}, "", ErrOff
	}
	if err := checkRule(in.Rule, in.Fixed); err != nil {
		return payment.Payment{}, "", err
	}
	if in.Amount <= 0 {
		return payment.Payment{}, "", derrors.Invalidf("amount", "amount", "the first payment must be positive, not %s", in.Amount)
	}
	p, redirect, err := s.pay.StartCard(ctx, payment.CardStart{AccountID: in.AccountID, Amount: in.Amount, Processor: in.Processor,
		Lang: in.Lang, ReturnURL: in.ReturnURL, SaveMethod: true})
	if err != nil {
		return p, "", fmt.Errorf("autopay: %w", err)
	}
	// Written before the subscriber sees the processor's page, so before any
	// callback can save the card.
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO autopay_requests (payment_id, account_id, amount_rule, fixed_amount, created_at) VALUES (?, ?, ?, ?, ?)`,
			p.ID, in.AccountID, string(in.Rule), int64(in.Fixed), s.clock.Now().UTC())
		return err
	})
	if err != nil {
		return p, "", fmt.Errorf("autopay request for payment %d: %w", p.ID, err)
	}
	return p, redirect, nil
}

// methodSaved runs in the callback's transaction: a card saved by a payment
// started from the autopay page turns autopay on.
func (s *Service) methodSaved(ctx context.Context, tx *store.Tx, m payment.SavedMethod) error {
	var rule Rule
	var fixed money.Amount
	err := tx.QueryRow(ctx, `SELECT amount_rule, fixed_amount FROM autopay_requests WHERE payment_id = ? AND account_id = ?`, m.PaymentID, m.AccountID).Scan(&rule, &fixed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("autopay request of payment %d: %w", m.PaymentID, err)
	}
	return s.enable(ctx, tx, m.AccountID, m, rule, fixed, "payment")
}

// Enable turns autopay on with a card the account saved before, or changes
// its rule.
func (s *Service) Enable(ctx context.Context, accountID, methodID int64, rule Rule, fixed money.Amount) error {
	if !s.cfg.Enabled {
		return ErrOff
	}
	if err := checkRule(rule, fixed); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		m, err := payment.SavedMethodOf(ctx, tx, accountID, methodID)
		if errors.Is(err, payment.ErrNoSavedMethod) {
			return derrors.Invalidf("method", "autopay_no_card", "account %d has no saved card %d", accountID, methodID)
		}
		if err != nil {
			return err
		}
		if !m.Active() {
			return derrors.Invalidf("method", "autopay_card_revoked", "saved card %d of account %d can no longer be charged", methodID, accountID)
		}
		if !s.pay.CanCharge(m.Processor) {
			return ErrOff
		}
		return s.enable(ctx, tx, accountID, m, rule, fixed, "subscriber")
	})
}

func (s *Service) enable(ctx context.Context, tx *store.Tx, accountID int64, m payment.SavedMethod, rule Rule, fixed money.Amount, by string) error {
	if rule != RuleFixed {
		fixed = 0
	}
	now := s.clock.Now()
	_, err := tx.Exec(ctx, `INSERT INTO autopay (account_id, method_id, enabled, amount_rule, fixed_amount, off_reason, updated_at)
		VALUES (?, ?, TRUE, ?, ?, '', ?)
		ON CONFLICT (account_id) DO UPDATE SET method_id = excluded.method_id, enabled = TRUE, amount_rule = excluded.amount_rule,
			fixed_amount = excluded.fixed_amount, off_reason = '', updated_at = excluded.updated_at`,
		accountID, m.ID, string(rule), int64(fixed), now.UTC())
	if err != nil {
		return fmt.Errorf("turn autopay on for account %d: %w", accountID, err)
	}
	data := map[string]string{"method": m.Label(), "rule": string(rule), "by": by}
	if rule == RuleFixed {
		data["amount"] = fixed.Decimal()
	}
	return tx.Emit(ctx, store.Event{Kind: EventEnabled, AccountID: accountID, At: now, Data: data})
}

// Disable turns autopay off at the subscriber's wish. The saved card stays
// (turning on again needs no new payment); a charge already made stands.
func (s *Service) Disable(ctx context.Context, accountID int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		return s.disable(ctx, tx, accountID, payment.ReasonNone, "subscriber")
	})
}

func (s *Service) disable(ctx context.Context, tx *store.Tx, accountID int64, why payment.Reason, by string) error {
	now := s.clock.Now()
	res, err := tx.Exec(ctx, `UPDATE autopay SET enabled = FALSE, off_reason = ?, updated_at = ? WHERE account_id = ? AND enabled`,
		string(why), now.UTC(), accountID)
	if err != nil {
		return fmt.Errorf("turn autopay off for account %d: %w", accountID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // already off: nothing to record
	}
	// A charge planned but not yet made is not made.
	if _, err := tx.Exec(ctx, `UPDATE autopay_charges SET status = 'skipped', reason = 'autopay_off', updated_at = ? WHERE account_id = ? AND status = 'due'`,
		now.UTC(), accountID); err != nil {
		return fmt.Errorf("turn autopay off for account %d: %w", accountID, err)
	}
	return tx.Emit(ctx, store.Event{Kind: EventDisabled, AccountID: accountID, At: now, Data: map[string]string{"by": by, "reason": string(why)}})
}

// Charge is one period's charge, for the portal's history and the tests.
type Charge struct {
	ID        int64
	AccountID int64
	Period    string
	Amount    money.Amount
	Status    string
	Attempts  int
	NextAt    time.Time
	PaymentID int64
	Reason    string
}

// Charges lists the account's charges, newest period first.
func (s *Service) Charges(ctx context.Context, accountID int64, limit int) ([]Charge, error) {
	if limit <= 0 {
		limit = 12
	}
	rows, err := s.db.Query(ctx, `SELECT id, account_id, period, amount, status, attempts, next_attempt_at, COALESCE(payment_id, 0), reason
		FROM autopay_charges WHERE account_id = ? ORDER BY period DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("autopay charges of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Charge
	for rows.Next() {
		var c Charge
		if err := rows.Scan(&c.ID, &c.AccountID, &c.Period, &c.Amount, &c.Status, &c.Attempts, &c.NextAt, &c.PaymentID, &c.Reason); err != nil {
			return nil, fmt.Errorf("autopay charges of account %d: %w", accountID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// reasonText is a decline's text in lang for a letter.
func reasonText(r payment.Reason, lang, phone string) string {
	id := r.MessageID()
	if id == "" {
		return ""
	}
	for _, m := range payment.Messages {
		if m.ID == id {
			t := m.RU
			if lang == "en" {
				t = m.EN
			}
			return strings.ReplaceAll(t, "{{.Phone}}", phone)
		}
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
