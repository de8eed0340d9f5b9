package smpp

import (
	"context"
	"sync"
)

// Sender keeps one session bound, binding again when it drops, and sends
// through it: what the notification queue holds.
type Sender struct {
	Config Config
	mu     sync.Mutex
	s      *Session
}

// NewSender makes a Sender; it binds on the first Send.
func NewSender(cfg Config) *Sender { return &Sender{Config: cfg} }

func (x *Sender) session(ctx context.Context) (*Session, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.s != nil && x.s.Err() == nil {
		return x.s, nil
	}
	if x.s != nil {
		x.Config.withDefaults().Log.Warn("smpp: session ended, binding again", "err", x.s.Err())
	}
	s, err := Dial(ctx, x.Config)
	if err != nil {
		x.s = nil
		return nil, err
	}
	x.s = s
	return s, nil
}

// Send submits text to dest (international digits, no "+") and returns
// the SMSC's message ids, one per part submitted: those after the first
// sent, cut with concatenation reference ref (Session.SubmitRest).
func (x *Sender) Send(ctx context.Context, dest, text string, ref byte, sent int) ([]string, error) {
	s, err := x.session(ctx)
	if err != nil {
		return nil, err
	}
	return s.SubmitRest(ctx, dest, text, ref, sent)
}

// Close unbinds the session, if any.
func (x *Sender) Close() error {
	x.mu.Lock()
	s := x.s
	x.s = nil
	x.mu.Unlock()
	if s != nil {
		return s.Close()
	}
	return nil
}
