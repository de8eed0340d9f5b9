// Package suspension is the voluntary suspension ("добровольная
// блокировка"): a subscriber going away freezes the account from a date for
// a number of days; no tariff fee is charged for the frozen days (prorated
// at both ends), an optional fee of its own is, and the line is refused (or
// sent to a redirect address list) until the suspension ends or the
// subscriber resumes early.
//
// The suspension and its rules live here; the account's row, the money
// and the limit are billing's (billing.Biller.Freeze and Thaw). Scheduled
// starts, ends and the reminder the day before are made by Tick, run every
// minute by every instance: each transition is a conditional update of the
// suspension's row, so it happens once however many instances run it, and
// it commits with its money, its account change and its events (and, from
// the back office, its audit entry) in one transaction. At most one
// suspension is scheduled or running per account: a unique index on the
// open ones, with the account's row locked while the rules are checked.
//
// Debt: a suspension is refused while the balance is below zero (pay the
// debt first): a frozen line cannot be limited, so debt would otherwise
// stop aging for the whole suspension. With a fee, the balance must also
// cover it, since it is charged in full when the suspension starts (the
// unused part is returned on an early resume).
package suspension

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
// "<surface>.error.suspension.<code>" (the portal: suspension.error.<code>).
var (
	ErrDisabled error = derrors.New(derrors.Unavailable, "disabled", "voluntary suspension is turned off")
	ErrOpen     error = derrors.New(derrors.Conflict, "open", "a suspension is already scheduled or running")
	ErrYear     error = derrors.New(derrors.Conflict, "per_year", "too many suspensions this year")
	ErrDebt     error = derrors.New(derrors.Conflict, "debt", "the account is in debt")
	ErrFunds    error = derrors.New(derrors.Conflict, "funds", "the balance does not cover the suspension's fee")
	ErrInactive error = derrors.New(derrors.Conflict, "inactive", "the account is blocked, frozen or closed")
	ErrNone     error = derrors.New(derrors.NotFound, "none", "no suspension is scheduled or running")
	ErrDays     error = &derrors.Error{Kind: derrors.Invalid, Code: "days", Field: "days", Msg: "the number of days is not within the allowed range"}
	ErrFrom     error = &derrors.Error{Kind: derrors.Invalid, Code: "from", Field: "from", Msg: "the start date is not within the allowed range"}
	ErrLonger   error = &derrors.Error{Kind: derrors.Invalid, Code: "longer", Field: "days", Msg: "an extension must end after the planned end"}
)

// Channels a suspension is asked through.
const (
	ChannelPortal = "portal"
	ChannelAPI    = "api"
	ChannelOffice = "office"
	ChannelCLI    = "cli"
)

// States of a suspension.
const (
	StateScheduled = "scheduled"
	StateActive    = "active"
	StateEnded     = "ended"
	StateCancelled = "cancelled"
)

// Why a suspension ended.
const (
	EndExpired   = "expired"   // its days ran out
	EndEarly     = "early"     // resumed before its end
	EndCancelled = "cancelled" // called off before it started
	EndInactive  = "inactive"  // the account was blocked or closed before it started
)

// Rules are the [suspension] settings.
type Rules struct {
	Disabled   bool
	MinDays    int
	MaxDays    int
	MaxPerYear int // 0: no limit
	AheadDays  int
	MonthlyFee money.Amount // 0: none
	// Radius is "reject" or the address list a frozen line is admitted
	// into (RADIUS reads it; see RedirectList).
	Radius string
}

// RedirectList is the address list frozen lines go to, or "" to reject.
func (r Rules) RedirectList() string {
	if r.Radius == "reject" {
		return ""
	}
	return r.Radius
}

// DefaultRules: 7 to 90 days, twice a year, up to 30 days ahead, no fee,
// rejected by RADIUS.
func DefaultRules() Rules {
	r, _ := RulesOf(config.Default().Suspension)
	return r
}

