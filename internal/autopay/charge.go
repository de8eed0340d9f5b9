package autopay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/notify"
	"github.com/kabinet-billing/kabinet/internal/payment"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Charge statuses.
const (
	StatusDue       = "due"
	StatusCharging  = "charging"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
)

// PassResult counts what one pass did.
type PassResult struct {
	Planned   int // charges planned for the period
	Succeeded int
	Failed    int // failed for good (after the retries, or the card refused)
	Retrying  int // failed, to be tried again
	Pending   int // the processor has not answered yet
}

// Run plans and makes the charges every Tick until ctx ends, starting at
// once; it returns once the pass under way has finished.
func (s *Service) Run(ctx context.Context) {
	if !s.cfg.Enabled {
		return
	}
	pass := func(ctx context.Context) {
		if _, err := s.Pass(ctx); err != nil {
			s.log.Error("autopay pass", "err", err)
		}
	}
	if ctx.Err() == nil {
		pass(context.WithoutCancel(ctx))
	}
	clock.Every(ctx, s.cfg.Tick, pass)
}

// Pass plans the period's charges once the charge day has come, and makes
// every charge that is due: first attempts, retries, and charges whose
// instance died mid-way (resumed with the same key). Safe to run on several
// instances at once: each charge is claimed by one.
func (s *Service) Pass(ctx context.Context) (PassResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r PassResult
	if !s.cfg.Enabled {
		return r, nil
	}
	var err error
	if r.Planned, err = s.plan(ctx); err != nil {
		return r, err
	}
	now := s.clock.Now().UTC()
	ids, err := store.IDs(s.db.Query(ctx, `SELECT id FROM autopay_charges WHERE (status = ? AND next_attempt_at <= ?) OR (status = ? AND lease_until < ?) ORDER BY id LIMIT 1000`,
		StatusDue, now, StatusCharging, now))
	if err != nil {
		return r, fmt.Errorf("autopay: due charges: %w", err)
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		if err := s.attempt(ctx, id, &r); err != nil {
			s.log.Error("autopay charge", "charge", id, "err", err)
		}
	}
	return r, nil
}

// plan writes the coming period's charge for every account with autopay on
// once its charge day has come (DaysBefore days before the 1st, in the
// provider's zone).
func (s *Service) plan(ctx context.Context) (int, error) {
	now := s.clock.Now()
	first := nextFirst(now.In(s.zone))
	if now.Before(s.chargeAt(first)) {
		return 0, nil
	}
	period := periodOf(first)
	rows, err := s.db.Query(ctx, `SELECT a.account_id, a.method_id, a.amount_rule, a.fixed_amount FROM autopay a
		WHERE a.enabled AND NOT EXISTS (SELECT 1 FROM autopay_charges c WHERE c.account_id = a.account_id AND c.period = ?)
		ORDER BY a.account_id`, period)
	if err != nil {
		return 0, fmt.Errorf("autopay: plan %s: %w", period, err)
	}
	type plan struct {
		account, method int64
		rule            Rule
		amount          money.Amount
	}
	var plans []plan
	for rows.Next() {
		var p plan
		if err := rows.Scan(&p.account, &p.method, &p.rule, &p.amount); err != nil {
			rows.Close()
			return 0, fmt.Errorf("autopay: plan %s: %w", period, err)
		}
		plans = append(plans, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("autopay: plan %s: %w", period, err)
	}
	planned := 0
	for _, p := range plans {
		if p.rule == RuleRecommended {
			sum, err := s.bill.Summary(ctx, p.account)
			if err != nil {
				return planned, fmt.Errorf("autopay: plan %s for account %d: %w", period, p.account, err)
			}
			p.amount = sum.Recommended
		}
		status, reason := StatusDue, ""
		if p.amount <= 0 {
			// The balance already covers the month: nothing to charge.
			status, reason = StatusSkipped, "nothing_to_pay"
		}
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(ctx, `INSERT INTO autopay_charges (account_id, period, method_id, amount, status, next_attempt_at, reason, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, period) DO NOTHING`,
				p.account, period, p.method, int64(p.amount), status, now.UTC(), reason, now.UTC(), now.UTC())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 && status == StatusDue {
				planned++
			}
			return nil
		})
		if err != nil {
			return planned, fmt.Errorf("autopay: plan %s for account %d: %w", period, p.account, err)
		}
	}
	return planned, nil
}

