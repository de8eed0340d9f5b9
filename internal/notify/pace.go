package notify

import (
	"math"
	"time"
)

// Limits are a channel's delivery limits.
type Limits struct {
	// PerSecond bounds the messages the channel takes a second, evenly
	// spaced (Telegram: 30 per bot); 0: no bound.
	PerSecond float64
	// PerRecipient is the least time between two messages to one recipient
	// (Telegram: 1 s per chat); 0: none.
	PerRecipient time.Duration
	// Window is how many sends may be under way at once (SMPP's window of
	// unanswered submit_sm; HTTP requests in flight); default 1.
	Window int
}

// TelegramLimits are the Bot API's documented limits: about 30 messages a
// second per bot and one a second per chat.
var TelegramLimits = Limits{PerSecond: 30, PerRecipient: time.Second, Window: 8}

// pacer spaces sends evenly at a rate (a token bucket of one: a message
// every interval, never a burst), on the queue's clock so that tests move
// time instead of sleeping. Not safe for concurrent use: the channel's
// runner owns it.
type pacer struct {
	every time.Duration
	next  time.Time // the earliest time of the next send
	// per recipient: the time of the last send, kept for PerRecipient.
	gap  time.Duration
	last map[string]time.Time
}

func newPacer(l Limits) *pacer {
	p := &pacer{gap: l.PerRecipient, last: map[string]time.Time{}}
	if l.PerSecond > 0 {
		// Rounded up, so that no second ever holds one more.
		p.every = time.Duration(math.Ceil(float64(time.Second) / l.PerSecond))
	}
	return p
}

// slot is when the channel may send next.
func (p *pacer) slot() time.Time { return p.next }

// ready tells whether to may get a message at now, and when it may if not.
func (p *pacer) ready(to string, now time.Time) (bool, time.Time) {
	if p.gap <= 0 {
		return true, now
	}
	t, ok := p.last[to]
	if !ok || !now.Before(t.Add(p.gap)) {
		return true, now
	}
	return false, t.Add(p.gap)
}

// take records a send to to at now (now ≥ slot()).
func (p *pacer) take(to string, now time.Time) {
	if p.every > 0 {
		p.next = later(p.next, now).Add(p.every)
	}
	if p.gap > 0 {
		p.last[to] = now
		// Forget recipients whose gap has passed, so the map holds only
		// the last gap's sends (at 30/s and 1 s: 30 entries).
		if len(p.last) > 1024 {
			for k, t := range p.last {
				if !now.Before(t.Add(p.gap)) {
					delete(p.last, k)
				}
			}
		}
	}
}

// hold stops the channel until t (a 429's retry_after, an outage's backoff).
func (p *pacer) hold(t time.Time) { p.next = later(p.next, t) }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