// RulesOf reads the [suspension] section (config.Check has validated it).
func RulesOf(c config.Suspension) (Rules, error) {
	r := Rules{Disabled: c.Disabled, MinDays: c.MinDays, MaxDays: c.MaxDays, MaxPerYear: c.MaxPerYear, AheadDays: c.AheadDays, Radius: c.Radius}
	if c.MonthlyFee != "" {
		a, err := money.Parse(c.MonthlyFee)
		if err != nil || a < 0 {
			return r, fmt.Errorf("[suspension]: monthly_fee %q is not an amount", c.MonthlyFee)
		}
		r.MonthlyFee = a
	}
	if r.MinDays <= 0 {
		r.MinDays = 1
	}
	if r.MaxDays < r.MinDays {
		r.MaxDays = r.MinDays
	}
	if r.Radius == "" {
		r.Radius = "reject"
	}
	return r, nil
}

// Suspension is one voluntary suspension.
type Suspension struct {
	ID          int64
	AccountID   int64
	StartsAt    time.Time // 00:00 of the first frozen day, in the provider's zone
	EndsAt      time.Time // when the line resumes: PlannedEnd, or the early resume
	PlannedEnd  time.Time // 00:00 of the day after the last frozen day
	Days        int
	State       string
	Fee         money.Amount // the suspension's own fee for the planned days
	Channel     string
	Operator    string
	CreatedAt   time.Time
	StartedAt   time.Time // zero until it starts
	EndedAt     time.Time // zero until it ends
	EndReason   string
	RemindedAt  time.Time
	AccountName string // List only: the login
}

// Open tells whether the suspension is scheduled or running.
func (s Suspension) Open() bool { return s.State == StateScheduled || s.State == StateActive }

// Frozen tells whether the account is frozen by it now.
func (s Suspension) Frozen() bool { return s.State == StateActive }

// LastDay is the last frozen day (the day before the line resumes).
func (s Suspension) LastDay() time.Time { return s.EndsAt.AddDate(0, 0, -1) }

// Service schedules, starts and ends suspensions.
type Service struct {
	DB     *store.DB
	Clock  clock.Clock
	Biller *billing.Biller
	Rules  Rules
	Log    *slog.Logger // nil: slog.Default()
}

// New makes the service.
func New(db *store.DB, clk clock.Clock, b *billing.Biller, r Rules) *Service {
	return &Service{DB: db, Clock: clk, Biller: b, Rules: r}
}

func (s *Service) zone() *time.Location { return s.Biller.Rules.Zone }

// Day is 00:00 of t's day in the provider's zone.
func (s *Service) Day(t time.Time) time.Time {
	lt := t.In(s.zone())
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, s.zone())
}

// ParseDate reads "2006-01-02" (or "02.01.2006") as a day in the
// provider's zone; a bad date is ErrFrom.
func (s *Service) ParseDate(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "02.01.2006"} {
		if t, err := time.ParseInLocation(layout, v, s.zone()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: %w", v, ErrFrom)
}

// Request is a suspension to schedule.
type Request struct {
	AccountID int64
	From      time.Time // the first frozen day (any moment of it)
	Days      int
	// Last: for an extension, the new last frozen day (any moment of it),
	// which sets Days counted from the suspension's first day.
	Last     time.Time
	Channel  string
	Operator string // who asked, from the back office
}

// Quote is what a suspension would do, shown before confirming.
type Quote struct {
	From      time.Time // the first frozen day
	Until     time.Time // when the line resumes (the day after the last frozen day)
	Days      int
	TariffFee money.Amount // the tariff's monthly fee
	Saved     money.Amount // tariff fees not charged for the frozen days
	Fee       money.Amount // the suspension's own fee
	Months    []billing.FrozenCharge
	Refusal   error // why it cannot be had, nil if it can
	Rules     Rules
}

// Figures are the numbers the texts of a quote and its refusals name:
// Min, Max (days), PerYear, Ahead (days), Fee (monthly), From, Until and
// Last (dates), Days.
func (q Quote) Figures(lang string, zone *time.Location) map[string]any {
	date := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(zone).Format("02.01.2006")
	}
	return map[string]any{"Min": q.Rules.MinDays, "Max": q.Rules.MaxDays, "PerYear": q.Rules.MaxPerYear, "Ahead": q.Rules.AheadDays,
		"Fee": q.Rules.MonthlyFee.Format(lang), "From": date(q.From), "Until": date(q.Until), "Last": date(q.Until.AddDate(0, 0, -1)), "Days": q.Days}
}

// facts are what the rules need to know of an account.
type facts struct {
	Standing billing.Standing
	Open     *Suspension
	ThisYear int // suspensions (not cancelled) starting in the year of the requested start
}