// claimed is a charge an instance has claimed for one attempt.
type claimed struct {
	Charge
	method payment.SavedMethod
}

func (c claimed) key() string {
	return fmt.Sprintf("autopay:%d:%s:%d", c.AccountID, c.Period, c.Attempts)
}

// attempt claims charge id and makes one attempt.
func (s *Service) attempt(ctx context.Context, id int64, r *PassResult) error {
	c, ok, err := s.claim(ctx, id)
	if err != nil || !ok {
		return err
	}
	p, err := s.pay.ChargeSaved(ctx, payment.SavedCharge{AccountID: c.AccountID, MethodID: c.method.ID, Amount: c.Amount,
		Key: c.key(), Memo: "autopay " + c.Period})
	switch {
	case errors.Is(err, payment.ErrNoSavedMethod):
		// Revoked since planning (a charge of it was refused for good, or
		// the subscriber forgot it): this charge fails and autopay stops.
		m, _ := s.pay.SavedMethod(ctx, c.AccountID, c.method.ID)
		why := m.RevokeReason
		r.Failed++
		return s.finish(ctx, c, StatusFailed, payment.Payment{Reason: why}, true)
	case err != nil:
		// Unknown whether the card was charged: the lease runs out and the
		// same key asks the processor again, which answers once.
		r.Pending++
		return err
	}
	switch p.Status {
	case payment.StatusSucceeded:
		r.Succeeded++
		return s.finish(ctx, c, StatusSucceeded, p, false)
	case payment.StatusFailed:
		if p.Reason.RevokesMethod() {
			r.Failed++
			return s.finish(ctx, c, StatusFailed, p, true)
		}
		if c.Attempts <= s.cfg.Retries {
			r.Retrying++
			return s.retryLater(ctx, c, p)
		}
		r.Failed++
		return s.finish(ctx, c, StatusFailed, p, false)
	}
	// Pending: the processor's notification decides; the lease running out
	// asks again with the same key.
	r.Pending++
	return nil
}

// claim takes charge id for this instance unless another has it, and
// checks that autopay still stands; an attempt after a decline gets the
// next number (and so a new key), a resumed one keeps its own.
func (s *Service) claim(ctx context.Context, id int64) (claimed, bool, error) {
	var c claimed
	ok := false
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		now := s.clock.Now().UTC()
		err := tx.QueryRow(ctx, `UPDATE autopay_charges SET
				attempts = CASE WHEN status = ? THEN attempts + 1 ELSE attempts END,
				status = ?, lease_until = ?, updated_at = ?
			WHERE id = ? AND ((status = ? AND next_attempt_at <= ?) OR (status = ? AND lease_until < ?))
			RETURNING id, account_id, period, method_id, amount, attempts`,
			StatusDue, StatusCharging, now.Add(s.lease), now, id, StatusDue, now, StatusCharging, now).
			Scan(&c.ID, &c.AccountID, &c.Period, &c.method.ID, &c.Amount, &c.Attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another instance has it, or it is done
		}
		if err != nil {
			return err
		}
		st, err := s.get(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if !st.Enabled || st.Method.ID != c.method.ID {
			// Turned off or moved to another card since it was planned.
			_, err := tx.Exec(ctx, `UPDATE autopay_charges SET status = ?, reason = 'autopay_off', lease_until = NULL, updated_at = ? WHERE id = ?`,
				StatusSkipped, now, c.ID)
			return err
		}
		c.method = st.Method
		ok = true
		return nil
	})
	if err != nil {
		return c, false, fmt.Errorf("autopay: claim charge %d: %w", id, err)
	}
	return c, ok, nil
}

