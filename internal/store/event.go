package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
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
	EventChargesApplied   = "charges.applied"
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
	if err := t.QueryRow(ctx, `INSERT INTO events (kind, account_id, data, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		e.Kind, acct, data, e.At).Scan(&e.ID); err != nil {
		return fmt.Errorf("event %s: %w", e.Kind, err)
	}
	t.events = append(t.events, e)
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
