package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/money"
	"github.com/kabinet-billing/kabinet/internal/promise"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// cursorName is this consumer's row in mail_event_cursor.
const cursorName = "mail"

// eventKinds maps the events that make a message to its kind and topic.
var eventKinds = map[string][2]string{
	store.EventAccountLimited:   {KindLimited, TopicLimited},
	store.EventAccountUnlimited: {KindUnlimited, TopicLimited},
	store.EventPaymentReceived:  {KindPaymentReceived, TopicPayment},
	store.EventRequestAnswered:  {KindRequestAnswered, TopicRequestAnswered},
	// Voluntary suspension: started, ending tomorrow (the reminder), ended.
	store.EventSuspensionStarted: {KindSuspended, TopicSuspensionEnded},
	store.EventSuspensionEnding:  {KindSuspensionEnding, TopicSuspensionEnded},
	store.EventSuspensionEnded:   {KindResumed, TopicSuspensionEnded},
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

// Run subscribes to committed events and runs every channel's delivery
// until ctx ends: an event wakes it at once; every tick catches up on
// events other instances committed and sends the reminders. It returns
// once the sends under way have been recorded.
func (n *Notifier) Run(ctx context.Context, tick time.Duration) {
	n.db.Subscribe(func(e store.Event) {
		// Runs on the committing goroutine: only a non-blocking nudge here.
		if _, ok := eventKinds[e.Kind]; ok {
			select {
			case n.wake <- struct{}{}:
			default:
			}
		}
	})
	if ctx.Err() == nil {
		n.pumpEvents(context.WithoutCancel(ctx))
	}
	var wg sync.WaitGroup
	for _, r := range n.runners() {
		wg.Go(func() { r.loop(ctx, tick) })
	}
	// Reminders go with the ticks, not with every event's wake-up.
	lastReminders := time.Now()
	clock.EveryOr(ctx, tick, n.wake, func(ctx context.Context) {
		if time.Since(lastReminders) >= tick {
			lastReminders = time.Now()
			n.remind(ctx, n.clock.Now())
		}
		n.pumpEvents(ctx)
	})
	wg.Wait()
}

func (n *Notifier) remind(ctx context.Context, at time.Time) {
	if _, err := n.Reminders(ctx, at); err != nil {
		n.opts.Log.Error("low-balance reminders", "err", err)
	}
	if _, err := n.PromiseReminders(ctx, at); err != nil {
		n.opts.Log.Error("promised payment reminders", "err", err)
	}
}

func (n *Notifier) pumpEvents(ctx context.Context) {
	if _, err := n.HandleEvents(ctx); err != nil {
		n.opts.Log.Error("notification events", "err", err)
	}
}

// Pump turns new events into messages and delivers what is due. Errors are
// logged: the next pass retries.
func (n *Notifier) Pump(ctx context.Context) {
	n.pumpEvents(ctx)
	if _, _, err := n.Deliver(ctx); err != nil {
		n.opts.Log.Error("notification delivery", "err", err)
	}
}

// HandleEvents reads events after the stored cursor and queues their
// messages. The messages and the cursor move in one transaction, and each
// message's key is its event and channel, so nothing is sent twice. On the
// very first run the cursor starts at the newest event: a fresh setup does
// not tell the past.
func (n *Notifier) HandleEvents(ctx context.Context) (int, error) {
	var after int64
	err := n.db.QueryRow(ctx, `SELECT last_id FROM mail_event_cursor WHERE name = ?`, cursorName).Scan(&after)
	if errors.Is(err, sql.ErrNoRows) {
		if err := n.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&after); err != nil {
			return 0, fmt.Errorf("notification events: %w", err)
		}
		err = n.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO mail_event_cursor (name, last_id) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, cursorName, after)
			return err
		})
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("notification events: %w", err)
	}
	total := 0
	for {
		events, err := n.db.Events(ctx, after, 200)
		if err != nil || len(events) == 0 {
			return total, err
		}
		var msgs []Outgoing
		var pushes []pushNote
		for _, e := range events {
			m, p, err := n.messagesFor(ctx, e)
			if err != nil {
				return total, err
			}
			msgs = append(msgs, m...)
			if p != nil {
				pushes = append(pushes, *p)
			}
		}
		last := events[len(events)-1].ID
		err = n.db.Write(ctx, func(tx *store.Tx) error {
			k, err := n.QueueTx(ctx, tx, msgs)
			if err != nil {
				return err
			}
			total += k
			_, err = tx.Exec(ctx, `UPDATE mail_event_cursor SET last_id = ? WHERE name = ? AND last_id = ?`, last, cursorName, after)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("notification events after %d: %w", after, err)
		}
		for _, p := range pushes {
			n.Pusher.Push(ctx, p.account, p.kind, p.lang, p.letter)
		}
		after = last
	}
}