// retryLater puts a declined charge back for its next attempt.
func (s *Service) retryLater(ctx context.Context, c claimed, p payment.Payment) error {
	now := s.clock.Now()
	return s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE autopay_charges SET status = ?, next_attempt_at = ?, lease_until = NULL, payment_id = ?, reason = ?, updated_at = ?
			WHERE id = ? AND status = ? AND attempts = ?`,
			StatusDue, now.Add(s.cfg.RetryInterval).UTC(), p.ID, string(p.Reason), now.UTC(), c.ID, StatusCharging, c.Attempts)
		if err != nil {
			return fmt.Errorf("autopay: charge %d: %w", c.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return tx.Emit(ctx, store.Event{Kind: EventFailed, AccountID: c.AccountID, At: now, Data: map[string]string{
			"period": c.Period, "amount": c.Amount.Decimal(), "payment": itoa(p.ID), "reason": string(p.Reason),
			"attempt": itoa(int64(c.Attempts)), "retry_at": now.Add(s.cfg.RetryInterval).UTC().Format(time.RFC3339)}})
	})
}

// finish records a charge's final result, its event and its letter in one
// transaction; off turns autopay off because the card cannot be charged.
// Only the instance holding the claim finishes it.
func (s *Service) finish(ctx context.Context, c claimed, status string, p payment.Payment, off bool) error {
	now := s.clock.Now()
	// Read before the write: the letter tells the balance after the charge,
	// which ChargeSaved has committed.
	var letter *notify.Mail
	if s.mail != nil {
		kind := notify.KindAutopayCharged
		switch {
		case off:
			kind = notify.KindAutopayDisabled
		case status == StatusFailed:
			kind = notify.KindAutopayFailed
		}
		m, ok, err := s.letter(ctx, c, kind, p)
		if err != nil {
			return err
		}
		if ok {
			letter = &m
		}
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		var pid any
		if p.ID != 0 {
			pid = p.ID
		}
		res, err := tx.Exec(ctx, `UPDATE autopay_charges SET status = ?, lease_until = NULL, payment_id = COALESCE(?, payment_id), reason = ?, updated_at = ?
			WHERE id = ? AND status = ? AND attempts = ?`,
			status, pid, string(p.Reason), now.UTC(), c.ID, StatusCharging, c.Attempts)
		if err != nil {
			return fmt.Errorf("autopay: charge %d: %w", c.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // finished by another instance that resumed it
		}
		kind := EventCharged
		if status != StatusSucceeded {
			kind = EventFailed
		}
		if err := tx.Emit(ctx, store.Event{Kind: kind, AccountID: c.AccountID, At: now, Data: map[string]string{
			"period": c.Period, "amount": c.Amount.Decimal(), "payment": itoa(p.ID), "reason": string(p.Reason), "attempt": itoa(int64(c.Attempts))}}); err != nil {
			return err
		}
		if off {
			if err := s.disable(ctx, tx, c.AccountID, p.Reason, "card_refused"); err != nil {
				return err
			}
		}
		if letter != nil {
			if _, err := s.mail.EnqueueTx(ctx, tx, *letter); err != nil && !errors.Is(err, notify.ErrNoAddress) {
				return err
			}
		}
		return nil
	})
}

// letter writes the result letter, unless the subscriber wants none.
func (s *Service) letter(ctx context.Context, c claimed, kind string, p payment.Payment) (notify.Mail, bool, error) {
	ct, err := billing.ContactOf(ctx, s.db, c.AccountID)
	if err != nil {
		return notify.Mail{}, false, fmt.Errorf("autopay letter: %w", err)
	}
	if !ct.NotifyEmail || ct.Email == "" {
		return notify.Mail{}, false, nil
	}
	l, err := s.mail.Letter(ctx, ct)
	if err != nil {
		return notify.Mail{}, false, fmt.Errorf("autopay letter: %w", err)
	}
	l.Amount = c.Amount.Format(ct.Lang)
	l.Method = c.method.Label()
	phone := ""
	if proc, ok := s.pay.Processor(c.method.Processor); ok {
		phone = proc.SecurityPhone()
	}
	l.Reason = reasonText(p.Reason, ct.Lang, phone)
	return notify.Mail{Kind: kind, AccountID: c.AccountID, To: ct.Email, Lang: ct.Lang, Letter: l,
		DedupKey: fmt.Sprintf("autopay:%d:%s", c.ID, kind)}, true, nil
}
