package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// cursorName is this consumer's row in mail_event_cursor.
const cursorName = "mail"

// eventKinds maps the events that make a letter to the letter's kind.
var eventKinds = map[string]string{
	store.EventAccountLimited:   KindLimited,
	store.EventAccountUnlimited: KindUnlimited,
	store.EventPaymentReceived:  KindPaymentReceived,
	// Voluntary suspension: started, ending tomorrow (the reminder), ended.
	store.EventSuspensionStarted: KindSuspended,
	store.EventSuspensionEnding:  KindSuspensionEnding,
	store.EventSuspensionEnded:   KindResumed,
	store.EventRequestAnswered:   KindRequestAnswered,
}

// Pusher is a channel beside e-mail: Web Push to the subscriber's devices
// (internal/push). It is given every notice a subscriber with a device
// would be mailed, whatever their e-mail settings, once the batch of
// events it came from has committed (and each new low-balance reminder).
// Best effort: a push that fails is not retried.
type Pusher interface {
	// Has reports whether the account has a device to push to.
	Has(ctx context.Context, accountID int64) (bool, error)
	Push(ctx context.Context, accountID int64, kind, lang string, l Letter)
}

// letterFor fills the parts of a letter every kind shares.
func (n *Notifier) letterFor(ctx context.Context, c billing.Contact) (Letter, billing.Summary, error) {
	l := Letter{Provider: n.opts.Provider, PortalURL: n.opts.PortalURL, Name: c.Name, Login: c.Login, ContractNo: c.ContractNo}
	s, err := n.biller.Summary(ctx, c.ID)
	if err != nil {
		return l, s, err
	}
	l.Balance, l.Debt = s.Balance.Format(c.Lang), s.Debt.Format(c.Lang)
	l.Fees, l.Recommended = s.NextFees.Format(c.Lang), s.Recommended.Format(c.Lang)
	l.LimitKbps = s.LimitKbps
	l.Due = s.NextChargeAt.In(n.biller.Rules.Zone).Format("02.01.2006")
	return l, s, nil
}

// Start runs Run in a goroutine of its own.
func (n *Notifier) Start(ctx context.Context, tick time.Duration) { go n.Run(ctx, tick) }

// Run subscribes to committed events and runs the delivery loop until ctx
// ends: an event wakes it at once; every tick catches up on events other
// instances committed, retries, and sends the reminder before the 1st. It
// returns once the pass under way (a letter being sent) has finished.
func (n *Notifier) Run(ctx context.Context, tick time.Duration) {
	n.db.Subscribe(func(e store.Event) {
		// Runs on the committing goroutine: only a non-blocking nudge here.
		if _, ok := eventKinds[e.Kind]; ok {
			n.Wake()
		}
	})
	if ctx.Err() == nil {
		n.Pump(context.WithoutCancel(ctx))
	}
	// Reminders go with the ticks, not with every event's wake-up.
	lastReminders := time.Now()
	clock.EveryOr(ctx, tick, n.wake, func(ctx context.Context) {
		if time.Since(lastReminders) >= tick {
			lastReminders = time.Now()
			if _, err := n.Reminders(ctx, n.clock.Now()); err != nil {
				n.opts.Log.Error("low-balance reminders", "err", err)
			}
		}
		n.Pump(ctx)
	})
}

// Pump turns new events into letters and delivers what is due. Errors are
// logged: the next pass retries.
func (n *Notifier) Pump(ctx context.Context) {
	if _, err := n.HandleEvents(ctx); err != nil {
		n.opts.Log.Error("mail events", "err", err)
	}
	if _, _, err := n.Deliver(ctx); err != nil {
		n.opts.Log.Error("mail delivery", "err", err)
	}
}

// HandleEvents reads events after the stored cursor and queues their
// letters. The letters and the cursor move in one transaction, and each
// letter's dedup key is its event, so nothing is mailed twice. On the very
// first run the cursor starts at the newest event: a fresh mail setup does
// not mail the past.
func (n *Notifier) HandleEvents(ctx context.Context) (int, error) {
	var after int64
	err := n.db.QueryRow(ctx, `SELECT last_id FROM mail_event_cursor WHERE name = ?`, cursorName).Scan(&after)
	if errors.Is(err, sql.ErrNoRows) {
		if err := n.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&after); err != nil {
			return 0, fmt.Errorf("mail events: %w", err)
		}
		err = n.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO mail_event_cursor (name, last_id) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, cursorName, after)
			return err
		})
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("mail events: %w", err)
	}
	total := 0
	for {
		events, err := n.db.Events(ctx, after, 200)
		if err != nil || len(events) == 0 {
			return total, err
		}
		var mails, pushes []Mail
		for _, e := range events {
			m, ok, err := n.mailFor(ctx, e)
			if err != nil {
				return total, err
			}
			if ok && m.To != "" {
				mails = append(mails, m)
			}
			if ok && m.push {
				pushes = append(pushes, m)
			}
		}
		last := events[len(events)-1].ID
		err = n.db.Write(ctx, func(tx *store.Tx) error {
			for _, m := range mails {
				if _, err := n.EnqueueTx(ctx, tx, m); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `UPDATE mail_event_cursor SET last_id = ? WHERE name = ? AND last_id = ?`, last, cursorName, after)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("mail events after %d: %w", after, err)
		}
		for _, m := range pushes {
			n.Pusher.Push(ctx, m.AccountID, m.Kind, m.Lang, m.Letter)
		}
		total += len(mails)
		after = last
	}
}

