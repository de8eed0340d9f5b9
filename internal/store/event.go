package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kabinet-billing/kabinet/internal/clock"
)

// Event is a state change other parts react to (RADIUS CoA, notifications).
// It is written to the events table in the transaction that made the change
// and delivered to in-process subscribers after that transaction commits.
type Event struct {
	ID        int64
	Kind      string // e.g. account.limited, account.unlimited, tariff.changed
	AccountID int64
	Data      map[string]string
	At        time.Time
}

// Event kinds emitted by the capabilities.
const (
	EventAccountCreated   = "account.created"
	EventAccountLimited   = "account.limited"
	EventAccountUnlimited = "account.unlimited"
	EventAccountStatus    = "account.status" // blocked, unblocked, frozen, closed
	EventTariffChanged    = "tariff.changed"
	EventPackageOn        = "package.connected"
	EventPackageOff       = "package.disconnected"
	EventBoostStarted     = "boost.started"
	EventBoostEnded       = "boost.ended"
	EventPaymentReceived  = "payment.received"
	EventPasswordChanged  = "password.changed"
	EventPromiseTaken     = "promise.taken" // a promised payment: the line is unlimited until it ends
	EventPromiseEnded     = "promise.ended" // paid, or expired (then the line may be limited again)
	// Voluntary suspension: scheduled (from a date), started (the account
	// frozen), ending (the day before its end: the reminder), ended
	// (resumed at its end or early), cancelled before it started.
	EventSuspensionScheduled = "suspension.scheduled"
	EventSuspensionStarted   = "suspension.started"
	EventSuspensionEnding    = "suspension.ending"
	EventSuspensionEnded     = "suspension.ended"
	EventSuspensionCancelled = "suspension.cancelled"
	EventSuspensionExtended  = "suspension.extended"
	EventRequestAnswered     = "request.answered" // an operator answered a subscriber's request (data: request, subject)
)

type hub struct {
	mu   sync.RWMutex
	subs []func(Event)
}

func (h *hub) publish(e Event) {
	h.mu.RLock()
	subs := h.subs
	h.mu.RUnlock()
	for _, f := range subs {
		f(e)
	}
}

// Subscribe registers fn to receive every event committed through this DB
// handle. fn runs on the committing goroutine: keep it short, hand off work.
func (db *DB) Subscribe(fn func(Event)) {
	db.hub.mu.Lock()
	db.hub.subs = append(db.hub.subs, fn)
	db.hub.mu.Unlock()
}

// Emit records e in the events table within the transaction and delivers it
// to subscribers once the transaction commits.
func (t *Tx) Emit(ctx context.Context, e Event) error {
	return t.EmitMany(ctx, []Event{e})
}

// EmitMany is Emit for several events, in a statement per up to ChunkRows.
func (t *Tx) EmitMany(ctx context.Context, events []Event) error {
	for part := range slices.Chunk(events, ChunkRows) {
		if err := t.emit(ctx, part); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) emit(ctx context.Context, events []Event) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO events (kind, account_id, data, created_at, origin) VALUES `)
	args := make([]any, 0, 5*len(events))
	for i := range events {
		e := &events[i]
		data := "{}"
		if len(e.Data) > 0 {
			b, err := json.Marshal(e.Data)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.Kind, err)
			}
			data = string(b)
		}
		var acct any
		if e.AccountID != 0 {
			acct = e.AccountID
		}
		e.At = e.At.UTC()
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, e.Kind, acct, data, e.At, t.db.origin)
	}
	q.WriteString(" RETURNING id")
	ids, err := IDs(t.Query(ctx, q.String(), args...))
	if err != nil {
		return fmt.Errorf("event %s: %w", events[0].Kind, err)
	}
	if len(ids) != len(events) {
		return fmt.Errorf("event %s: %d ids for %d events", events[0].Kind, len(ids), len(events))
	}
	// Both engines number the rows of one INSERT in VALUES order, rising
	// (SQLite's max rowid + 1 under the write lock, PostgreSQL's sequence);
	// RETURNING alone does not promise that order.
	slices.Sort(ids)
	for i := range events {
		events[i].ID = ids[i]
	}
	t.events = append(t.events, events...)
	return nil
}

// Events reads events with id greater than after, oldest first, for
// consumers catching up (another instance, a restarted notifier).
func (db *DB) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	rows, err := db.Query(ctx, `SELECT id, kind, COALESCE(account_id, 0), data, created_at FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", after, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var data string
		if err := rows.Scan(&e.ID, &e.Kind, &e.AccountID, &data, &e.At); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		if data != "" && data != "{}" {
			json.Unmarshal([]byte(data), &e.Data)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// followWindow is how far behind the newest seen id the follower looks
// again: on PostgreSQL ids are taken in one order and committed in another,
// so a lower id can appear after a higher one was read.
const followWindow = 1000

// Follow delivers to this handle's subscribers the events other processes
// commit — another instance, or `kabinet payment add` beside `kabinet
// serve` — polling every interval until ctx ends. Events this handle wrote
// were delivered at commit and are skipped. It starts from the newest event:
// what happened before is the past, reloaded by the consumers themselves.
func (db *DB) Follow(ctx context.Context, every time.Duration) error {
	var cursor int64
	if err := db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&cursor); err != nil {
		return fmt.Errorf("follow events: %w", err)
	}
	seen := map[int64]bool{}
	clock.Every(ctx, every, func(context.Context) {
		low := max(cursor-followWindow, 0)
		rows, err := db.Query(ctx, `SELECT id, kind, COALESCE(account_id, 0), data, created_at, origin FROM events WHERE id > ? ORDER BY id LIMIT 5000`, low)
		if err != nil {
			return // the database is away for a while (or closing); try again
		}
		var fresh []Event
		for rows.Next() {
			var e Event
			var data, origin string
			if err := rows.Scan(&e.ID, &e.Kind, &e.AccountID, &data, &e.At, &origin); err != nil {
				break
			}
			cursor = max(cursor, e.ID)
			if seen[e.ID] || e.ID <= low {
				continue
			}
			seen[e.ID] = true
			if origin == db.origin {
				continue
			}
			if data != "" && data != "{}" {
				json.Unmarshal([]byte(data), &e.Data)
			}
			fresh = append(fresh, e)
		}
		rows.Close()
		for id := range seen {
			if id <= cursor-followWindow {
				delete(seen, id)
			}
		}
		for _, e := range fresh {
			db.hub.publish(e)
		}
	})
	return nil
}
