package notify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Topics a subscriber chooses channels for.
const (
	TopicPayment         = "payment_received"  // a payment was credited
	TopicLowBalance      = "low_balance"       // 3 days before the 1st, when the balance will not cover the fees
	TopicLimited         = "limited"           // limited for debt (and the limit lifted)
	TopicPromiseEnding   = "promise_ending"    // the promised payment ends tomorrow
	TopicSuspensionEnded = "suspension_ending" // the voluntary suspension ends
	TopicRequestAnswered = "request_answered"  // an operator answered a request
)

// Topics lists every topic in the order pages show them.
var Topics = []string{TopicPayment, TopicLowBalance, TopicLimited, TopicPromiseEnding, TopicSuspensionEnded, TopicRequestAnswered}

// EventPrefsChanged is the event of a subscriber's new choice.
const EventPrefsChanged = "notify.prefs"

// ErrTopic is a topic or channel a choice names that does not exist.
var ErrTopic error = &derrors.Error{Kind: derrors.Invalid, Code: "notify_topic", Field: "topic", Msg: "no such notification topic or channel"}

// smsTopics are the topics SMS carries by default: the ones about the line
// and money that cannot wait (an SMS costs the provider).
var smsTopics = []string{TopicLowBalance, TopicLimited, TopicPromiseEnding, TopicSuspensionEnded}

// byDefault tells whether topic goes to channel when the subscriber has not
// chosen: e-mail everything (while notify_email is on), Telegram and push
// everything, SMS the urgent ones while notify_sms is on.
func byDefault(topic, channel string, notifyEmail, notifySMS bool) bool {
	switch channel {
	case ChannelEmail:
		return notifyEmail
	case ChannelSMS:
		return notifySMS && slices.Contains(smsTopics, topic)
	}
	return true
}

// Choice is one topic's channels as the subscriber sees them.
type Choice struct {
	Topic    string
	Channels map[string]bool // channel → on
}

// Prefs is an account's choices: every topic, with every channel the
// provider offers, and where the account can be reached.
type Prefs struct {
	Choices []Choice
	// Offered are the channels this Kabinet sends on (e-mail always).
	Offered []string
	// Reachable tells whether the account has an address on a channel
	// (an e-mail, a phone, a linked Telegram chat, a push subscription).
	Reachable map[string]bool
}

// On tells whether topic goes to channel.
func (p Prefs) On(topic, channel string) bool {
	for _, c := range p.Choices {
		if c.Topic == topic {
			return c.Channels[channel]
		}
	}
	return false
}

// Offered is the channels this Kabinet sends on: e-mail (which queues even
// without a server) and every channel added.
func (n *Notifier) Offered() []string {
	var out []string
	for _, ch := range Channels {
		if ch == ChannelEmail || n.HasChannel(ch) {
			out = append(out, ch)
		}
	}
	return out
}

// recipient is an account as fan-out needs it.
type recipient struct {
	billing.Contact
	notifySMS bool
	addr      map[string]string // channel → address
	chosen    map[[2]string]bool
}

func (r *recipient) wants(topic, channel string) bool {
	if v, ok := r.chosen[[2]string{topic, channel}]; ok {
		return v
	}
	return byDefault(topic, channel, r.NotifyEmail, r.notifySMS)
}

