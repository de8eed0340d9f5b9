package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ErrNoAddress means the subscriber has no e-mail to write to.
var ErrNoAddress error = derrors.New(derrors.Invalid, "no_email", "no e-mail address")

// ErrNoChannel means a message names a channel this Kabinet has no sender for.
var ErrNoChannel error = derrors.New(derrors.Invalid, "channel", "no such notification channel")

// Statuses of a queued message.
const (
	StatusQueued  = "queued"
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// Options are the Notifier's settings beyond its channels.
type Options struct {
	From           string // the envelope and header sender
	Provider       config.Provider
	PortalURL      string
	MaxAttempts    int // Temporary failures before a message fails; default 8
	LowBalanceDays int // default 3
	// MaxEventAge: events older than this when first read (a long outage)
	// are skipped, since "your speed is limited" a week late misleads.
	MaxEventAge time.Duration // default 72h
	Log         *slog.Logger
}

// Channel is a way out with its sender and limits.
type Channel struct {
	Name   string
	Sender Sender
	Limits Limits
	// AtLeastOnce decides what becomes of a message a crash left "sending"
	// (the sender may or may not have handed it over): true sends it again
	// (e-mail: the same Message-ID, which mail systems recognise), false
	// marks it failed as interrupted and never sends it again (Telegram,
	// SMS: their APIs have no idempotency key, and a duplicate SMS is paid
	// for and seen). The window is one message per send under way.
	AtLeastOnce bool
	// Addresses is a query of (account_id, address) rows telling where each
	// account is reached on the channel, for a channel whose addresses
	// another package keeps (Telegram's linked chats); empty: e-mail and
	// SMS use the account's e-mail and phone, others notify_addresses.
	Addresses string
}

// Notifier queues messages and delivers them.
type Notifier struct {
	db     *store.DB
	clock  clock.Clock
	biller *billing.Biller
	opts   Options
	wake   chan struct{}
	mu     sync.Mutex
	runs   map[string]*runner
	mail   bool // an e-mail sender is set (Sends)
	// Pusher, when set, also gets the events' notices as Web Push, best
	// effort, after their batch commits (see Pusher).
	Pusher Pusher
	// quiet are the capabilities that send their own letter for some
	// payments (autopay's result letter): no "payment received" for those.
	quiet []func(ctx context.Context, q store.Querier, txn int64) (bool, error)
}

// Pusher is Web Push to the subscriber's devices (internal/push): given
// the notices of the events a subscriber with a device is told about,
// once their batch has committed. Best effort: a push that fails is not
// retried (the queue's push channel, when added, is the durable way).
type Pusher interface {
	// Has reports whether the account has a device to push to.
	Has(ctx context.Context, accountID int64) (bool, error)
	Push(ctx context.Context, accountID int64, kind, lang string, l Letter)
}

// QuietPayments registers f, which tells of a payment (by its ledger
// transaction) that its own letter tells the subscriber about it, so that
// no "payment received" message is sent for it too. Register before Run.
func (n *Notifier) QuietPayments(f func(ctx context.Context, q store.Querier, txn int64) (bool, error)) {
	if n == nil {
		return
	}
	n.quiet = append(n.quiet, f)
}

// New makes a Notifier with the e-mail channel over t (nil: letters queue
// and wait). biller gives balances and recommended payments.
func New(db *store.DB, clk clock.Clock, t Transport, biller *billing.Biller, opts Options) *Notifier {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.LowBalanceDays <= 0 {
		opts.LowBalanceDays = 3
	}
	if opts.MaxEventAge <= 0 {
		opts.MaxEventAge = 72 * time.Hour
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.From == "" {
		opts.From = opts.Provider.Email
	}
	n := &Notifier{db: db, clock: clk, biller: biller, opts: opts, wake: make(chan struct{}, 1), runs: map[string]*runner{}}
	if t != nil {
		n.AddChannel(Channel{Name: ChannelEmail, Sender: &Email{Transport: t, From: opts.From, FromName: opts.Provider.Name, Files: n.attachments},
			AtLeastOnce: true})
	}
	return n
}

// AddChannel makes c's messages go out (replacing a channel of that name).
// Call it before Run.
func (n *Notifier) AddChannel(c Channel) {
	if c.Limits.Window <= 0 {
		c.Limits.Window = 1
	}
	token := make([]byte, 6)
	rand.Read(token)
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.Name == ChannelEmail {
		n.mail = true
	}
	n.runs[c.Name] = &runner{n: n, ch: c, pace: newPacer(c.Limits), claim: c.Name + "." + hex.EncodeToString(token),
		sem: make(chan struct{}, c.Limits.Window), wake: make(chan struct{}, 1)}
}

// addresses is channel's Addresses query, if it has one.
func (n *Notifier) addresses(channel string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r := n.runs[channel]; r != nil {
		return r.ch.Addresses
	}
	return ""
}

// HasChannel tells whether messages on channel go out.
func (n *Notifier) HasChannel(channel string) bool {
	if n == nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runs[channel] != nil
}

// FromConfig builds the Notifier from the [mail] and [notify] sections;
// with mail disabled the letters still queue (and show in the back office)
// but are not delivered. Telegram, SMS and push are added by the caller
// with AddChannel.
func FromConfig(db *store.DB, clk clock.Clock, biller *billing.Biller, cfg config.Config) (*Notifier, error) {
	mc := Config(cfg.Mail)
	if mc.Host == "" {
		mc.Disabled = true
	}
	if err := mc.Check(); err != nil {
		return nil, err
	}
	var t Transport
	if !mc.Disabled {
		t = &SMTP{Config: mc}
	}
	portal := cfg.PublicURL
	if portal == "" {
		portal = cfg.Provider.Site
	}
	return New(db, clk, t, biller, Options{From: mc.From, Provider: cfg.Provider, PortalURL: portal,
		MaxAttempts: mc.MaxAttempts, LowBalanceDays: mc.LowBalanceDays}), nil
}

// Mail is one letter to queue.
type Mail struct {
	Kind      string
	AccountID int64
	To        string
	Lang      string
	Letter    Letter
	// DedupKey makes a second enqueue of the same thing a no-op (an event
	// read twice, a reminder job re-run). Empty: always enqueue.
	DedupKey string
	// Attachments travel with the letter (a company's invoice as a PDF);
	// they are stored with it in its transaction.
	Attachments []Attachment
}

// Attachment is a file a letter carries.
type Attachment struct {
	Name        string // file name, e.g. invoice-2026-000123.pdf
	ContentType string // e.g. application/pdf
	Body        []byte
}

// Queued is a message in the queue, for the back office.
type Queued struct {
	ID            int64
	Channel       string
	Kind          string
	AccountID     int64
	To            string
	Subject       string
	Body          string
	Status        string // queued, sending, sent, failed
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	Ref           string
	CreatedAt     time.Time
	SentAt        time.Time
}

// Outgoing is a message to queue on a channel.
type Outgoing struct {
	Channel   string
	Kind      string
	AccountID int64
	To        string
	Subject   string
	Body      string
	// Key makes a second queueing of the same thing a no-op; the channel
	// is added to it, so one key serves every channel of one event.
	Key         string
	BroadcastID int64
}

// EnqueueTx renders m and inserts it in tx, so that a letter exists if and
// only if what it tells about committed. It reports false when DedupKey was
// already queued.
func (n *Notifier) EnqueueTx(ctx context.Context, tx *store.Tx, m Mail) (bool, error) {
	if strings.TrimSpace(m.To) == "" {
		return false, fmt.Errorf("letter %s to account %d: %w", m.Kind, m.AccountID, ErrNoAddress)
	}
	if _, err := mail.ParseAddress(m.To); err != nil {
		return false, fmt.Errorf("letter %s to %q: %w", m.Kind, m.To, err)
	}
	n.fill(&m.Letter)
	subject, body, err := Render(m.Kind, m.Lang, m.Letter)
	if err != nil {
		return false, err
	}
	out := Outgoing{Channel: ChannelEmail, Kind: m.Kind, AccountID: m.AccountID, To: m.To, Subject: subject, Body: body, Key: m.DedupKey}
	if len(m.Attachments) > 0 {
		return n.queueWith(ctx, tx, out, m.Attachments)
	}
	k, err := n.QueueTx(ctx, tx, []Outgoing{out})
	return k > 0, err
}

// queueWith inserts a letter with its attachments.
func (n *Notifier) queueWith(ctx context.Context, tx *store.Tx, m Outgoing, atts []Attachment) (bool, error) {
	now := n.clock.Now().UTC()
	var key, acct any
	if m.Key != "" {
		key = m.Key + ":" + m.Channel
	}
	if m.AccountID != 0 {
		acct = m.AccountID
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO notifications (channel, kind, account_id, to_addr, subject, body, dedup_key, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedup_key) DO NOTHING RETURNING id`, m.Channel, m.Kind, acct, m.To, m.Subject, m.Body, key, now, now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("letter %s to %s: %w", m.Kind, m.To, err)
	}
	for _, a := range atts {
		if _, err := tx.Exec(ctx, `INSERT INTO mail_attachments (mail_id, name, content_type, body) VALUES (?, ?, ?, ?)`, id, a.Name, a.ContentType, a.Body); err != nil {
			return false, fmt.Errorf("letter %s to %s: attachment %s: %w", m.Kind, m.To, a.Name, err)
		}
	}
	tx.OnCommit(func() { n.wakeChannel(m.Channel) })
	return true, nil
}

// attachments reads a queued letter's files.
func (n *Notifier) attachments(ctx context.Context, id int64) ([]Attachment, error) {
	rows, err := n.db.Query(ctx, `SELECT name, content_type, body FROM mail_attachments WHERE mail_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("mail %d: attachments: %w", id, err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.Name, &a.ContentType, &a.Body); err != nil {
			return nil, fmt.Errorf("mail %d: attachments: %w", id, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (n *Notifier) fill(l *Letter) {
	if l.Provider.Name == "" {
		l.Provider = n.opts.Provider
	}
	if l.PortalURL == "" {
		l.PortalURL = n.opts.PortalURL
	}
}

// Enqueue queues m in a transaction of its own.
func (n *Notifier) Enqueue(ctx context.Context, m Mail) (bool, error) {
	var ok bool
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = n.EnqueueTx(ctx, tx, m)
		return err
	})
	return ok, err
}

// QueueTx inserts msgs in tx, a statement per store.ChunkRows of them, and
// returns how many were new (a key queued before queues nothing).
func (n *Notifier) QueueTx(ctx context.Context, tx *store.Tx, msgs []Outgoing) (int, error) {
	now := n.clock.Now().UTC()
	total := 0
	woken := map[string]bool{}
	const cols = 9
	for part := range slices.Chunk(msgs, store.ChunkRows) {
		var q strings.Builder
		q.WriteString(`INSERT INTO notifications (channel, kind, account_id, to_addr, subject, body, dedup_key, broadcast_id, next_attempt_at, created_at) VALUES `)
		args := make([]any, 0, (cols+1)*len(part))
		for i, m := range part {
			var key, acct, bc any
			if m.Key != "" {
				key = m.Key + ":" + m.Channel
			}
			if m.AccountID != 0 {
				acct = m.AccountID
			}
			if m.BroadcastID != 0 {
				bc = m.BroadcastID
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, m.Channel, m.Kind, acct, m.To, m.Subject, m.Body, key, bc, now, now)
			woken[m.Channel] = true
		}
		q.WriteString(" ON CONFLICT (dedup_key) DO NOTHING")
		res, err := tx.Exec(ctx, q.String(), args...)
		if err != nil {
			return total, fmt.Errorf("queue %s to %s: %w", part[0].Kind, part[0].To, err)
		}
		k, _ := res.RowsAffected()
		total += int(k)
	}
	if total > 0 {
		tx.OnCommit(func() {
			for ch := range woken {
				n.wakeChannel(ch)
			}
		})
	}
	return total, nil
}

// Wake asks the running loop to read events and deliver now rather than at
// the next tick.
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
	n.mu.Lock()
	for _, r := range n.runs {
		r.nudge()
	}
	n.mu.Unlock()
}

func (n *Notifier) wakeChannel(ch string) {
	n.mu.Lock()
	r := n.runs[ch]
	n.mu.Unlock()
	if r != nil {
		r.nudge()
	}
}

// backoff is the wait after the nth Temporary failure of a message: 1, 2,
// 4 … minutes, at most two hours.
func backoff(attempt int) time.Duration {
	d := time.Minute << min(max(attempt-1, 0), 10)
	return min(d, 2*time.Hour)
}

// pause is how long a channel rests after its nth Unavailable answer in a
// row that named no wait: 5 s doubling to 10 minutes, so an outage is
// probed by one message every 10 minutes, and the queue catches up soon
// after the service returns.
func pause(n int) time.Duration {
	return min(5*time.Second<<min(max(n-1, 0), 10), 10*time.Minute)
}

// Leases: claimLease reserves queued rows for one runner while they wait
// for their slot (a batch goes out within seconds); sendLease outlives a
// send (sendTimeout) and its settling, after which a row still "sending"
// was left by a crash.
const (
	claimLease  = 2 * time.Minute
	sendLease   = 10 * time.Minute
	sendTimeout = 2 * time.Minute
)

// Interrupted is the reason of a message a crash left "sending" on an
// at-most-once channel.
const Interrupted = "interrupted while sending: delivery unknown, not sent again so as not to send it twice"

// Deliver sends every message that is due now on every channel, within
// their limits, and returns how many were sent and how many attempts
// failed. A rate-limited channel sends what its limit allows at the
// clock's present time; the running loop (Run) waits for the next slot.
func (n *Notifier) Deliver(ctx context.Context) (sent, failed int, err error) {
	for _, r := range n.runners() {
		s0, f0 := r.sent.Load(), r.failed.Load()
		_, err = r.drain(ctx)
		sent += int(r.sent.Load() - s0)
		failed += int(r.failed.Load() - f0)
		if err != nil {
			return sent, failed, err
		}
	}
	return sent, failed, nil
}

// DeliverChannel is Deliver for one channel; it also returns when the
// channel has more to send (zero: nothing due that it knows of).
func (n *Notifier) DeliverChannel(ctx context.Context, channel string) (next time.Time, err error) {
	n.mu.Lock()
	r := n.runs[channel]
	n.mu.Unlock()
	if r == nil {
		return time.Time{}, fmt.Errorf("deliver %s: %w", channel, ErrNoChannel)
	}
	return r.drain(ctx)
}

func (n *Notifier) runners() []*runner {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*runner, 0, len(n.runs))
	for _, name := range Channels {
		if r := n.runs[name]; r != nil {
			out = append(out, r)
		}
	}
	for name, r := range n.runs {
		if !slices.Contains(Channels, name) {
			out = append(out, r)
		}
	}
	return out
}

// runner delivers one channel's messages: claims a batch, paces it, marks
// each "sending" durably before handing it to the sender and records the
// answer after.
type runner struct {
	n     *Notifier
	ch    Channel
	claim string // this runner's claim token
	sem   chan struct{}
	wake  chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex // the fields below; sends finish on other goroutines
	pace    *pacer
	outages int // Unavailable answers in a row
	backlog []Message

	sent, failed atomic.Int64
}

func (r *runner) nudge() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// drain steps until nothing more may go at the clock's present time, waits
// for the sends under way, and returns when to go on (zero: nothing due).
func (r *runner) drain(ctx context.Context) (time.Time, error) {
	for {
		now := r.n.clock.Now()
		next, err := r.step(ctx, now)
		r.wg.Wait()
		if err != nil {
			return time.Time{}, err
		}
		if next.IsZero() || next.After(now) {
			// A send's answer may have paused the channel meanwhile.
			r.mu.Lock()
			slot := r.pace.slot()
			r.mu.Unlock()
			if slot.After(now) && (next.IsZero() || slot.After(next)) {
				next = slot
			}
			return next, nil
		}
	}
}

// step sends what may go at now and returns when to step again: now or
// earlier to go on at once, zero when nothing is due.
func (r *runner) step(ctx context.Context, now time.Time) (time.Time, error) {
	r.mu.Lock()
	slot := r.pace.slot()
	empty := len(r.backlog) == 0
	r.mu.Unlock()
	if slot.After(now) {
		return slot, nil
	}
	if empty {
		if err := r.recoverSends(ctx, now); err != nil {
			return time.Time{}, err
		}
		batch, err := r.claimBatch(ctx, now)
		if err != nil {
			return time.Time{}, err
		}
		if len(batch) == 0 {
			return r.nextDue(ctx, now)
		}
		r.mu.Lock()
		r.backlog = batch
		r.mu.Unlock()
	}
	var wait time.Time
	for {
		r.mu.Lock()
		if slot := r.pace.slot(); slot.After(now) {
			r.mu.Unlock()
			return earliest(wait, slot), nil
		}
		pick := -1
		for i, m := range r.backlog {
			ok, at := r.pace.ready(m.To, now)
			if ok {
				pick = i
				break
			}
			wait = earliest(wait, at)
		}
		if pick < 0 {
			left := len(r.backlog)
			r.mu.Unlock()
			if left == 0 {
				return now, nil // claim the next batch
			}
			return wait, nil
		}
		m := r.backlog[pick]
		r.backlog = slices.Delete(r.backlog, pick, pick+1)
		r.pace.take(m.To, now)
		r.mu.Unlock()
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
		ok, err := r.markSending(ctx, m, now)
		if err != nil || !ok {
			<-r.sem
			if err != nil {
				return time.Time{}, err
			}
			continue
		}
		m.Attempts++
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-r.sem }()
			r.send(context.WithoutCancel(ctx), m)
		}()
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// batchSize: enough for a few seconds at the channel's rate, bounded so a
// claimed batch goes out well within its lease.
func (r *runner) batchSize() int {
	n := 2 * r.ch.Limits.Window
	if ps := r.ch.Limits.PerSecond; ps > 0 {
		n = max(n, int(ps*3))
	}
	return min(max(n, 10), 200)
}

const msgCols = `id, channel, kind, COALESCE(account_id, 0), to_addr, subject, body, attempts, created_at`

func scanMessage(rows interface{ Scan(...any) error }) (Message, error) {
	var m Message
	err := rows.Scan(&m.ID, &m.Channel, &m.Kind, &m.AccountID, &m.To, &m.Subject, &m.Body, &m.Attempts, &m.CreatedAt)
	return m, err
}

// claimBatch reserves the channel's due messages for this runner: on
// PostgreSQL SKIP LOCKED gives instances claiming at once disjoint rows;
// a row leased to another runner is left to it until its lease ends.
func (r *runner) claimBatch(ctx context.Context, now time.Time) ([]Message, error) {
	var out []Message
	now = now.UTC()
	err := r.n.db.Write(ctx, func(tx *store.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `UPDATE notifications SET claim = ?, lease_until = ? WHERE id IN (
			SELECT id FROM notifications WHERE channel = ? AND status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY next_attempt_at, id LIMIT ?`+tx.SkipLocked()+`) RETURNING `+msgCols,
			r.claim, now.Add(claimLease), r.ch.Name, StatusQueued, now, now, r.batchSize())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("%s queue: claim: %w", r.ch.Name, err)
	}
	slices.SortFunc(out, func(a, b Message) int { return int(a.ID - b.ID) })
	return out, nil
}

// nextDue is when the channel's earliest queued message falls due (zero:
// none queued).
func (r *runner) nextDue(ctx context.Context, now time.Time) (time.Time, error) {
	var t store.Time
	err := r.n.db.QueryRow(ctx, `SELECT MIN(next_attempt_at) FROM notifications WHERE channel = ? AND status = ?`, r.ch.Name, StatusQueued).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s queue: %w", r.ch.Name, err)
	}
	if !t.Time.IsZero() && !t.Time.After(now) {
		// Due but leased to another runner: look again after a while.
		return now.Add(claimLease / 4), nil
	}
	return t.Time, nil
}

// markSending records, durably and before the sender is asked, that the
// message is being sent: after a crash the row tells that it may have gone.
func (r *runner) markSending(ctx context.Context, m Message, now time.Time) (bool, error) {
	var k int64
	err := r.n.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE notifications SET status = ?, attempts = attempts + 1, lease_until = ? WHERE id = ? AND claim = ? AND status = ?`,
			StatusSending, now.UTC().Add(sendLease), m.ID, r.claim, StatusQueued)
		if err != nil {
			return err
		}
		k, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%s message %d: %w", r.ch.Name, m.ID, err)
	}
	return k == 1, nil
}

// send hands m to the channel and records the answer.
func (r *runner) send(ctx context.Context, m Message) {
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	ref, sendErr := r.ch.Sender.Send(sctx, m)
	cancel()
	now := r.n.clock.Now().UTC()
	var (
		q    string
		args []any
	)
	if sendErr == nil {
		r.sent.Add(1)
		r.mu.Lock()
		r.outages = 0
		r.mu.Unlock()
		q, args = `status = ?, sent_at = ?, ref = ?, last_error = ''`, []any{StatusSent, now, ref}
	} else {
		r.failed.Add(1)
		f := failure(sendErr)
		msg := truncate(sendErr.Error())
		switch {
		case f.Kind == Permanent || (f.Kind == Temporary && m.Attempts >= r.n.opts.MaxAttempts):
			q, args = `status = ?, last_error = ?`, []any{StatusFailed, msg}
		case f.Kind == Temporary:
			q, args = `status = ?, next_attempt_at = ?, last_error = ?`, []any{StatusQueued, now.Add(backoff(m.Attempts)), msg}
		default: // Unavailable: the channel rests; the message waits, uncounted
			r.mu.Lock()
			r.outages++
			wait := f.RetryAfter
			if wait <= 0 {
				wait = pause(r.outages)
			}
			r.pace.hold(now.Add(wait))
			r.mu.Unlock()
			q, args = `status = ?, attempts = attempts - 1, next_attempt_at = ?, last_error = ?`, []any{StatusQueued, now.Add(wait), msg}
		}
		r.n.opts.Log.Warn("notification not delivered", "channel", r.ch.Name, "id", m.ID, "attempt", m.Attempts, "kind", f.Kind, "err", sendErr)
	}
	args = append(args, m.ID, r.claim, StatusSending)
	err := r.n.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE notifications SET `+q+`, claim = '', lease_until = NULL WHERE id = ? AND claim = ? AND status = ?`, args...)
		return err
	})
	if err != nil {
		// The row stays "sending" and its lease ends: recoverSends settles
		// it by the channel's rule.
		r.n.opts.Log.Error("notification sent but not recorded", "channel", r.ch.Name, "id", m.ID, "sent", sendErr == nil, "err", err)
	}
}

