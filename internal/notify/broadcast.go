package notify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/operator"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// Refusals of a broadcast, with the field they are about.
var (
	ErrBroadcastText     error = &derrors.Error{Kind: derrors.Invalid, Code: "broadcast_text", Field: "text", Msg: "the text is empty or longer than 1000 characters"}
	ErrBroadcastAudience error = &derrors.Error{Kind: derrors.Invalid, Code: "broadcast_audience", Field: "audience", Msg: "name one login, city or tariff, or everyone"}
	ErrBroadcastChannel  error = &derrors.Error{Kind: derrors.Invalid, Code: "broadcast_channel", Field: "channel", Msg: "no such channel"}
)

// MaxBroadcast bounds a broadcast's text: an SMS of it is long already.
const MaxBroadcast = 1000

// Audience is who a broadcast goes to: exactly one of its fields.
type Audience struct {
	Login  string
	City   string // the city's code
	Tariff string // the tariff's code
	All    bool
}

// String is the audience as the broadcast's record names it.
func (a Audience) String() string {
	switch {
	case a.Login != "":
		return "login:" + a.Login
	case a.City != "":
		return "city:" + a.City
	case a.Tariff != "":
		return "tariff:" + a.Tariff
	}
	return "all"
}

func (a Audience) check() error {
	k := 0
	for _, s := range []string{a.Login, a.City, a.Tariff} {
		if s != "" {
			k++
		}
	}
	if a.All {
		k++
	}
	if k != 1 {
		return ErrBroadcastAudience
	}
	return nil
}

// where is the audience's condition on accounts a, cities c, tariffs t.
func (a Audience) where() (string, []any) {
	switch {
	case a.Login != "":
		return `a.login = ?`, []any{a.Login}
	case a.City != "":
		return `c.code = ?`, []any{a.City}
	case a.Tariff != "":
		return `t.code = ?`, []any{a.Tariff}
	}
	return `1 = 1`, nil
}

// addressCol is the column that holds the audience's address on channel.
func (n *Notifier) addressCol(channel string) string {
	switch channel {
	case ChannelEmail:
		return `a.email`
	case ChannelSMS:
		return `a.phone`
	}
	if q := n.addresses(channel); q != "" {
		return `COALESCE((SELECT x.address FROM (` + q + `) x WHERE x.account_id = a.id), '')`
	}
	return `COALESCE((SELECT x.address FROM notify_addresses x WHERE x.account_id = a.id AND x.channel = ?), '')`
}

func (n *Notifier) audienceSQL(cols string, aud Audience, channel string) (string, []any) {
	w, wargs := aud.where()
	col := n.addressCol(channel)
	var args []any
	if strings.Contains(col, "?") {
		args = append(args, channel)
	}
	q := `SELECT ` + cols + ` FROM (SELECT a.id, a.lang, a.name, a.login, a.contract_no, ` + col + ` AS addr FROM accounts a
		LEFT JOIN cities c ON c.id = a.city_id JOIN tariffs t ON t.id = a.tariff_id
		WHERE a.status <> 'closed' AND ` + w + `) r WHERE r.addr <> ''`
	return q, append(args, wargs...)
}

// Broadcast is an operators' message to many.
type Broadcast struct {
	// Key names the broadcast: the same key again queues nothing twice.
	// Empty: made of the channel, audience and text.
	Key      string
	Channel  string
	Audience Audience
	Text     string
}

func (b *Broadcast) check(n *Notifier) error {
	b.Text = strings.TrimSpace(b.Text)
	if b.Text == "" || utf8.RuneCountInString(b.Text) > MaxBroadcast {
		return ErrBroadcastText
	}
	if !slices.Contains(Channels, b.Channel) {
		return ErrBroadcastChannel
	}
	if err := b.Audience.check(); err != nil {
		return err
	}
	if b.Key == "" {
		h := sha256.Sum256([]byte(b.Channel + "\x00" + b.Audience.String() + "\x00" + b.Text))
		b.Key = hex.EncodeToString(h[:8])
	}
	return nil
}

// Preview counts the accounts b would reach: those in its audience, not
// closed, with an address on its channel.
func (n *Notifier) Preview(ctx context.Context, b Broadcast) (int, error) {
	if err := b.check(n); err != nil {
		return 0, err
	}
	q, args := n.audienceSQL(`COUNT(*)`, b.Audience, b.Channel)
	var k int
	if err := n.db.QueryRow(ctx, q, args...).Scan(&k); err != nil {
		return 0, fmt.Errorf("broadcast preview: %w", err)
	}
	return k, nil
}

// BroadcastResult is what a broadcast did.
type BroadcastResult struct {
	ID     int64
	Key    string
	Queued int  // messages queued now
	Again  bool // the key had been broadcast before
}

// SendBroadcast queues b's message for every account in its audience, one per
// account, and records the broadcast with its audit entry (actor) in the
// same transaction. The same key again queues only what is missing (an
// account added since), never a message twice.
func (n *Notifier) SendBroadcast(ctx context.Context, actor operator.Actor, b Broadcast) (BroadcastResult, error) {
	if err := b.check(n); err != nil {
		return BroadcastResult{}, err
	}
	res := BroadcastResult{Key: b.Key}
	now := n.clock.Now()
	q, args := n.audienceSQL(`r.id, r.lang, r.name, r.login, r.contract_no, r.addr`, b.Audience, b.Channel)
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		res.Queued = 0
		err := tx.QueryRow(ctx, `SELECT id FROM notify_broadcasts WHERE key = ?`, b.Key).Scan(&res.ID)
		res.Again = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRow(ctx, `INSERT INTO notify_broadcasts (key, channel, target, body, operator, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				b.Key, b.Channel, b.Audience.String(), b.Text, actor.Login, now.UTC()).Scan(&res.ID)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		var msgs []Outgoing
		for rows.Next() {
			var id int64
			var lang, name, login, contract, addr string
			if err := rows.Scan(&id, &lang, &name, &login, &contract, &addr); err != nil {
				rows.Close()
				return err
			}
			l := Letter{Name: name, Login: login, ContractNo: contract, Text: b.Text}
			n.fill(&l)
			m := Outgoing{Channel: b.Channel, Kind: KindBroadcast, AccountID: id, To: addr, BroadcastID: res.ID,
				Key: "broadcast:" + b.Key + ":" + strconv.FormatInt(id, 10)}
			var err error
			if b.Channel == ChannelEmail {
				m.Subject, m.Body, err = Render(KindBroadcast, lang, l)
			} else {
				m.Body, err = RenderShort(KindBroadcast, lang, l)
			}
			if err != nil {
				rows.Close()
				return err
			}
			msgs = append(msgs, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		k, err := n.QueueTx(ctx, tx, msgs)
		if err != nil {
			return err
		}
		res.Queued = k
		if _, err := tx.Exec(ctx, `UPDATE notify_broadcasts SET recipients = recipients + ? WHERE id = ?`, k, res.ID); err != nil {
			return err
		}
		return operator.Audit(ctx, tx, now, actor, operator.Entry{Action: "notify.broadcast", Object: "broadcast:" + strconv.FormatInt(res.ID, 10),
			After: map[string]any{"key": b.Key, "channel": b.Channel, "audience": b.Audience.String(), "text": b.Text, "queued": k, "again": res.Again}})
	})
	if err != nil {
		return res, fmt.Errorf("broadcast %s: %w", b.Key, err)
	}
	return res, nil
}