// mailFor decides whether e makes a letter, and writes it.
func (n *Notifier) mailFor(ctx context.Context, e store.Event) (Mail, bool, error) {
	kind, ok := eventKinds[e.Kind]
	if !ok || e.AccountID == 0 || n.clock.Now().Sub(e.At) > n.opts.MaxEventAge {
		return Mail{}, false, nil
	}
	if kind == KindPaymentReceived && len(n.quiet) > 0 {
		if txn, err := strconv.ParseInt(e.Data["txn"], 10, 64); err == nil {
			for _, f := range n.quiet {
				own, err := f(ctx, n.db, txn)
				if err != nil {
					return Mail{}, false, fmt.Errorf("event %d: %w", e.ID, err)
				}
				if own {
					return Mail{}, false, nil
				}
			}
		}
	}
	c, err := billing.ContactOf(ctx, n.db, e.AccountID)
	if err != nil {
		return Mail{}, false, err
	}
	mail := c.NotifyEmail && c.Email != ""
	push := false
	if n.Pusher != nil {
		if push, err = n.Pusher.Has(ctx, c.ID); err != nil {
			return Mail{}, false, err
		}
	}
	if !mail && !push {
		return Mail{}, false, nil
	}
	// A letter tells the state as it is when written: a limit already
	// lifted (or applied again), a suspension already ended, by the time
	// the event is read is not news.
	switch kind {
	case KindLimited, KindUnlimited:
		if (kind == KindLimited) != (c.Status == billing.StatusLimited) {
			return Mail{}, false, nil
		}
	case KindSuspended, KindSuspensionEnding:
		if c.Status != billing.StatusFrozen {
			return Mail{}, false, nil
		}
	case KindResumed:
		if c.Status == billing.StatusFrozen {
			return Mail{}, false, nil
		}
	}
	l, _, err := n.letterFor(ctx, c)
	if err != nil {
		return Mail{}, false, err
	}
	if d := e.Data["until"]; d != "" {
		if t, err := time.Parse(time.RFC3339, d); err == nil {
			l.Until = t.In(n.biller.Rules.Zone).Format("02.01.2006")
		}
	}
	if kind == KindPaymentReceived {
		a, err := money.Parse(e.Data["amount"])
		if err != nil {
			return Mail{}, false, fmt.Errorf("event %d: amount %q: %w", e.ID, e.Data["amount"], err)
		}
		l.Amount = a.Format(c.Lang)
	}
	if kind == KindRequestAnswered {
		l.Subject, l.RequestID = e.Data["subject"], e.Data["request"]
	}
	to := c.Email
	if !mail {
		to = ""
	}
	return Mail{Kind: kind, AccountID: c.ID, To: to, Lang: c.Lang, Letter: l, DedupKey: fmt.Sprintf("event:%d", e.ID), push: push}, true, nil
}

// Reminders queues the low-balance letter for every subscriber whose
// balance will not cover the fees of the 1st, once per period, in the last
// LowBalanceDays days before it. It returns how many letters it queued.
func (n *Notifier) Reminders(ctx context.Context, at time.Time) (int, error) {
	zone := n.biller.Rules.Zone
	next := billing.PeriodOf(at, zone).End
	if next.Sub(at) > time.Duration(n.opts.LowBalanceDays)*24*time.Hour {
		return 0, nil
	}
	period := next.In(zone).Format("2006-01")
	// Candidates by a cheap SQL bound (balance below the monthly fees);
	// Summary then gives the exact recommended payment.
	rows, err := n.db.Query(ctx, `SELECT a.id FROM accounts a
		JOIN ledger_accounts l ON l.id = a.ledger_id
		JOIN tariffs t ON t.id = COALESCE(a.next_tariff_id, a.tariff_id)
		WHERE a.status IN ('active', 'limited') AND a.notify_email = ? AND a.email <> ''
		AND l.balance < t.fee + COALESCE((SELECT SUM(p.price) FROM subscriptions s JOIN packages p ON p.id = s.package_id
			WHERE s.account_id = a.id AND s.ended_at IS NULL AND p.pricing = 'monthly'), 0)
		AND NOT EXISTS (SELECT 1 FROM mail_queue q WHERE q.dedup_key = ? || CAST(a.id AS TEXT))
		ORDER BY a.id`, true, "low_balance:"+period+":")
	if err != nil {
		return 0, fmt.Errorf("low-balance reminders: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("low-balance reminders: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	queued := 0
	for _, id := range ids {
		c, err := billing.ContactOf(ctx, n.db, id)
		if err != nil {
			return queued, err
		}
		l, s, err := n.letterFor(ctx, c)
		if err != nil {
			return queued, err
		}
		if s.Recommended <= 0 {
			continue
		}
		ok, err := n.Enqueue(ctx, Mail{Kind: KindLowBalance, AccountID: id, To: c.Email, Lang: c.Lang, Letter: l,
			DedupKey: fmt.Sprintf("low_balance:%s:%d", period, id)})
		if err != nil {
			return queued, err
		}
		if ok {
			queued++
			if n.Pusher != nil {
				n.Pusher.Push(ctx, id, KindLowBalance, c.Lang, l)
			}
		}
	}
	return queued, nil
}

// Letter is a letter to c filled with what every kind shares (the balance,
// the recommended payment, the next charge's date), for a capability that
// enqueues its own kind of letter with EnqueueTx.
func (n *Notifier) Letter(ctx context.Context, c billing.Contact) (Letter, error) {
	l, _, err := n.letterFor(ctx, c)
	return l, err
}
