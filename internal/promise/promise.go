// Package promise is the promised payment ("обещанный платёж"): a
// subscriber limited for debt promises to pay and the line runs unlimited
// for a few days; the balance does not move. A payment that brings the
// balance back to zero closes the promise; when it ends unpaid the line is
// limited again at once.
//
// The promise and its rules live here; the account's row and the limit are
// billing's: a promise puts a hold on the limit (billing.Biller.Hold), its
// end releases it (Release), and billing tells this package when a payment
// ended a hold (OnHoldCleared). Every change commits with its events (and,
// from the back office, its audit entry) in one transaction. At most one
// promise is open per account: a unique index on the open ones, with the
// account's row locked while the rules are checked, makes two takes at
// once, from two instances, open one.
package promise

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Refusals: each carries a message code the surfaces translate as
// "<surface>.error.<code>" (the portal: promise.error.<code>).
var (
	ErrDisabled error = derrors.New(derrors.Unavailable, "disabled", "promised payments are turned off")
	ErrOpen     error = derrors.New(derrors.Conflict, "open", "a promised payment is already open")
	ErrRecent   error = derrors.New(derrors.Conflict, "recent", "a promised payment was taken too recently")
	ErrNoDebt   error = derrors.New(derrors.Conflict, "no_debt", "there is no debt to promise to pay")
	ErrDebtOld  error = derrors.New(derrors.Conflict, "debt_old", "the debt is too old for a promised payment")
	ErrInactive error = derrors.New(derrors.Conflict, "inactive", "the account is blocked, frozen or closed")
	ErrAmount   error = &derrors.Error{Kind: derrors.Invalid, Code: "amount", Field: "amount", Msg: "the amount is not within the allowed range"}
)

// Channels a promise is taken through.
const (
	ChannelPortal   = "portal"
	ChannelAPI      = "api"
	ChannelOffice   = "office"
	ChannelTelegram = "telegram"
)

// Why a promise ended.
const (
	EndPaid    = "paid"
	EndExpired = "expired"
)

// Rules are the [promise] settings.
type Rules struct {
	Disabled    bool
	Days        int          // the line runs unlimited this many days
	EveryDays   int          // at most one promise in this many days
	MaxAmount   money.Amount // 0: the recommended payment
	Fee         money.Amount // charged when taken; 0: none
	MaxDebtDays int          // debt older than this is refused; 0: any age
}

// DefaultRules: 3 days, once in 30, up to the recommended payment, no fee,
// debt up to 90 days old.
func DefaultRules() Rules {
	r, _ := RulesOf(config.Default().Promise)
	return r
}

// RulesOf reads the [promise] section (config.Check has validated it).
func RulesOf(c config.Promise) (Rules, error) {
	r := Rules{Disabled: c.Disabled, Days: c.Days, EveryDays: c.EveryDays, MaxDebtDays: c.MaxDebtDays}
	for _, f := range []struct {
		s   string
		dst *money.Amount
	}{{c.MaxAmount, &r.MaxAmount}, {c.Fee, &r.Fee}} {
		if f.s == "" {
			continue
		}
		a, err := money.Parse(f.s)
		if err != nil || a < 0 {
			return r, fmt.Errorf("[promise]: %q is not an amount", f.s)
		}
		*f.dst = a
	}
	if r.Days <= 0 {
		r.Days = 3
	}
	if r.EveryDays < r.Days {
		r.EveryDays = max(r.Days, 30)
	}
	return r, nil
}

// Promise is one promised payment.
type Promise struct {
	ID        int64
	AccountID int64
	Amount    money.Amount
	Fee       money.Amount
	TakenAt   time.Time
	EndsAt    time.Time
	EndedAt   time.Time // zero while open
	EndReason string    // EndPaid, EndExpired; empty while open
	Channel   string
	Operator  string // the operator who granted it
}

// Open tells whether the promise still holds the limit.
func (p Promise) Open() bool { return p.EndedAt.IsZero() }

// Service takes and ends promises.
type Service struct {
	DB     *store.DB
	Clock  clock.Clock
	Biller *billing.Biller
	Rules  Rules
	Log    *slog.Logger // nil: slog.Default()
}

// New makes the service and tells biller to close a promise when a payment
// ends its hold.
func New(db *store.DB, clk clock.Clock, b *billing.Biller, r Rules) *Service {
	s := &Service{DB: db, Clock: clk, Biller: b, Rules: r}
	b.OnHoldCleared(s.closePaid)
	return s
}

// Request is a promise to take.
type Request struct {
	AccountID int64
	Amount    money.Amount
	Channel   string // ChannelPortal, ChannelAPI, ChannelOffice
	Operator  string // who granted it, from the back office
}

