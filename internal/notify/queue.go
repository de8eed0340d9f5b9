package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/billing"
	"github.com/kabinet-billing/kabinet/internal/clock"
	"github.com/kabinet-billing/kabinet/internal/config"
	"github.com/kabinet-billing/kabinet/internal/derrors"
	"github.com/kabinet-billing/kabinet/internal/store"
)

// ErrNoAddress means the subscriber has no e-mail to write to.
var ErrNoAddress error = derrors.New(derrors.Invalid, "no_email", "no e-mail address")

// Options are the Notifier's settings beyond the SMTP connection.
type Options struct {
	From           string // the envelope and header sender
	Provider       config.Provider
	PortalURL      string
	MaxAttempts    int // default 8
	LowBalanceDays int // default 3
	// MaxEventAge: events older than this when first read (a long outage)
	// are skipped, since "your speed is limited" a week late misleads.
	MaxEventAge time.Duration // default 72h
	Log         *slog.Logger
}

// Notifier queues letters and delivers them.
type Notifier struct {
	db     *store.DB
	clock  clock.Clock
	sender Sender
	biller *billing.Biller
	opts   Options
	// Pusher, when set, also gets the notices as pushes (see Pusher).
	Pusher Pusher
	wake   chan struct{}
	mu     sync.Mutex // one delivery pass at a time in this process
	// quiet are the capabilities that send their own letter for some
	// payments (autopay's result letter): no "payment received" for those.
	quiet []func(ctx context.Context, q store.Querier, txn int64) (bool, error)
}

// QuietPayments registers f, which tells of a payment (by its ledger
// transaction) that its own letter tells the subscriber about it, so that
// no "payment received" letter is sent for it too. Register before Run.
func (n *Notifier) QuietPayments(f func(ctx context.Context, q store.Querier, txn int64) (bool, error)) {
	if n == nil {
		return
	}
	n.quiet = append(n.quiet, f)
}

// New makes a Notifier. biller gives balances and recommended payments.
func New(db *store.DB, clk clock.Clock, sender Sender, biller *billing.Biller, opts Options) *Notifier {
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
	return &Notifier{db: db, clock: clk, sender: sender, biller: biller, opts: opts, wake: make(chan struct{}, 1)}
}

// FromConfig builds the Notifier from the [mail] section; with mail
// disabled the letters still queue (and show in the back office) but a
// nil-sender Notifier never delivers them.
func FromConfig(db *store.DB, clk clock.Clock, biller *billing.Biller, cfg config.Config) (*Notifier, error) {
	mc := Config(cfg.Mail)
	if mc.Host == "" {
		mc.Disabled = true
	}
	if err := mc.Check(); err != nil {
		return nil, err
	}
	var sender Sender
	if !mc.Disabled {
		sender = &SMTP{Config: mc}
	}
	portal := cfg.PublicURL
	if portal == "" {
		portal = cfg.Provider.Site
	}
	return New(db, clk, sender, biller, Options{From: mc.From, Provider: cfg.Provider, PortalURL: portal,
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
	push        bool // an event's notice: the Pusher gets it too
}

// Attachment is a file a letter carries.
type Attachment struct {
	Name        string // file name, e.g. invoice-2026-000123.pdf
	ContentType string // e.g. application/pdf
	Body        []byte
}

// Queued is a letter in the queue, for the back office.
type Queued struct {
	ID            int64
	Kind          string
	AccountID     int64
	To            string
	Subject       string
	Body          string
	Status        string // queued, sent, failed
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
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
	if m.Letter.Provider.Name == "" {
		m.Letter.Provider = n.opts.Provider
	}
	if m.Letter.PortalURL == "" {
		m.Letter.PortalURL = n.opts.PortalURL
	}
	subject, body, err := Render(m.Kind, m.Lang, m.Letter)
	if err != nil {
		return false, err
	}
	var key, acct any
	if m.DedupKey != "" {
		key = m.DedupKey
	}
	if m.AccountID != 0 {
		acct = m.AccountID
	}
	now := n.clock.Now().UTC()
	if len(m.Attachments) > 0 {
		return n.enqueueWith(ctx, tx, m, subject, body, key, acct, now)
	}
	res, err := tx.Exec(ctx, `INSERT INTO mail_queue (kind, account_id, to_addr, subject, body, dedup_key, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedup_key) DO NOTHING`, m.Kind, acct, m.To, subject, body, key, now, now)
	if err != nil {
		return false, fmt.Errorf("letter %s to %s: %w", m.Kind, m.To, err)
	}
	k, _ := res.RowsAffected()
	if k > 0 {
		tx.OnCommit(n.Wake)
	}
	return k > 0, nil
}

// enqueueWith inserts a letter with its attachments.
func (n *Notifier) enqueueWith(ctx context.Context, tx *store.Tx, m Mail, subject, body string, key, acct any, now time.Time) (bool, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO mail_queue (kind, account_id, to_addr, subject, body, dedup_key, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedup_key) DO NOTHING RETURNING id`, m.Kind, acct, m.To, subject, body, key, now, now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("letter %s to %s: %w", m.Kind, m.To, err)
	}
	for _, a := range m.Attachments {
		if _, err := tx.Exec(ctx, `INSERT INTO mail_attachments (mail_id, name, content_type, body) VALUES (?, ?, ?, ?)`, id, a.Name, a.ContentType, a.Body); err != nil {
			return false, fmt.Errorf("letter %s to %s: attachment %s: %w", m.Kind, m.To, a.Name, err)
		}
	}
	tx.OnCommit(n.Wake)
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

// Wake asks the running loop to deliver now rather than at the next tick.
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// backoff is the wait after the nth failed attempt: 1, 2, 4 … minutes, at
// most two hours, so a mail server down for a night is retried through it.
func backoff(attempt int) time.Duration {
	d := time.Minute << min(attempt-1, 10)
	return min(d, 2*time.Hour)
}

// lease keeps a letter claimed while it is being sent, so that another
// instance does not send it too; a crash mid-send retries after it.
const lease = 10 * time.Minute

// Deliver sends every letter that is due. A failure is retried with backoff
// until MaxAttempts, then the letter is marked failed. It returns how many
// were sent and how many attempts failed.
func (n *Notifier) Deliver(ctx context.Context) (sent, failed int, err error) {
	if n.sender == nil {
		return 0, 0, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for {
		now := n.clock.Now().UTC()
		rows, err := n.db.Query(ctx, `SELECT id, to_addr, subject, body, attempts, next_attempt_at FROM mail_queue WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 50`, now)
		if err != nil {
			return sent, failed, fmt.Errorf("mail queue: %w", err)
		}
		type item struct {
			id             int64
			to, subj, body string
			attempts       int
			due            time.Time
		}
		var batch []item
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.id, &it.to, &it.subj, &it.body, &it.attempts, &it.due); err != nil {
				rows.Close()
				return sent, failed, fmt.Errorf("mail queue: %w", err)
			}
			batch = append(batch, it)
		}
		rows.Close()
		if len(batch) == 0 {
			return sent, failed, nil
		}
		for _, it := range batch {
			claimed, err := n.claim(ctx, it.id, now)
			if err != nil {
				return sent, failed, err
			}
			if !claimed {
				continue
			}
			atts, err := n.attachments(ctx, it.id)
			if err != nil {
				return sent, failed, err
			}
			msg := composeWith(n.opts.Provider.Name, n.opts.From, it.to, it.subj, it.body, now, atts)
			sendErr := n.sender.Send(ctx, n.opts.From, []string{it.to}, msg)
			permanent := isPermanent(sendErr)
			if err := n.settle(ctx, it.id, it.attempts+1, sendErr, permanent); err != nil {
				return sent, failed, err
			}
			if sendErr == nil {
				sent++
				continue
			}
			failed++
			n.opts.Log.Warn("mail not delivered", "id", it.id, "attempt", it.attempts+1, "permanent", permanent, "err", sendErr)
			if !permanent {
				// The server is down or busy: the rest would fail the
				// same way (each after a timeout). Wait for the backoff.
				return sent, failed, nil
			}
		}
	}
}

func (n *Notifier) claim(ctx context.Context, id int64, now time.Time) (bool, error) {
	var k int64
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE mail_queue SET next_attempt_at = ? WHERE id = ? AND status = 'queued' AND next_attempt_at <= ?`, now.Add(lease), id, now)
		if err != nil {
			return err
		}
		k, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("mail %d: claim: %w", id, err)
	}
	return k == 1, nil
}