// messagesFor decides whether e tells its subscriber something, and on
// which channels, and writes it.
func (n *Notifier) messagesFor(ctx context.Context, e store.Event) ([]Outgoing, *pushNote, error) {
	kt, ok := eventKinds[e.Kind]
	if !ok || e.AccountID == 0 || n.clock.Now().Sub(e.At) > n.opts.MaxEventAge {
		return nil, nil, nil
	}
	kind, topic := kt[0], kt[1]
	if kind == KindPaymentReceived && len(n.quiet) > 0 {
		if txn, err := strconv.ParseInt(e.Data["txn"], 10, 64); err == nil {
			for _, f := range n.quiet {
				own, err := f(ctx, n.db, txn)
				if err != nil {
					return nil, nil, fmt.Errorf("event %d: %w", e.ID, err)
				}
				if own {
					return nil, nil, nil
				}
			}
		}
	}
	rs, err := n.recipients(ctx, n.db, []int64{e.AccountID})
	if err != nil {
		return nil, nil, err
	}
	r := rs[e.AccountID]
	if r == nil {
		return nil, nil, nil
	}
	push := false
	if n.Pusher != nil {
		if push, err = n.Pusher.Has(ctx, r.ID); err != nil {
			return nil, nil, err
		}
	}
	if len(n.channelsFor(r, topic)) == 0 && !push {
		return nil, nil, nil
	}
	// A message tells the state as it is when written: a limit already
	// lifted (or applied again), a suspension already ended, by the time
	// the event is read is not news.
	switch kind {
	case KindLimited, KindUnlimited:
		if (kind == KindLimited) != (r.Status == billing.StatusLimited) {
			return nil, nil, nil
		}
	case KindSuspended, KindSuspensionEnding:
		if r.Status != billing.StatusFrozen {
			return nil, nil, nil
		}
	case KindResumed:
		if r.Status == billing.StatusFrozen {
			return nil, nil, nil
		}
	}
	l, _, err := n.letterFor(ctx, r.Contact)
	if err != nil {
		return nil, nil, err
	}
	if d := e.Data["until"]; d != "" {
		if t, err := time.Parse(time.RFC3339, d); err == nil {
			l.Until = t.In(n.biller.Rules.Zone).Format("02.01.2006")
		}
	}
	switch kind {
	case KindPaymentReceived:
		a, err := money.Parse(e.Data["amount"])
		if err != nil {
			return nil, nil, fmt.Errorf("event %d: amount %q: %w", e.ID, e.Data["amount"], err)
		}
		l.Amount = a.Format(r.Lang)
	case KindRequestAnswered:
		l.RequestID, l.Subject = e.Data["request"], e.Data["subject"]
	}
	var p *pushNote
	if push {
		p = &pushNote{account: r.ID, kind: kind, lang: r.Lang, letter: l}
	}
	out, err := n.outgoing(r, topic, kind, l, fmt.Sprintf("event:%d", e.ID))
	return out, p, err
}

// pushNote is an event's notice for the Pusher.
type pushNote struct {
	account int64
	kind    string
	lang    string
	letter  Letter
}

// channelsFor is where topic goes for r: the channels offered that r can
// be reached on and has not turned off.
func (n *Notifier) channelsFor(r *recipient, topic string) []string {
	var out []string
	for _, ch := range Channels {
		if r.addr[ch] == "" || !r.wants(topic, ch) || (ch != ChannelEmail && !n.HasChannel(ch)) {
			continue
		}
		if ch == ChannelEmail {
			if _, err := mail.ParseAddress(r.addr[ch]); err != nil {
				continue
			}
		}
		out = append(out, ch)
	}
	return out
}