// Offer is what the subscriber may do now, shown before taking.
type Offer struct {
	Open      *Promise     // the promise open now, if any
	Available bool         // a promise may be taken now
	Refusal   error        // why not, when not Available
	Amount    money.Amount // the suggested amount
	MaxAmount money.Amount
	Fee       money.Amount
	Days      int
	EndsAt    time.Time // when a promise taken now ends
	NextAt    time.Time // when the frequency rule allows the next one; zero: now
	EveryDays int
	DebtDays  int // the oldest debt a promise is given to; 0: any
}

// Figures are the numbers the texts of an offer and its refusals name, for
// a language: Days (once in so many), DebtDays, Max (the largest amount),
// Fee, N (the days a promise lasts), Date (when the next may be taken, or
// the open one ends; "—" if neither) and Until (when one taken now would
// end).
func (o Offer) Figures(lang string, zone *time.Location) map[string]any {
	date := func(t time.Time) string { return t.In(zone).Format("02.01.2006") }
	f := map[string]any{"Days": o.EveryDays, "DebtDays": o.DebtDays, "Max": o.MaxAmount.Format(lang), "Fee": o.Fee.Format(lang),
		"Date": "—", "Until": date(o.EndsAt), "N": o.Days}
	if !o.NextAt.IsZero() {
		f["Date"] = date(o.NextAt)
	}
	if o.Open != nil {
		f["Date"] = date(o.Open.EndsAt)
	}
	return f
}

// Offer tells whether the account may take a promise now, for how much and
// until when, or why not.
func (s *Service) Offer(ctx context.Context, accountID int64) (Offer, error) {
	now := s.Clock.Now()
	sum, err := s.Biller.Summary(ctx, accountID)
	if err != nil {
		return Offer{}, err
	}
	open, last, err := s.latest(ctx, s.DB, accountID)
	if err != nil {
		return Offer{}, err
	}
	o := Offer{Open: open, MaxAmount: s.maxAmount(sum), Fee: s.Rules.Fee, Days: s.Rules.Days, EndsAt: s.endsAt(now),
		EveryDays: s.Rules.EveryDays, DebtDays: s.Rules.MaxDebtDays}
	o.Amount = min(sum.Recommended, o.MaxAmount)
	if !last.IsZero() {
		if next := s.nextAt(last); next.After(now) {
			o.NextAt = next
		}
	}
	st := billing.Standing{AccountID: accountID, Status: sum.Status, Balance: sum.Balance, DebtSince: sum.DebtSince, PromisedUntil: sum.PromisedUntil}
	o.Refusal = s.check(st, open != nil, last, now)
	o.Available = o.Refusal == nil
	return o, nil
}

func (s *Service) maxAmount(sum billing.Summary) money.Amount {
	if s.Rules.MaxAmount > 0 {
		return s.Rules.MaxAmount
	}
	return sum.Recommended
}

func (s *Service) endsAt(now time.Time) time.Time {
	return now.In(s.Biller.Rules.Zone).AddDate(0, 0, s.Rules.Days)
}

func (s *Service) nextAt(last time.Time) time.Time {
	return last.In(s.Biller.Rules.Zone).AddDate(0, 0, s.Rules.EveryDays)
}

// check applies the rules to an account's standing: open tells whether a
// promise is open, last when the latest one was taken (zero: never).
func (s *Service) check(st billing.Standing, open bool, last time.Time, now time.Time) error {
	switch {
	case s.Rules.Disabled:
		return ErrDisabled
	case st.Status != billing.StatusActive && st.Status != billing.StatusLimited:
		return fmt.Errorf("account %d is %s: %w", st.AccountID, st.Status, ErrInactive)
	case open:
		return fmt.Errorf("account %d: %w", st.AccountID, ErrOpen)
	case st.Balance >= 0:
		return fmt.Errorf("account %d: %w", st.AccountID, ErrNoDebt)
	case !last.IsZero() && now.Before(s.nextAt(last)):
		return fmt.Errorf("account %d took one at %s: %w", st.AccountID, last.Format(time.RFC3339), ErrRecent)
	case s.Rules.MaxDebtDays > 0 && !st.DebtSince.IsZero() &&
		now.After(st.DebtSince.In(s.Biller.Rules.Zone).AddDate(0, 0, s.Rules.MaxDebtDays)):
		return fmt.Errorf("account %d in debt since %s: %w", st.AccountID, st.DebtSince.Format(time.RFC3339), ErrDebtOld)
	}
	return nil
}