// check applies the rules to a request on the day today.
func (s *Service) check(f facts, from time.Time, days int, fee money.Amount, today time.Time) error {
	st := f.Standing
	switch {
	case s.Rules.Disabled:
		return ErrDisabled
	case f.Open != nil:
		// Before the status: an account frozen by its own suspension is
		// told so, not that it is frozen.
		return fmt.Errorf("account %d: suspension %d is %s: %w", st.AccountID, f.Open.ID, f.Open.State, ErrOpen)
	case st.Status != billing.StatusActive && st.Status != billing.StatusLimited:
		return fmt.Errorf("account %d is %s: %w", st.AccountID, st.Status, ErrInactive)
	case st.Balance < 0:
		return fmt.Errorf("account %d owes %s: %w", st.AccountID, (-st.Balance).Decimal(), ErrDebt)
	case days < s.Rules.MinDays || days > s.Rules.MaxDays:
		return fmt.Errorf("%d days (%d–%d): %w", days, s.Rules.MinDays, s.Rules.MaxDays, ErrDays)
	case from.IsZero() || from.Before(today) || from.After(today.AddDate(0, 0, s.Rules.AheadDays)):
		return fmt.Errorf("from %s (today %s, up to %d days ahead): %w", from.Format("2006-01-02"), today.Format("2006-01-02"), s.Rules.AheadDays, ErrFrom)
	case s.Rules.MaxPerYear > 0 && f.ThisYear >= s.Rules.MaxPerYear:
		return fmt.Errorf("account %d has %d suspensions in %d: %w", st.AccountID, f.ThisYear, from.Year(), ErrYear)
	case st.Balance < fee:
		return fmt.Errorf("account %d has %s, the fee is %s: %w", st.AccountID, st.Balance.Decimal(), fee.Decimal(), ErrFunds)
	}
	return nil
}

type queryer interface {
	QueryRow(context.Context, string, ...any) *sql.Row
	Query(context.Context, string, ...any) (*sql.Rows, error)
}