// outgoing writes kind, filled from l, to r on every channel topic goes
// to; key (with the channel) makes each message once.
func (n *Notifier) outgoing(r *recipient, topic, kind string, l Letter, key string) ([]Outgoing, error) {
	var out []Outgoing
	n.fill(&l)
	for _, ch := range n.channelsFor(r, topic) {
		m := Outgoing{Channel: ch, Kind: kind, AccountID: r.ID, To: r.addr[ch], Key: key}
		var err error
		if ch == ChannelEmail {
			m.Subject, m.Body, err = Render(kind, r.Lang, l)
		} else {
			m.Body, err = RenderShort(kind, r.Lang, l)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Notice is something a capability tells a subscriber, by the channels
// they chose for its topic.
type Notice struct {
	Topic     string
	Kind      string
	AccountID int64
	Key       string // once per key and channel
	Letter    Letter // what the template needs beyond the account's balance
}

// NotifyTx queues nt in tx on every channel the subscriber chose for its
// topic, and returns how many messages it queued.
func (n *Notifier) NotifyTx(ctx context.Context, tx *store.Tx, nt Notice) (int, error) {
	rs, err := n.recipients(ctx, tx, []int64{nt.AccountID})
	if err != nil {
		return 0, err
	}
	r := rs[nt.AccountID]
	if r == nil || len(n.channelsFor(r, nt.Topic)) == 0 {
		return 0, nil
	}
	l, _, err := n.letterFor(ctx, r.Contact)
	if err != nil {
		return 0, err
	}
	l.Until, l.RequestID, l.Subject, l.Text, l.Amount = nt.Letter.Until, nt.Letter.RequestID, nt.Letter.Subject, nt.Letter.Text, nt.Letter.Amount
	msgs, err := n.outgoing(r, nt.Topic, nt.Kind, l, nt.Key)
	if err != nil {
		return 0, err
	}
	return n.QueueTx(ctx, tx, msgs)
}

// Reminders queues the low-balance message for every subscriber whose
// balance will not cover the fees of the 1st, once per period, in the last
// LowBalanceDays days before it, on the channels each chose. It reads the
// candidates with their balance and fees in one statement and queues them
// a chunk of accounts per transaction, so that 100,000 subscribers take
// seconds and memory stays flat. It returns how many messages it queued.
func (n *Notifier) Reminders(ctx context.Context, at time.Time) (int, error) {
	zone := n.biller.Rules.Zone
	next := billing.PeriodOf(at, zone).End
	if next.Sub(at) > time.Duration(n.opts.LowBalanceDays)*24*time.Hour {
		return 0, nil
	}
	period := next.In(zone).Format("2006-01")
	due := next.In(zone).Format("02.01.2006")
	prefix := "low_balance:" + period + ":"
	// The fees of the 1st: the tariff's (the next one when a change waits)
	// and the monthly packages'; the recommended payment is what the
	// balance lacks of them.
	rows, err := n.db.Query(ctx, `SELECT a.id, a.login, a.contract_no, a.name, a.email, a.phone, a.lang, a.status, a.notify_email, a.notify_sms, l.balance,
		CAST(t.fee + COALESCE((SELECT SUM(p.price) FROM subscriptions s JOIN packages p ON p.id = s.package_id
			WHERE s.account_id = a.id AND s.ended_at IS NULL AND p.pricing = 'monthly'), 0) AS BIGINT) AS fees
		FROM accounts a
		JOIN ledger_accounts l ON l.id = a.ledger_id
		JOIN tariffs t ON t.id = COALESCE(a.next_tariff_id, a.tariff_id)
		WHERE a.status IN ('active', 'limited')
		AND l.balance < t.fee + COALESCE((SELECT SUM(p.price) FROM subscriptions s JOIN packages p ON p.id = s.package_id
			WHERE s.account_id = a.id AND s.ended_at IS NULL AND p.pricing = 'monthly'), 0)
		AND NOT EXISTS (SELECT 1 FROM notifications q WHERE q.dedup_key IN (
			? || CAST(a.id AS TEXT) || ':email', ? || CAST(a.id AS TEXT) || ':telegram', ? || CAST(a.id AS TEXT) || ':sms', ? || CAST(a.id AS TEXT) || ':push'))
		ORDER BY a.id`, prefix, prefix, prefix, prefix)
	if err != nil {
		return 0, fmt.Errorf("low-balance reminders: %w", err)
	}
	defer rows.Close()
	type cand struct {
		r             *recipient
		balance, fees money.Amount
	}
	queued := 0
	chunk := make([]cand, 0, 500)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		byID := make(map[int64]*recipient, len(chunk))
		ids := make([]int64, len(chunk))
		for i, c := range chunk {
			byID[c.r.ID], ids[i] = c.r, c.r.ID
		}
		marks, args := store.InList(ids)
		if err := n.extras(ctx, n.db, marks, args, byID); err != nil {
			return err
		}
		var msgs []Outgoing
		var pushes []pushNote
		for _, c := range chunk {
			lang := c.r.Lang
			l := Letter{Name: c.r.Name, Login: c.r.Login, ContractNo: c.r.ContractNo, Due: due,
				Balance: c.balance.Format(lang), Debt: max(-c.balance, 0).Format(lang), Fees: c.fees.Format(lang),
				Recommended: (c.fees - c.balance).Format(lang)}
			m, err := n.outgoing(c.r, TopicLowBalance, KindLowBalance, l, prefix+strconv.FormatInt(c.r.ID, 10))
			if err != nil {
				return err
			}
			msgs = append(msgs, m...)
			// The reminder is pushed with its messages (once: the next
			// run skips an account whose messages are queued).
			if n.Pusher != nil && len(m) > 0 {
				n.fill(&l)
				pushes = append(pushes, pushNote{account: c.r.ID, kind: KindLowBalance, lang: lang, letter: l})
			}
		}
		chunk = chunk[:0]
		err := n.db.Write(ctx, func(tx *store.Tx) error {
			k, err := n.QueueTx(ctx, tx, msgs)
			queued += k
			return err
		})
		if err != nil {
			return err
		}
		for _, p := range pushes {
			if has, err := n.Pusher.Has(ctx, p.account); err == nil && has {
				n.Pusher.Push(ctx, p.account, p.kind, p.lang, p.letter)
			}
		}
		return nil
	}
	for rows.Next() {
		r := &recipient{addr: map[string]string{}}
		var c cand
		if err := rows.Scan(&r.ID, &r.Login, &r.ContractNo, &r.Name, &r.Email, &r.Phone, &r.Lang, &r.Status, &r.NotifyEmail, &r.notifySMS, &c.balance, &c.fees); err != nil {
			return queued, fmt.Errorf("low-balance reminders: %w", err)
		}
		r.addr[ChannelEmail], r.addr[ChannelSMS] = r.Email, r.Phone
		c.r = r
		chunk = append(chunk, c)
		if len(chunk) == cap(chunk) {
			if err := flush(); err != nil {
				return queued, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return queued, fmt.Errorf("low-balance reminders: %w", err)
	}
	return queued, flush()
}

// PromiseReminders tells the subscribers whose promised payment ends within
// the next day that it ends tomorrow (once per promise and channel). It
// returns how many messages it queued.
func (n *Notifier) PromiseReminders(ctx context.Context, at time.Time) (int, error) {
	ps, err := promise.Ending(ctx, n.db, at, at.Add(24*time.Hour))
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, p := range ps {
		err := n.db.Write(ctx, func(tx *store.Tx) error {
			k, err := n.NotifyTx(ctx, tx, Notice{Topic: TopicPromiseEnding, Kind: KindPromiseEnding, AccountID: p.AccountID,
				Key:    "promise_ending:" + strconv.FormatInt(p.ID, 10),
				Letter: Letter{Until: p.EndsAt.In(n.biller.Rules.Zone).Format("02.01.2006 15:04")}})
			queued += k
			return err
		})
		if err != nil {
			return queued, fmt.Errorf("promise %d: %w", p.ID, err)
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