// recoverSends settles the rows a crash left "sending" once their lease
// has ended: sent again on an at-least-once channel, failed as interrupted
// on an at-most-once one.
func (r *runner) recoverSends(ctx context.Context, now time.Time) error {
	now = now.UTC()
	var k int64
	err := r.n.db.Write(ctx, func(tx *store.Tx) error {
		var res interface{ RowsAffected() (int64, error) }
		var err error
		if r.ch.AtLeastOnce {
			res, err = tx.Exec(ctx, `UPDATE notifications SET status = ?, next_attempt_at = ?, claim = '', lease_until = NULL, last_error = ?
				WHERE channel = ? AND status = ? AND lease_until < ?`, StatusQueued, now, "interrupted while sending: sent again", r.ch.Name, StatusSending, now)
		} else {
			res, err = tx.Exec(ctx, `UPDATE notifications SET status = ?, claim = '', lease_until = NULL, last_error = ?
				WHERE channel = ? AND status = ? AND lease_until < ?`, StatusFailed, Interrupted, r.ch.Name, StatusSending, now)
		}
		if err != nil {
			return err
		}
		k, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("%s queue: recover: %w", r.ch.Name, err)
	}
	if k > 0 {
		r.n.opts.Log.Warn("messages interrupted by a crash while sending", "channel", r.ch.Name, "count", k, "sent_again", r.ch.AtLeastOnce)
	}
	return nil
}

// loop runs the channel until ctx ends. One instance at a time delivers a
// channel (a named lock: PostgreSQL's advisory lock across instances), so
// that its rate limit holds for the bot or gateway as a whole; the claims
// alone already keep two instances from sending one message twice.
func (r *runner) loop(ctx context.Context, tick time.Duration) {
	defer r.wg.Wait()
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	for ctx.Err() == nil {
		wait := tick
		if release == nil {
			rel, ok, err := r.n.db.TryLock(ctx, "notify."+r.ch.Name)
			if err != nil {
				r.n.opts.Log.Error("notification channel lock", "channel", r.ch.Name, "err", err)
			}
			if ok {
				release = rel
			}
		}
		if release != nil {
			now := r.n.clock.Now()
			next, err := r.step(ctx, now)
			switch {
			case err != nil && ctx.Err() == nil:
				r.n.opts.Log.Error("notification delivery", "channel", r.ch.Name, "err", err)
			case err != nil:
			case !next.IsZero():
				wait = min(max(next.Sub(now), 0), tick)
			}
		}
		if wait <= 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-r.wake:
		}
		t.Stop()
	}
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

// Sends reports whether letters leave at all: without a [mail] host they
// stay in the queue, and the back office says so instead of "sent".
func (n *Notifier) Sends() bool {
	if n == nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mail
}

// Filter selects messages for List.
type Filter struct {
	AccountID int64  // 0: every account
	Channel   string // "": every channel
	Status    string // "": every status
	Limit     int    // default 100, at most 1000 (Messages) or 500 (Page)
	// Sort (date, to, subject, status, attempts; default date) and Desc
	// order a Page; Offset is its first row. Messages is newest first.
	Sort   string
	Desc   bool
	Offset int
}

// pageSorts are the columns a Page sorts by; id breaks ties so that a page
// never repeats or skips a row.
var pageSorts = map[string]string{"date": "id", "to": "LOWER(to_addr)", "subject": "LOWER(subject)", "status": "status", "attempts": "attempts"}

// List reads the queue, newest first, for the back office; accountID 0
// lists every account's letters, status "" every status.
func (n *Notifier) List(ctx context.Context, accountID int64, status string, limit int) ([]Queued, error) {
	return n.Messages(ctx, Filter{AccountID: accountID, Status: status, Limit: limit})
}

const filterWhere = `(? = 0 OR account_id = ?) AND (? = '' OR channel = ?) AND (? = '' OR status = ?)`

func (f Filter) args() []any {
	return []any{f.AccountID, f.AccountID, f.Channel, f.Channel, f.Status, f.Status}
}

// Messages reads the queue as f says, newest first.
func (n *Notifier) Messages(ctx context.Context, f Filter) ([]Queued, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	return n.messages(ctx, `ORDER BY id DESC LIMIT ?`, append(f.args(), f.Limit)...)
}

// Page is the back office's page of the queue as f says (sorted, from
// f.Offset), and how many messages match in all.
func (n *Notifier) Page(ctx context.Context, f Filter) ([]Queued, int, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	col, ok := pageSorts[f.Sort]
	if !ok {
		col = pageSorts["date"]
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	var total int
	if err := n.db.QueryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE `+filterWhere, f.args()...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("notification queue: %w", err)
	}
	out, err := n.messages(ctx, `ORDER BY `+col+dir+`, id`+dir+` LIMIT ? OFFSET ?`, append(f.args(), f.Limit, max(f.Offset, 0))...)
	return out, total, err
}

// messages reads the filtered queue in the order and bounds of tail.
func (n *Notifier) messages(ctx context.Context, tail string, args ...any) ([]Queued, error) {
	rows, err := n.db.Query(ctx, `SELECT id, channel, kind, COALESCE(account_id, 0), to_addr, subject, body, status, attempts, next_attempt_at, last_error, ref, created_at, sent_at
		FROM notifications WHERE `+filterWhere+` `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("notification queue: %w", err)
	}
	defer rows.Close()
	var out []Queued
	for rows.Next() {
		var q Queued
		var sentAt store.Time
		if err := rows.Scan(&q.ID, &q.Channel, &q.Kind, &q.AccountID, &q.To, &q.Subject, &q.Body, &q.Status, &q.Attempts, &q.NextAttemptAt, &q.LastError, &q.Ref, &q.CreatedAt, &sentAt); err != nil {
			return nil, fmt.Errorf("notification queue: %w", err)
		}
		q.SentAt = sentAt.Time
		out = append(out, q)
	}
	return out, rows.Err()
}

// Counts are the queue's messages by channel and status, for the back office.
func (n *Notifier) Counts(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := n.db.Query(ctx, `SELECT channel, status, COUNT(*) FROM notifications GROUP BY channel, status`)
	if err != nil {
		return nil, fmt.Errorf("notification queue: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var ch, st string
		var k int
		if err := rows.Scan(&ch, &st, &k); err != nil {
			return nil, fmt.Errorf("notification queue: %w", err)
		}
		if out[ch] == nil {
			out[ch] = map[string]int{}
		}
		out[ch][st] = k
	}
	return out, rows.Err()
}