// isPermanent tells a 5xx answer (no such mailbox, refused) from trouble
// that may pass (4xx, connection errors): retrying a 5xx only repeats it.
func isPermanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

func (n *Notifier) settle(ctx context.Context, id int64, attempts int, sendErr error, permanent bool) error {
	now := n.clock.Now().UTC()
	return n.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		switch {
		case sendErr == nil:
			_, err = tx.Exec(ctx, `UPDATE mail_queue SET status = 'sent', attempts = ?, sent_at = ?, last_error = '' WHERE id = ?`, attempts, now, id)
		case permanent || attempts >= n.opts.MaxAttempts:
			_, err = tx.Exec(ctx, `UPDATE mail_queue SET status = 'failed', attempts = ?, last_error = ? WHERE id = ?`, attempts, truncate(sendErr.Error()), id)
		default:
			_, err = tx.Exec(ctx, `UPDATE mail_queue SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?`, attempts, now.Add(backoff(attempts)), truncate(sendErr.Error()), id)
		}
		if err != nil {
			return fmt.Errorf("mail %d: %w", id, err)
		}
		return nil
	})
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

// Sends reports whether letters leave at all: without a [mail] host they
// stay in the queue, and the back office says so instead of "sent".
func (n *Notifier) Sends() bool { return n != nil && n.sender != nil }

// List reads the queue, newest first, for the back office; accountID 0
// lists every account's letters, status "" every status.
func (n *Notifier) List(ctx context.Context, accountID int64, status string, limit int) ([]Queued, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := n.db.Query(ctx, `SELECT id, kind, COALESCE(account_id, 0), to_addr, subject, body, status, attempts, next_attempt_at, last_error, created_at, sent_at
		FROM mail_queue WHERE (? = 0 OR account_id = ?) AND (? = '' OR status = ?) ORDER BY id DESC LIMIT ?`, accountID, accountID, status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("mail queue: %w", err)
	}
	defer rows.Close()
	var out []Queued
	for rows.Next() {
		var q Queued
		var sentAt store.Time
		if err := rows.Scan(&q.ID, &q.Kind, &q.AccountID, &q.To, &q.Subject, &q.Body, &q.Status, &q.Attempts, &q.NextAttemptAt, &q.LastError, &q.CreatedAt, &sentAt); err != nil {
			return nil, fmt.Errorf("mail queue: %w", err)
		}
		q.SentAt = sentAt.Time
		out = append(out, q)
	}
	return out, rows.Err()
}