// latest reads the open promise, if any, and when the latest was taken.
func (s *Service) latest(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) *sql.Row
}, accountID int64) (*Promise, time.Time, error) {
	p, err := scan(q.QueryRow(ctx, `SELECT `+cols+` FROM promises WHERE account_id = ? ORDER BY taken_at DESC, id DESC LIMIT 1`, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("promises of %d: %w", accountID, err)
	}
	if p.Open() {
		return &p, p.TakenAt, nil
	}
	return nil, p.TakenAt, nil
}

const cols = `id, account_id, amount, fee, taken_at, ends_at, ended_at, end_reason, channel, operator`

func scan(row interface{ Scan(...any) error }) (Promise, error) {
	var p Promise
	var ended sql.NullTime
	err := row.Scan(&p.ID, &p.AccountID, &p.Amount, &p.Fee, &p.TakenAt, &p.EndsAt, &ended, &p.EndReason, &p.Channel, &p.Operator)
	p.EndedAt = ended.Time
	return p, err
}

// Take opens a promise for the account in a transaction of its own.
func (s *Service) Take(ctx context.Context, r Request) (Promise, error) {
	var p Promise
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		p, err = s.TakeTx(ctx, tx, r)
		return err
	})
	return p, err
}

// TakeTx opens a promise inside tx (the back office's audited
// transaction): the rules are checked with the account's row locked, the
// fee is charged, the limit held until the promise ends, and the events
// written, all or nothing.
func (s *Service) TakeTx(ctx context.Context, tx *store.Tx, r Request) (Promise, error) {
	now := s.Clock.Now()
	if s.Rules.Disabled {
		return Promise{}, ErrDisabled
	}
	// The cap reads the fees of the next period: outside the lock, as a
	// limit on what may be promised it need not be exact to the second.
	sum, err := s.Biller.Summary(ctx, r.AccountID)
	if err != nil {
		return Promise{}, err
	}
	st, err := s.Biller.StandingTx(ctx, tx, r.AccountID)
	if err != nil {
		return Promise{}, err
	}
	open, last, err := s.latest(ctx, tx, r.AccountID)
	if err != nil {
		return Promise{}, err
	}
	if err := s.check(st, open != nil, last, now); err != nil {
		return Promise{}, err
	}
	if r.Amount <= 0 || r.Amount > s.maxAmount(sum) {
		return Promise{}, fmt.Errorf("promise of %s to account %d (at most %s): %w", r.Amount.Decimal(), r.AccountID, s.maxAmount(sum).Decimal(), ErrAmount)
	}
	p := Promise{AccountID: r.AccountID, Amount: r.Amount, Fee: s.Rules.Fee, TakenAt: now, EndsAt: s.endsAt(now),
		Channel: r.Channel, Operator: r.Operator}
	err = tx.QueryRow(ctx, `INSERT INTO promises (account_id, amount, fee, taken_at, ends_at, channel, operator) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.AccountID, p.Amount, p.Fee, p.TakenAt.UTC(), p.EndsAt.UTC(), p.Channel, p.Operator).Scan(&p.ID)
	if store.IsUniqueViolation(err) {
		return Promise{}, fmt.Errorf("account %d: %w", r.AccountID, ErrOpen)
	}
	if err != nil {
		return Promise{}, fmt.Errorf("promise of account %d: %w", r.AccountID, err)
	}
	if p.Fee > 0 {
		if _, err := s.Biller.Charge(ctx, tx, r.AccountID, fmt.Sprintf("promise:%d:fee", p.ID), "promise", "promise", p.Fee, "promised payment", now); err != nil {
			return Promise{}, err
		}
	}
	if _, err := s.Biller.Hold(ctx, tx, r.AccountID, p.EndsAt, now, "promise"); err != nil {
		return Promise{}, err
	}
	err = tx.Emit(ctx, store.Event{Kind: store.EventPromiseTaken, AccountID: r.AccountID, At: now, Data: map[string]string{
		"promise": strconv.FormatInt(p.ID, 10), "amount": p.Amount.Decimal(), "fee": p.Fee.Decimal(),
		"ends_at": p.EndsAt.UTC().Format(time.RFC3339), "channel": p.Channel}})
	return p, err
}

// Current is the account's open promise, or nil.
func (s *Service) Current(ctx context.Context, accountID int64) (*Promise, error) {
	p, _, err := s.latest(ctx, s.DB, accountID)
	return p, err
}

// History lists the account's promises, newest first.
func (s *Service) History(ctx context.Context, accountID int64, limit int) ([]Promise, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := s.DB.Query(ctx, `SELECT `+cols+` FROM promises WHERE account_id = ? ORDER BY taken_at DESC, id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("promises of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Promise
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("promises of %d: %w", accountID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Ending lists the open promises that end after from and no later than to,
// oldest end first: the notifier tells their subscribers a day before.
func Ending(ctx context.Context, q store.Querier, from, to time.Time) ([]Promise, error) {
	rows, err := q.Query(ctx, `SELECT `+cols+` FROM promises WHERE ended_at IS NULL AND ends_at > ? AND ends_at <= ? ORDER BY ends_at, id`, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("promises ending: %w", err)
	}
	defer rows.Close()
	var out []Promise
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("promises ending: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// closePaid closes the account's open promise as paid, in the transaction
// of the payment that ended its hold.
func (s *Service) closePaid(ctx context.Context, tx *store.Tx, accountID int64, now time.Time) error {
	ids, err := s.end(ctx, tx, `account_id = ?`, []any{accountID}, EndPaid, now)
	if err != nil {
		return err
	}
	return s.ended(ctx, tx, ids, EndPaid, now, nil)
}

type ended struct{ id, account int64 }

// end closes the open promises matching where; a promise another instance
// closed first is not returned, so each is ended once.
func (s *Service) end(ctx context.Context, tx *store.Tx, where string, args []any, reason string, now time.Time) ([]ended, error) {
	rows, err := tx.Query(ctx, `UPDATE promises SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND `+where+` RETURNING id, account_id`,
		append([]any{now.UTC(), reason}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("end promises: %w", err)
	}
	defer rows.Close()
	var out []ended
	for rows.Next() {
		var e ended
		if err := rows.Scan(&e.id, &e.account); err != nil {
			return nil, fmt.Errorf("end promises: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ended writes the events of promises that ended; limited names the
// accounts whose line their end limited.
func (s *Service) ended(ctx context.Context, tx *store.Tx, es []ended, reason string, now time.Time, limited map[int64]bool) error {
	events := make([]store.Event, 0, len(es))
	for _, e := range es {
		events = append(events, store.Event{Kind: store.EventPromiseEnded, AccountID: e.account, At: now, Data: map[string]string{
			"promise": strconv.FormatInt(e.id, 10), "reason": reason, "limited": strconv.FormatBool(limited[e.account])}})
	}
	return tx.EmitMany(ctx, events)
}

// Result is what one pass of Expire did.
type Result struct {
	Expired int // promises whose time ran out
	Limited int // of those, lines limited again
	Paid    int // promises found paid (a payment ended the hold where no Service was listening)
}

// Expire ends the promises due at now: each line whose debt is still
// overdue is limited again at once. Promises whose hold a payment ended
// (made by a process without this service, such as `kabinet payment add`)
// are closed as paid first. Conditional updates make each promise end once
// however many instances run it.
func (s *Service) Expire(ctx context.Context, now time.Time) (Result, error) {
	var res Result
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		res = Result{}
		if err := s.sweepPaid(ctx, tx, now, &res); err != nil {
			return err
		}
		es, err := s.end(ctx, tx, `ends_at <= ?`, []any{now.UTC()}, EndExpired, now)
		if err != nil {
			return err
		}
		limited := map[int64]bool{}
		for _, e := range es {
			l, err := s.Biller.Release(ctx, tx, e.account, now)
			if err != nil {
				return err
			}
			if l {
				limited[e.account] = true
				res.Limited++
			}
		}
		res.Expired = len(es)
		return s.ended(ctx, tx, es, EndExpired, now, limited)
	})
	if err != nil {
		return Result{}, fmt.Errorf("expire promises: %w", err)
	}
	return res, nil
}

func (s *Service) sweepPaid(ctx context.Context, tx *store.Tx, now time.Time, res *Result) error {
	rows, err := tx.Query(ctx, `SELECT id, account_id FROM promises WHERE ended_at IS NULL`)
	if err != nil {
		return err
	}
	var open []ended
	var accts []int64
	for rows.Next() {
		var e ended
		if err := rows.Scan(&e.id, &e.account); err != nil {
			rows.Close()
			return err
		}
		open = append(open, e)
		accts = append(accts, e.account)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(open) == 0 {
		return err
	}
	holds, err := s.Biller.Holds(ctx, tx, accts)
	if err != nil {
		return err
	}
	var paid []ended
	for _, e := range open {
		if _, held := holds[e.account]; held {
			continue
		}
		es, err := s.end(ctx, tx, `id = ?`, []any{e.id}, EndPaid, now)
		if err != nil {
			return err
		}
		paid = append(paid, es...)
	}
	res.Paid = len(paid)
	return s.ended(ctx, tx, paid, EndPaid, now, nil)
}

// Loop ends due promises every interval until ctx ends (see clock.Every).
func (s *Service) Loop(ctx context.Context, every time.Duration) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	clock.Every(ctx, every, func(ctx context.Context) {
		res, err := s.Expire(ctx, s.Clock.Now())
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			log.Error("promised payments", "err", err)
		case res.Expired > 0 || res.Paid > 0:
			log.Info("promised payments ended", "expired", res.Expired, "limited", res.Limited, "paid", res.Paid)
		}
	})
}