// recipients reads accounts ids with their addresses and choices, a
// statement per chunk of ids.
func (n *Notifier) recipients(ctx context.Context, q store.Querier, ids []int64) (map[int64]*recipient, error) {
	out := make(map[int64]*recipient, len(ids))
	for part := range slices.Chunk(ids, 500) {
		marks, args := store.InList(part)
		rows, err := q.Query(ctx, `SELECT id, login, contract_no, name, email, phone, lang, status, notify_email, notify_sms FROM accounts WHERE id IN (`+marks+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("recipients: %w", err)
		}
		for rows.Next() {
			r := &recipient{addr: map[string]string{}}
			if err := rows.Scan(&r.ID, &r.Login, &r.ContractNo, &r.Name, &r.Email, &r.Phone, &r.Lang, &r.Status, &r.NotifyEmail, &r.notifySMS); err != nil {
				rows.Close()
				return nil, fmt.Errorf("recipients: %w", err)
			}
			r.addr[ChannelEmail], r.addr[ChannelSMS] = r.Email, r.Phone
			out[r.ID] = r
		}
		rows.Close()
		if err := n.extras(ctx, q, marks, args, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// extras adds the linked addresses and the choices of the accounts in the
// IN list marks/args to out.
func (n *Notifier) extras(ctx context.Context, q store.Querier, marks string, args []any, out map[int64]*recipient) error {
	query := `SELECT account_id, channel, address FROM notify_addresses WHERE account_id IN (` + marks + `)`
	qargs := args
	for _, ch := range Channels {
		if a := n.addresses(ch); a != "" {
			query += ` UNION ALL SELECT account_id, '` + ch + `', address FROM (` + a + `) x WHERE account_id IN (` + marks + `)`
			qargs = append(qargs, args...)
		}
	}
	rows, err := q.Query(ctx, query, qargs...)
	if err != nil {
		return fmt.Errorf("recipients: %w", err)
	}
	for rows.Next() {
		var id int64
		var ch, a string
		if err := rows.Scan(&id, &ch, &a); err != nil {
			rows.Close()
			return fmt.Errorf("recipients: %w", err)
		}
		if r := out[id]; r != nil && a != "" {
			r.addr[ch] = a
		}
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT account_id, topic, channel, enabled FROM notify_prefs WHERE account_id IN (`+marks+`)`, args...)
	if err != nil {
		return fmt.Errorf("recipients: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t, ch string
		var on bool
		if err := rows.Scan(&id, &t, &ch, &on); err != nil {
			return fmt.Errorf("recipients: %w", err)
		}
		if r := out[id]; r != nil {
			if r.chosen == nil {
				r.chosen = map[[2]string]bool{}
			}
			r.chosen[[2]string{t, ch}] = on
		}
	}
	return rows.Err()
}

// Prefs reads accountID's choices, defaults filled in.
func (n *Notifier) Prefs(ctx context.Context, accountID int64) (Prefs, error) {
	rs, err := n.recipients(ctx, n.db, []int64{accountID})
	if err != nil {
		return Prefs{}, err
	}
	r := rs[accountID]
	if r == nil {
		return Prefs{}, fmt.Errorf("account %d: %w", accountID, derrors.NotFound)
	}
	p := Prefs{Offered: n.Offered(), Reachable: map[string]bool{}}
	for _, ch := range p.Offered {
		p.Reachable[ch] = r.addr[ch] != ""
	}
	for _, t := range Topics {
		c := Choice{Topic: t, Channels: map[string]bool{}}
		for _, ch := range p.Offered {
			c.Channels[ch] = r.wants(t, ch)
		}
		p.Choices = append(p.Choices, c)
	}
	return p, nil
}

// SetPrefs stores accountID's choices: every topic and channel named in
// set (topic → channel → on); those not named keep theirs. A choice equal
// to the default is stored all the same, so that a later change of the
// defaults does not override what the subscriber saw and kept.
func (n *Notifier) SetPrefs(ctx context.Context, accountID int64, set map[string]map[string]bool) error {
	for t, chs := range set {
		if !slices.Contains(Topics, t) {
			return fmt.Errorf("topic %q: %w", t, ErrTopic)
		}
		for ch := range chs {
			if !slices.Contains(Channels, ch) {
				return fmt.Errorf("channel %q: %w", ch, ErrTopic)
			}
		}
	}
	now := n.clock.Now()
	return n.db.Write(ctx, func(tx *store.Tx) error {
		data := map[string]string{}
		for t, chs := range set {
			for ch, on := range chs {
				if _, err := tx.Exec(ctx, `INSERT INTO notify_prefs (account_id, topic, channel, enabled) VALUES (?, ?, ?, ?)
					ON CONFLICT (account_id, topic, channel) DO UPDATE SET enabled = excluded.enabled`, accountID, t, ch, on); err != nil {
					return fmt.Errorf("notification choices of account %d: %w", accountID, err)
				}
				data[t+"."+ch] = fmt.Sprint(on)
			}
		}
		return tx.Emit(ctx, store.Event{Kind: EventPrefsChanged, AccountID: accountID, Data: data, At: now})
	})
}

// LinkTx records where accountID is reached on channel (a Telegram chat id,
// a push subscription's id), replacing the one before, inside tx: the
// package that linked it writes its own event there.
func LinkTx(ctx context.Context, tx *store.Tx, accountID int64, channel, address string, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO notify_addresses (account_id, channel, address, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, channel) DO UPDATE SET address = excluded.address, created_at = excluded.created_at`, accountID, channel, address, at.UTC())
	if err != nil {
		return fmt.Errorf("link account %d on %s: %w", accountID, channel, err)
	}
	return nil
}

// UnlinkTx forgets accountID's address on channel.
func UnlinkTx(ctx context.Context, tx *store.Tx, accountID int64, channel string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM notify_addresses WHERE account_id = ? AND channel = ?`, accountID, channel); err != nil {
		return fmt.Errorf("unlink account %d on %s: %w", accountID, channel, err)
	}
	return nil
}