func (s *Service) facts(ctx context.Context, q queryer, st billing.Standing, from time.Time) (facts, error) {
	f := facts{Standing: st}
	open, err := s.open(ctx, q, st.AccountID)
	if err != nil {
		return f, err
	}
	f.Open = open
	if !from.IsZero() {
		y := from.In(s.zone()).Year()
		lo := time.Date(y, 1, 1, 0, 0, 0, 0, s.zone())
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM suspensions WHERE account_id = ? AND state <> 'cancelled' AND starts_at >= ? AND starts_at < ?`,
			st.AccountID, lo.UTC(), lo.AddDate(1, 0, 0).UTC()).Scan(&f.ThisYear); err != nil {
			return f, fmt.Errorf("suspensions of %d: %w", st.AccountID, err)
		}
	}
	return f, nil
}

// span is the first frozen day and the moment the line resumes.
func (s *Service) span(from time.Time, days int) (time.Time, time.Time) {
	start := s.Day(from)
	return start, start.AddDate(0, 0, days)
}

// Quote tells what suspending the account from from for days would do,
// and whether it may (Refusal).
func (s *Service) Quote(ctx context.Context, accountID int64, from time.Time, days int) (Quote, error) {
	q := Quote{Days: days, Rules: s.Rules}
	sum, err := s.Biller.Summary(ctx, accountID)
	if err != nil {
		return q, err
	}
	st := billing.Standing{AccountID: accountID, Status: sum.Status, Balance: sum.Balance, DebtSince: sum.DebtSince, PromisedUntil: sum.PromisedUntil}
	f, err := s.facts(ctx, s.DB, st, from)
	if err != nil {
		return q, err
	}
	fee, err := s.Biller.TariffFee(ctx, s.DB, accountID)
	if err != nil {
		return q, err
	}
	s.fill(&q, fee, from, days)
	q.Refusal = s.check(f, q.From, days, q.Fee, s.Day(s.Clock.Now()))
	return q, nil
}

func (s *Service) fill(q *Quote, tariffFee money.Amount, from time.Time, days int) {
	q.TariffFee = tariffFee
	if from.IsZero() || days <= 0 {
		return
	}
	q.From, q.Until = s.span(from, days)
	q.Months = billing.SuspensionFees(tariffFee, q.From, q.Until, s.zone())
	for _, m := range q.Months {
		q.Saved += m.Saved()
	}
	q.Fee = billing.ProratedFee(s.Rules.MonthlyFee, q.From, q.Until, s.zone())
}

const cols = `id, account_id, starts_at, ends_at, planned_ends_at, days, state, fee, channel, operator, created_at, started_at, ended_at, end_reason, reminded_at`

func scan(row interface{ Scan(...any) error }) (Suspension, error) {
	var u Suspension
	var started, ended, reminded sql.NullTime
	err := row.Scan(&u.ID, &u.AccountID, &u.StartsAt, &u.EndsAt, &u.PlannedEnd, &u.Days, &u.State, &u.Fee, &u.Channel, &u.Operator,
		&u.CreatedAt, &started, &ended, &u.EndReason, &reminded)
	u.StartedAt, u.EndedAt, u.RemindedAt = started.Time, ended.Time, reminded.Time
	return u, err
}

func (s *Service) open(ctx context.Context, q queryer, accountID int64) (*Suspension, error) {
	u, err := scan(q.QueryRow(ctx, `SELECT `+cols+` FROM suspensions WHERE account_id = ? AND state IN ('scheduled', 'active')`, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("suspension of %d: %w", accountID, err)
	}
	return &u, nil
}

// Current is the account's scheduled or running suspension, or nil.
func (s *Service) Current(ctx context.Context, accountID int64) (*Suspension, error) {
	return s.open(ctx, s.DB, accountID)
}

// History lists the account's suspensions, newest first.
func (s *Service) History(ctx context.Context, accountID int64, limit int) ([]Suspension, error) {
	if limit <= 0 {
		limit = 20
	}
	return s.list(ctx, `WHERE account_id = ? ORDER BY starts_at DESC, id DESC LIMIT ?`, accountID, limit)
}

// List lists the suspensions scheduled or running, soonest end first.
func (s *Service) List(ctx context.Context) ([]Suspension, error) {
	return s.list(ctx, `WHERE state IN ('scheduled', 'active') ORDER BY ends_at, id`)
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Suspension, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+cols+` FROM suspensions `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("suspensions: %w", err)
	}
	var out []Suspension
	var ids []int64
	for rows.Next() {
		u, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("suspensions: %w", err)
		}
		out = append(out, u)
		ids = append(ids, u.AccountID)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// The logins through billing, the accounts table's owner.
	logins, err := billing.Logins(ctx, s.DB, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].AccountName = logins[out[i].AccountID]
	}
	return out, nil
}

// Start schedules a suspension (or starts it, from today) in a transaction
// of its own.
func (s *Service) Start(ctx context.Context, r Request) (Suspension, error) {
	return s.write(ctx, func(tx *store.Tx) (Suspension, error) { return s.StartTx(ctx, tx, r) })
}

// write runs f, a change of one suspension, in a transaction of its own.
func (s *Service) write(ctx context.Context, f func(tx *store.Tx) (Suspension, error)) (Suspension, error) {
	var u Suspension
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		u, err = f(tx)
		return err
	})
	return u, err
}

// StartTx schedules a suspension inside tx (the back office's audited
// transaction): the rules are checked with the account's row locked; one
// from today starts at once (frozen, its fee charged, RADIUS told), a later
// one is started by Tick on its day.
func (s *Service) StartTx(ctx context.Context, tx *store.Tx, r Request) (Suspension, error) {
	now := s.Clock.Now()
	if s.Rules.Disabled {
		return Suspension{}, ErrDisabled
	}
	st, err := s.Biller.StandingTx(ctx, tx, r.AccountID)
	if err != nil {
		return Suspension{}, err
	}
	f, err := s.facts(ctx, tx, st, r.From)
	if err != nil {
		return Suspension{}, err
	}
	var q Quote
	fee, err := s.Biller.TariffFee(ctx, tx, r.AccountID)
	if err != nil {
		return Suspension{}, err
	}
	s.fill(&q, fee, r.From, r.Days)
	if err := s.check(f, q.From, r.Days, q.Fee, s.Day(now)); err != nil {
		return Suspension{}, err
	}
	u := Suspension{AccountID: r.AccountID, StartsAt: q.From, EndsAt: q.Until, PlannedEnd: q.Until, Days: r.Days, State: StateScheduled,
		Fee: q.Fee, Channel: r.Channel, Operator: r.Operator, CreatedAt: now}
	err = tx.QueryRow(ctx, `INSERT INTO suspensions (account_id, starts_at, ends_at, planned_ends_at, days, state, fee, channel, operator, created_at)
		VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?) RETURNING id`,
		u.AccountID, u.StartsAt.UTC(), u.EndsAt.UTC(), u.PlannedEnd.UTC(), u.Days, u.Fee, u.Channel, u.Operator, now.UTC()).Scan(&u.ID)
	if store.IsUniqueViolation(err) {
		return Suspension{}, fmt.Errorf("account %d: %w", r.AccountID, ErrOpen)
	}
	if err != nil {
		return Suspension{}, fmt.Errorf("suspension of account %d: %w", r.AccountID, err)
	}
	if err := tx.Emit(ctx, store.Event{Kind: store.EventSuspensionScheduled, AccountID: u.AccountID, At: now, Data: u.eventData()}); err != nil {
		return Suspension{}, err
	}
	if !u.StartsAt.After(now) {
		if err := s.begin(ctx, tx, &u, now); err != nil {
			return Suspension{}, err
		}
	}
	return u, nil
}

func (u Suspension) eventData() map[string]string {
	return map[string]string{"suspension": strconv.FormatInt(u.ID, 10), "from": u.StartsAt.UTC().Format(time.RFC3339),
		"until": u.EndsAt.UTC().Format(time.RFC3339), "days": strconv.Itoa(u.Days), "fee": u.Fee.Decimal(), "channel": u.Channel}
}

func (u Suspension) key() string { return "suspension:" + strconv.FormatInt(u.ID, 10) }

// transition moves suspension id from state from to to, reporting whether
// this caller made the move (another instance may have made it first).
func transition(ctx context.Context, tx *store.Tx, id int64, from, to string, set string, args ...any) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE suspensions SET state = ?`+set+` WHERE id = ? AND state = ?`, append(append([]any{to}, args...), id, from)...)
	if err != nil {
		return false, fmt.Errorf("suspension %d %s → %s: %w", id, from, to, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// begin starts scheduled suspension u: frozen from its first day, the fee
// charged. An account blocked or closed meanwhile is not frozen: the
// suspension is called off. The conditional update decides who starts it.
func (s *Service) begin(ctx context.Context, tx *store.Tx, u *Suspension, now time.Time) error {
	// The account's row first, then the suspension's, everywhere (Resume
	// too), so that two instances wait for each other rather than deadlock.
	st, err := s.Biller.StandingTx(ctx, tx, u.AccountID)
	if err != nil {
		return err
	}
	ok, err := transition(ctx, tx, u.ID, StateScheduled, StateActive, `, started_at = ?`, now.UTC())
	if err != nil || !ok {
		return err
	}
	if st.Status != billing.StatusActive && st.Status != billing.StatusLimited {
		if _, err := transition(ctx, tx, u.ID, StateActive, StateCancelled, `, ended_at = ?, end_reason = ?`, now.UTC(), EndInactive); err != nil {
			return err
		}
		u.State, u.EndReason, u.EndedAt = StateCancelled, EndInactive, now
		return tx.Emit(ctx, store.Event{Kind: store.EventSuspensionCancelled, AccountID: u.AccountID, At: now,
			Data: map[string]string{"suspension": strconv.FormatInt(u.ID, 10), "reason": EndInactive, "status": st.Status}})
	}
	refund, err := s.Biller.Freeze(ctx, tx, u.AccountID, u.key(), u.StartsAt, now)
	if err != nil {
		return err
	}
	if err := s.Biller.ChargeSuspension(ctx, tx, u.AccountID, u.key()+":fee", u.Fee, "suspension fee", now); err != nil {
		return err
	}
	u.State, u.StartedAt = StateActive, now
	d := u.eventData()
	d["refund"] = refund.Decimal()
	return tx.Emit(ctx, store.Event{Kind: store.EventSuspensionStarted, AccountID: u.AccountID, At: now, Data: d})
}

// finish ends running suspension u with the line resuming at until (its
// planned end, or now): the rest of the month is charged, the unused part
// of the fee returned, the account active again.
func (s *Service) finish(ctx context.Context, tx *store.Tx, u *Suspension, until time.Time, reason string, now time.Time) error {
	if _, err := s.Biller.StandingTx(ctx, tx, u.AccountID); err != nil {
		return err
	}
	ok, err := transition(ctx, tx, u.ID, StateActive, StateEnded, `, ends_at = ?, ended_at = ?, end_reason = ?`, until.UTC(), now.UTC(), reason)
	if err != nil || !ok {
		return err
	}
	charged, err := s.Biller.Thaw(ctx, tx, u.AccountID, u.key(), u.StartsAt, until, now)
	if err != nil {
		return err
	}
	back := u.Fee - billing.ProratedFee(s.Rules.MonthlyFee, u.StartsAt, until, s.zone())
	if reason == EndEarly && back > 0 && back <= u.Fee {
		if err := s.Biller.ChargeSuspension(ctx, tx, u.AccountID, u.key()+":fee-back", -back, "suspension fee back", now); err != nil {
			return err
		}
	} else {
		back = 0
	}
	u.State, u.EndsAt, u.EndedAt, u.EndReason = StateEnded, until, now, reason
	d := u.eventData()
	d["reason"], d["charged"], d["fee_back"] = reason, charged.Decimal(), back.Decimal()
	return tx.Emit(ctx, store.Event{Kind: store.EventSuspensionEnded, AccountID: u.AccountID, At: now, Data: d})
}

// Resume ends the account's suspension now, in a transaction of its own:
// a running one resumes the line at once, a scheduled one is called off.
func (s *Service) Resume(ctx context.Context, accountID int64, channel, operator string) (Suspension, error) {
	return s.write(ctx, func(tx *store.Tx) (Suspension, error) { return s.ResumeTx(ctx, tx, accountID, channel, operator) })
}

// ResumeTx is Resume inside tx (the back office's audited transaction).
func (s *Service) ResumeTx(ctx context.Context, tx *store.Tx, accountID int64, channel, operator string) (Suspension, error) {
	now := s.Clock.Now()
	if _, err := s.Biller.StandingTx(ctx, tx, accountID); err != nil {
		return Suspension{}, err
	}
	open, err := s.open(ctx, tx, accountID)
	if err != nil {
		return Suspension{}, err
	}
	if open == nil {
		return Suspension{}, fmt.Errorf("account %d: %w", accountID, ErrNone)
	}
	u := *open
	if u.State == StateScheduled && u.StartsAt.After(now) {
		ok, err := transition(ctx, tx, u.ID, StateScheduled, StateCancelled, `, ended_at = ?, end_reason = ?`, now.UTC(), EndCancelled)
		if err != nil {
			return u, err
		}
		if !ok {
			return u, fmt.Errorf("account %d: %w", accountID, ErrNone)
		}
		u.State, u.EndedAt, u.EndReason = StateCancelled, now, EndCancelled
		return u, tx.Emit(ctx, store.Event{Kind: store.EventSuspensionCancelled, AccountID: accountID, At: now,
			Data: map[string]string{"suspension": strconv.FormatInt(u.ID, 10), "reason": EndCancelled, "channel": channel, "operator": operator}})
	}
	if u.State == StateScheduled {
		// Due but not yet started by Tick: start it as agreed, then end it.
		if err := s.begin(ctx, tx, &u, now); err != nil {
			return u, err
		}
		if u.State != StateActive {
			return u, nil
		}
	}
	until := now
	if !u.EndsAt.After(now) {
		until = u.EndsAt // its end is due: end it as Tick would
	}
	reason := EndEarly
	if until.Equal(u.PlannedEnd) {
		reason = EndExpired
	}
	if err := s.finish(ctx, tx, &u, until, reason, now); err != nil {
		return u, err
	}
	return u, nil
}

// QuoteExtension tells what lengthening the account's scheduled or running
// suspension to r.Days in all (counted from its first day), or to the last
// day r.Last, would do: the Quote of the whole suspension as extended, its
// Refusal set when it may not be had; and the suspension as it is (nil
// without one: the Refusal is ErrNone).
func (s *Service) QuoteExtension(ctx context.Context, r Request) (Quote, *Suspension, error) {
	accountID := r.AccountID
	q := Quote{Days: r.Days, Rules: s.Rules}
	u, err := s.open(ctx, s.DB, accountID)
	if err != nil {
		return q, nil, err
	}
	if u == nil {
		q.Refusal = fmt.Errorf("account %d: %w", accountID, ErrNone)
		return q, nil, nil
	}
	days := s.extensionDays(u, r)
	q.Days = days
	sum, err := s.Biller.Summary(ctx, accountID)
	if err != nil {
		return q, u, err
	}
	fee, err := s.Biller.TariffFee(ctx, s.DB, accountID)
	if err != nil {
		return q, u, err
	}
	s.fill(&q, fee, u.StartsAt, days)
	q.Refusal = s.checkExtension(u, days, q.Fee, sum.Balance, s.Clock.Now())
	return q, u, nil
}

// extensionDays is how many days in all r asks u to last: r.Days, or from
// u's first day to r.Last's day when given.
func (s *Service) extensionDays(u *Suspension, r Request) int {
	if r.Last.IsZero() {
		return r.Days
	}
	return int(s.Day(r.Last).AddDate(0, 0, 1).Sub(u.StartsAt).Round(24*time.Hour) / (24 * time.Hour))
}

// checkExtension applies the rules to lengthening u to days in all, its fee
// becoming fee, with balance on the account at now.
func (s *Service) checkExtension(u *Suspension, days int, fee, balance money.Amount, now time.Time) error {
	switch {
	case s.Rules.Disabled:
		return ErrDisabled
	case days <= u.Days:
		return fmt.Errorf("suspension %d: %d days, planned %d: %w", u.ID, days, u.Days, ErrLonger)
	case days > s.Rules.MaxDays:
		return fmt.Errorf("%d days (%d–%d): %w", days, s.Rules.MinDays, s.Rules.MaxDays, ErrDays)
	case !u.EndsAt.After(now):
		return fmt.Errorf("suspension %d has ended: %w", u.ID, ErrNone)
	case u.State == StateActive && balance < fee-u.Fee:
		// Running, its fee was charged: the added days' part is charged now.
		return fmt.Errorf("account %d has %s, the added fee is %s: %w", u.AccountID, balance.Decimal(), (fee - u.Fee).Decimal(), ErrFunds)
	case u.State == StateScheduled && balance < fee:
		return fmt.Errorf("account %d has %s, the fee is %s: %w", u.AccountID, balance.Decimal(), fee.Decimal(), ErrFunds)
	}
	return nil
}

// Extend lengthens the account's scheduled or running suspension to
// r.Days in all, counted from its first day, or to the last day r.Last
// (r.From is not used), in a transaction of its own.
func (s *Service) Extend(ctx context.Context, r Request) (Suspension, error) {
	return s.write(ctx, func(tx *store.Tx) (Suspension, error) { return s.ExtendTx(ctx, tx, r) })
}

// ExtendTx is Extend inside tx (the back office's audited transaction),
// with the account's row locked while the rules are checked: the line
// resumes later, the tariff fee is not charged for the added days (the
// billing run and the resume read the suspension's new end), and a running
// suspension's own fee for them is charged now. The day-before reminder is
// due again for the new end.
func (s *Service) ExtendTx(ctx context.Context, tx *store.Tx, r Request) (Suspension, error) {
	now := s.Clock.Now()
	if s.Rules.Disabled {
		return Suspension{}, ErrDisabled
	}
	st, err := s.Biller.StandingTx(ctx, tx, r.AccountID)
	if err != nil {
		return Suspension{}, err
	}
	open, err := s.open(ctx, tx, r.AccountID)
	if err != nil {
		return Suspension{}, err
	}
	if open == nil {
		return Suspension{}, fmt.Errorf("account %d: %w", r.AccountID, ErrNone)
	}
	u := *open
	r.Days = s.extensionDays(&u, r)
	fee, err := s.Biller.TariffFee(ctx, tx, r.AccountID)
	if err != nil {
		return u, err
	}
	var q Quote
	s.fill(&q, fee, u.StartsAt, r.Days)
	if err := s.checkExtension(&u, r.Days, q.Fee, st.Balance, now); err != nil {
		return u, err
	}
	ok, err := transition(ctx, tx, u.ID, u.State, u.State, `, ends_at = ?, planned_ends_at = ?, days = ?, fee = ?, reminded_at = NULL`,
		q.Until.UTC(), q.Until.UTC(), r.Days, q.Fee)
	if err != nil {
		return u, err
	}
	if !ok {
		return u, fmt.Errorf("account %d: %w", r.AccountID, ErrNone)
	}
	if added := q.Fee - u.Fee; u.State == StateActive && added > 0 {
		if err := s.Biller.ChargeSuspension(ctx, tx, u.AccountID, u.key()+":fee-to:"+strconv.Itoa(r.Days), added, "suspension fee", now); err != nil {
			return u, err
		}
	}
	before := u.EndsAt
	u.EndsAt, u.PlannedEnd, u.Days, u.Fee, u.RemindedAt = q.Until, q.Until, r.Days, q.Fee, time.Time{}
	d := u.eventData()
	d["before"], d["operator"] = before.UTC().Format(time.RFC3339), r.Operator
	return u, tx.Emit(ctx, store.Event{Kind: store.EventSuspensionExtended, AccountID: u.AccountID, At: now, Data: d})
}

// Result is what one pass of Tick did.
type Result struct {
	Started   int
	Ended     int
	Cancelled int // called off at their start: the account was blocked or closed
	Reminded  int // "ending tomorrow" events written
}

// Tick makes the transitions due at now: scheduled suspensions whose day
// has come start, running ones whose end has come end (the line resumes at
// the planned end, however late the pass), and those ending tomorrow get
// their reminder event. Conditional updates make each transition happen
// once however many instances run Tick.
func (s *Service) Tick(ctx context.Context, now time.Time) (Result, error) {
	var res Result
	err := s.DB.Write(ctx, func(tx *store.Tx) error {
		res = Result{}
		due, err := s.due(ctx, tx, `state = 'scheduled' AND starts_at <= ?`, now)
		if err != nil {
			return err
		}
		for i := range due {
			if err := s.begin(ctx, tx, &due[i], now); err != nil {
				return err
			}
			switch due[i].State {
			case StateActive:
				res.Started++
			case StateCancelled:
				res.Cancelled++
			}
		}
		if due, err = s.due(ctx, tx, `state = 'active' AND ends_at <= ?`, now); err != nil {
			return err
		}
		for i := range due {
			if err := s.finish(ctx, tx, &due[i], due[i].EndsAt, EndExpired, now); err != nil {
				return err
			}
			if due[i].State == StateEnded {
				res.Ended++
			}
		}
		// The reminder: from 00:00 of the last frozen day.
		rows, err := tx.Query(ctx, `UPDATE suspensions SET reminded_at = ? WHERE state = 'active' AND reminded_at IS NULL AND ends_at <= ? AND ends_at > ?
			RETURNING id, account_id, ends_at`, now.UTC(), now.AddDate(0, 0, 1).UTC(), now.UTC())
		if err != nil {
			return fmt.Errorf("suspension reminders: %w", err)
		}
		var events []store.Event
		for rows.Next() {
			var id, acct int64
			var ends time.Time
			if err := rows.Scan(&id, &acct, &ends); err != nil {
				rows.Close()
				return fmt.Errorf("suspension reminders: %w", err)
			}
			events = append(events, store.Event{Kind: store.EventSuspensionEnding, AccountID: acct, At: now,
				Data: map[string]string{"suspension": strconv.FormatInt(id, 10), "until": ends.UTC().Format(time.RFC3339)}})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		res.Reminded = len(events)
		return tx.EmitMany(ctx, events)
	})
	if err != nil {
		return Result{}, fmt.Errorf("suspension transitions: %w", err)
	}
	return res, nil
}

func (s *Service) due(ctx context.Context, tx *store.Tx, where string, now time.Time) ([]Suspension, error) {
	rows, err := tx.Query(ctx, `SELECT `+cols+` FROM suspensions WHERE `+where+` ORDER BY id`, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("due suspensions: %w", err)
	}
	defer rows.Close()
	var out []Suspension
	for rows.Next() {
		u, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("due suspensions: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Loop makes the due transitions every interval until ctx ends (see
// clock.Every).
func (s *Service) Loop(ctx context.Context, every time.Duration) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	clock.Every(ctx, every, func(ctx context.Context) {
		res, err := s.Tick(ctx, s.Clock.Now())
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			log.Error("suspensions", "err", err)
		case res != (Result{}):
			log.Info("suspensions", "started", res.Started, "ended", res.Ended, "cancelled", res.Cancelled, "reminded", res.Reminded)
		}
	})
}
