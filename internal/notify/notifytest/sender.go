package notifytest

import (
	"context"
	"strconv"
	"sync"

	"github.com/kabinet-billing/kabinet/internal/notify"
)

// Sender is a fake channel: it keeps what it is given and answers as the
// test scripts it.
type Sender struct {
	mu   sync.Mutex
	got  []notify.Message
	errs []error // answers for the next sends, in order (nil: success)
	// Before, when set, runs inside Send before the answer (a test stops
	// the world there, as a crash would).
	Before func(m notify.Message)
}

// Send records m, or fails it as scripted.
func (s *Sender) Send(ctx context.Context, m notify.Message) (string, error) {
	if s.Before != nil {
		s.Before(m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return "", err
		}
	}
	s.got = append(s.got, m)
	return "ref-" + strconv.FormatInt(m.ID, 10), nil
}

// Answer scripts the answers to the next sends: an error fails that send,
// nil lets it through.
func (s *Sender) Answer(errs ...error) {
	s.mu.Lock()
	s.errs = append(s.errs, errs...)
	s.mu.Unlock()
}

// Got returns the messages delivered so far.
func (s *Sender) Got() []notify.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notify.Message(nil), s.got...)
}
